"""``image-prior``: a floor that ignores the classifier -- the lesion as the image shows it.

Candidate regions come from :func:`~cam2seg_utils.prompting.prior.compute_prior` (Otsu on the
darkness / pigment channels, vignette and hair handled); each region's box is decoded, the masks
are ranked by :data:`IMAGE_PRIOR_WEIGHTS` (GT-free features without any CAM term, fitted on
validation images), and the winner is refined (:func:`~.refine.refine_from`). When the image
has no candidate region at all (a flat image), the centred box is used.
"""
from __future__ import annotations

from .base import PromptContext, PromptingStrategy, StrategyOutcome, register
from .geometry import centred_box
from .ranking import rank_and_refine
from .scoring import IMAGE_PRIOR_WEIGHTS, LinearScore


def prior_boxes(ctx: PromptContext, fallback_fraction: float = 0.6) -> tuple[list, list[str]]:
    """Boxes of the prior's regions (and the centred box when there is none), with sources."""
    regions = ctx.prior.regions
    boxes = [r.box for r in regions]
    sources = [f"prior:{r.source}#{i}" for i, r in enumerate(regions)]
    if not boxes:
        boxes, sources = [centred_box(ctx.shape, fallback_fraction)], [f"centred:{fallback_fraction:g}"]
    return boxes, sources


@register
class ImagePriorStrategy(PromptingStrategy):
    name = "image-prior"
    uses_classifier = False
    per_cam = False
    description = "best dark / pigmented region of the image itself, refined (no classifier)"

    def __init__(self, rounds: int = 3) -> None:
        self.rounds = int(rounds)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        boxes, sources = prior_boxes(ctx)
        return rank_and_refine(ctx, boxes, sources, LinearScore(IMAGE_PRIOR_WEIGHTS), {}, self.rounds)

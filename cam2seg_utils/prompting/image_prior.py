"""``image-prior``: a floor that ignores the classifier -- the lesion as the image shows it.

Candidate boxes come from the image alone: the regions of
:func:`~cam2seg_utils.prompting.prior.compute_prior` (Otsu on the darkness / pigment channels,
vignette and hair handled) and the centred boxes over 60 % and 80 % of each side (dermoscopy
centres the lesion; a lesion larger than every dark region still gets a box). All are decoded
in one batch and the masks ranked by :data:`~.scoring.IMAGE_PRIOR_WEIGHTS` (GT-free features
without any CAM term, fitted on validation images). ``rounds`` of tight-box re-prompting
(:func:`~.refine.refine_from`) may follow; the validation sweep found 0 best (the region boxes
are already tight, re-prompting shrinks them), so that is the default.
"""
from __future__ import annotations

from .base import PromptContext, PromptingStrategy, StrategyOutcome, register
from .geometry import centred_box
from .ranking import rank_and_refine
from .scoring import IMAGE_PRIOR_WEIGHTS, LinearScore


#: Sides of the centred boxes added to the image's own regions.
CENTRED_FRACTIONS = (0.6, 0.8)


def prior_boxes(ctx: PromptContext) -> tuple[list, list[str]]:
    """Boxes of the prior's regions, then the centred boxes, with their sources."""
    regions = ctx.prior.regions
    boxes = [r.box for r in regions] + [centred_box(ctx.shape, f) for f in CENTRED_FRACTIONS]
    sources = [f"prior:{r.source}#{i}" for i, r in enumerate(regions)] + [f"centred:{f:g}" for f in CENTRED_FRACTIONS]
    return boxes, sources


@register
class ImagePriorStrategy(PromptingStrategy):
    name = "image-prior"
    uses_classifier = False
    per_cam = False
    description = "best dark / pigmented region of the image itself, refined (no classifier)"

    def __init__(self, rounds: int = 0) -> None:
        self.rounds = int(rounds)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        boxes, sources = prior_boxes(ctx)
        return rank_and_refine(ctx, boxes, sources, LinearScore(IMAGE_PRIOR_WEIGHTS), {}, self.rounds)

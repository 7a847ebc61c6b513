"""``prior-cam``: boxes from the image, chosen with the CAM's help.

The paper's idea (the classifier knows where the lesion is) meets the image (it knows where its
borders are): the candidate boxes come from the image alone, exactly as in ``image-prior`` (the
prior's dark / pigmented regions and the centred boxes); the ranking adds the CAM term (share of
the heatmaps' mass inside the mask) with the weights :data:`~.scoring.PRIOR_CAM_WEIGHTS` fitted
on validation images, so the CAM breaks ties between dark regions (a lesion vs a vignette
corner, a ruler, a second naevus). Optional tight-box re-prompting (``rounds``) follows; the
validation sweep found 0 rounds best. Uses every heatmap it is given (``cam`` column: their
names joined by ``+``). Compared with ``image-prior`` it isolates what the CAM adds to the ranking.
"""
from __future__ import annotations

from .base import PromptContext, PromptingStrategy, StrategyOutcome, register
from .image_prior import prior_boxes
from .ranking import rank_and_refine
from .scoring import PRIOR_CAM_WEIGHTS, LinearScore


@register
class PriorCam(PromptingStrategy):
    name = "prior-cam"
    per_cam = False
    description = "image-prior boxes ranked with the CAM's mass as a tie-breaker"

    def __init__(self, rounds: int = 0) -> None:
        self.rounds = int(rounds)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        boxes, sources = prior_boxes(ctx)
        return rank_and_refine(ctx, boxes, sources, LinearScore(PRIOR_CAM_WEIGHTS), ctx.heatmaps, self.rounds,
                               cam="+".join(sorted(ctx.heatmaps)))

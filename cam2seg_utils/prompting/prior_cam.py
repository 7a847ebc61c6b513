"""``prior-cam``: regions from the image, chosen with the CAM's help (the default strategy).

The paper's idea (the classifier knows where the lesion is) meets the image (it knows where its
borders are): candidate regions come from the image-only prior, exactly as in ``image-prior``;
the ranking adds the CAM terms (share of the heatmap's mass inside the mask, heat contrast) with
the weights :data:`~.scoring.PRIOR_CAM_WEIGHTS` fitted on validation images, so the CAM breaks
ties between dark regions (a lesion vs a vignette corner, a ruler, a second naevus). Then the
winner is refined. Uses every heatmap it is given (``cam`` column: their names joined by ``+``).
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
    description = "image-prior regions ranked with the CAM's mass, refined"

    def __init__(self, rounds: int = 3) -> None:
        self.rounds = int(rounds)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        boxes, sources = prior_boxes(ctx)
        return rank_and_refine(ctx, boxes, sources, LinearScore(PRIOR_CAM_WEIGHTS), ctx.heatmaps, self.rounds,
                               cam="+".join(sorted(ctx.heatmaps)))

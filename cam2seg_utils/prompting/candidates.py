"""``candidates``: many boxes per image, ranked without ground truth.

Boxes: for every heatmap given, Algorithm 1's box at each percentile of ``percentiles`` and the
box of the hot component with the most CAM mass at the same percentiles; then the image-only
boxes of ``image-prior`` (the prior's regions and the centred boxes). At most
:data:`~.base.MAX_PROMPTS_PER_IMAGE` boxes, decoded in **one** batched decoder call. Each mask
gets the GT-free features of :mod:`~.scoring`; :data:`~.scoring.CANDIDATE_WEIGHTS` (fitted on
validation images) rank them; ``rounds`` of tight-box re-prompting may follow (0 by the
validation sweep). The best strategy on the validation images, hence the default.
"""
from __future__ import annotations

import numpy as np

from ..prompts import noisy_mask
from .base import MAX_PROMPTS_PER_IMAGE, PromptContext, PromptingStrategy, StrategyOutcome, register
from .geometry import mass_component, tight_box
from .image_prior import prior_boxes
from .ranking import rank_and_refine
from .scoring import CANDIDATE_WEIGHTS, LinearScore


def cam_boxes(heatmaps: dict, percentiles: tuple[float, ...]) -> tuple[list[np.ndarray], list[str]]:
    """Algorithm 1 (all hot pixels) and max-mass-component boxes of each heatmap × percentile."""
    boxes, sources = [], []
    for cam in sorted(heatmaps):
        heat = np.asarray(heatmaps[cam], dtype=np.float64)
        for p in percentiles:
            mask, _ = noisy_mask(heat, p)
            for kind, m in (("all", mask), ("component", mass_component(mask, heat))):
                b = tight_box(m)
                if b is not None:
                    boxes.append(b)
                    sources.append(f"{cam}:p{p:g}:{kind}")
    return boxes, sources


@register
class Candidates(PromptingStrategy):
    name = "candidates"
    per_cam = False
    description = "CAM percentile ladder + components + image-prior regions + centred boxes, ranked GT-free"

    def __init__(self, percentiles: tuple[float, ...] = (30.0, 50.0, 70.0, 90.0), rounds: int = 0) -> None:
        self.percentiles = tuple(float(p) for p in percentiles)
        self.rounds = int(rounds)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        boxes, sources = cam_boxes(ctx.heatmaps, self.percentiles)
        pb, ps = prior_boxes(ctx)
        boxes += pb
        sources += ps
        budget = MAX_PROMPTS_PER_IMAGE - ctx.decoder_prompts - self.rounds
        boxes, sources = boxes[:budget], sources[:budget]
        return rank_and_refine(ctx, boxes, sources, LinearScore(CANDIDATE_WEIGHTS), ctx.heatmaps, self.rounds,
                               cam="+".join(sorted(ctx.heatmaps)))

"""``cam-ensemble``: Algorithm 1 on the mean of the (already min-max normalised) heatmaps.

Each CAM method has its own failure modes (Grad-CAM++ spreads, Grad-CAM peaks); averaging the
``[0, 1]`` maps keeps what they agree on. pytorch-grad-cam's ``aug_smooth`` (test-time
augmentation) and ``eigen_smooth`` (first principal component of the weighted activations) are
options of the CAM computation, not of this strategy; cam2seg's CAM extractor does not expose
them yet, so this ensemble averages the plain maps only.
"""
from __future__ import annotations

import numpy as np

from ..prompts import PromptParams, generate_prompts
from .base import PromptContext, PromptingStrategy, StrategyOutcome, no_points, register


@register
class CamEnsemble(PromptingStrategy):
    name = "cam-ensemble"
    per_cam = False
    description = "Algorithm 1 on the mean of the normalised heatmaps of every CAM given"

    def __init__(self, percentile: float = 50.0) -> None:
        self.percentile = float(percentile)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        names = sorted(ctx.heatmaps)
        mean = np.mean([np.asarray(ctx.heatmaps[n], dtype=np.float64) for n in names], axis=0)
        prompts = generate_prompts(mean, PromptParams(percentile=self.percentile), ctx.rng)
        dec, = ctx.decode_boxes([prompts.box])
        pts, labels = no_points()
        return StrategyOutcome(dec.mask, prompts.box, pts, labels, dec.predicted_iou, "+".join(names),
                               {"used_fallback": bool(prompts.used_fallback)})

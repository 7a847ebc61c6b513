"""``cam-ensemble``: Algorithm 1 on the mean of the (already min-max normalised) heatmaps.

Each CAM method has its own failure modes (Grad-CAM++ spreads, Grad-CAM peaks); averaging the
``[0, 1]`` maps keeps what they agree on. The ensemble averages every heatmap it is given (the
grid's ``strategy_cams``). pytorch-grad-cam's ``aug_smooth`` (test-time augmentation) and
``eigen_smooth`` (first principal component of the weighted activations) act inside the CAM
computation, so they are CAM variants of their own (``"gradcam@aug"``, ``"gradcam++@eigen"``,
``"gradcam@aug-eigen"``; :data:`cam2seg_utils.cams.SMOOTHINGS`): put them in ``cams`` and
``strategy_cams`` and the ensemble averages smoothed maps, alone or beside the plain ones.
"""
from __future__ import annotations

import numpy as np

from .algorithm1 import TUNED_ON, PromptParams, generate_prompts
from .base import PromptContext, PromptingStrategy, StrategyOutcome, no_points, register


@register
class CamEnsemble(PromptingStrategy):
    name = "cam-ensemble"
    per_cam = False
    description = "Algorithm 1 on the mean of the normalised heatmaps of every CAM given"
    tuned_on = TUNED_ON

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

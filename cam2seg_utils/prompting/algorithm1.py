"""``algorithm1``: the paper's Algorithm 1, unchanged (the baseline every strategy is compared to).

Threshold the heatmap at ``percentile`` -> box of the hot pixels (fewer than 4 -> the sampled-point
box) + ``num_points`` sampled points (:func:`cam2seg_utils.prompts.generate_prompts`); decode the
``variant`` (``"box"``, the grid's headline, or ``"box+points"`` as the paper sends, or
``"points"``). Confidence = the segmenter's predicted IoU.
"""
from __future__ import annotations

import numpy as np

from ..prompts import PromptParams, generate_prompts
from .base import PromptContext, PromptingStrategy, StrategyOutcome, no_points, register


@register
class Algorithm1(PromptingStrategy):
    name = "algorithm1"
    description = "the paper's Algorithm 1: percentile box (+ sampled points) of one CAM"

    def __init__(self, percentile: float = PromptParams().percentile, num_points: int = PromptParams().num_points,
                 amplification: float = PromptParams().amplification, variant: str = "box") -> None:
        if variant not in ("box", "box+points", "points"):
            raise ValueError(f"variant must be 'box', 'box+points' or 'points', got {variant!r}")
        self.percentile = float(percentile)
        self.num_points = int(num_points)
        self.amplification = float(amplification)
        self.variant = variant

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        (cam, heat), = ctx.heatmaps.items()
        prompts = generate_prompts(heat, PromptParams(self.percentile, self.num_points, self.amplification), ctx.rng)
        box = prompts.box if self.variant != "points" else None
        pts, labels = (prompts.points, prompts.point_labels) if self.variant != "box" else no_points()
        dec, = ctx.decode(boxes=None if box is None else box[None],
                          points=pts[None] if len(pts) else None,
                          point_labels=labels[None] if len(pts) else None)
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, cam,
                               {"used_fallback": bool(prompts.used_fallback), "threshold": prompts.threshold})

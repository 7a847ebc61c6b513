"""``component``: the box of the hot component with the most CAM mass.

Algorithm 1 boxes *every* pixel above the percentile, so two separate hot spots (the lesion and a
ruler mark, a hair tuft, a vignette corner) give one box spanning both. Here the step-7 mask is
split into 8-connected components and only the one holding the largest sum of heatmap values is
boxed. Confidence = the segmenter's predicted IoU.
"""
from __future__ import annotations

from .algorithm1 import TUNED_ON, noisy_mask
from .base import PromptContext, PromptingStrategy, StrategyOutcome, no_points, register
from .geometry import mass_component, tight_box, whole_image_box


@register
class Component(PromptingStrategy):
    name = "component"
    description = "box of the step-7 connected component holding the most CAM mass"
    tuned_on = TUNED_ON

    def __init__(self, percentile: float = 50.0) -> None:
        self.percentile = float(percentile)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        (cam, heat), = ctx.heatmaps.items()
        mask, _ = noisy_mask(heat, self.percentile)
        box = tight_box(mass_component(mask, heat))
        if box is None:  # cannot happen (the percentile pixel itself is hot); kept for safety
            box = whole_image_box(ctx.shape)
        dec, = ctx.decode_boxes([box])
        pts, labels = no_points()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, cam)

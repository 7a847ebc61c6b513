"""Floors that ignore the classifier, so a reader can see whether the CAM earns its keep.

* ``whole-image``: the box of the whole image (what a CAM with no information gives at a low
  percentile);
* ``centred-box``: the centred box covering ``fraction`` of each side (dermoscopy centres the
  lesion).

The image-only prior (``image-prior``) has its own module.
"""
from __future__ import annotations

from .base import PromptContext, PromptingStrategy, StrategyOutcome, no_points, register
from .geometry import centred_box, whole_image_box


@register
class WholeImage(PromptingStrategy):
    name = "whole-image"
    uses_classifier = False
    per_cam = False
    description = "box of the whole image (no classifier)"

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        box = whole_image_box(ctx.shape)
        dec, = ctx.decode_boxes([box])
        pts, labels = no_points()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou)


@register
class CentredBox(PromptingStrategy):
    name = "centred-box"
    uses_classifier = False
    per_cam = False
    description = "centred box covering a fixed fraction of each side (no classifier)"

    def __init__(self, fraction: float = 0.6) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        self.fraction = float(fraction)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        box = centred_box(ctx.shape, self.fraction)
        dec, = ctx.decode_boxes([box])
        pts, labels = no_points()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou)

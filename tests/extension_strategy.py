"""A new prompting strategy in one file (the extension bar's test): ``test-mass-box``, the tight
box of the pixels at or above the heatmap's mean, decoded once (no ground truth)."""
from __future__ import annotations

import numpy as np

from cam2seg_utils.prompting.base import STRATEGIES, PromptContext, PromptingStrategy, StrategyOutcome, no_points
from cam2seg_utils.prompting.geometry import tight_box, whole_image_box


class MassBox(PromptingStrategy):
    name = "test-mass-box"
    description = "tight box of the heatmap's above-mean pixels"
    tuned_on = "0 (nothing to tune)"

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        (cam, heat), = ctx.heatmaps.items()
        box = tight_box(np.asarray(heat) >= float(np.mean(heat)))
        box = whole_image_box(ctx.shape) if box is None else box
        dec, = ctx.decode_boxes([box])
        pts, labels = no_points()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, cam)


NAME = MassBox.name
STRATEGIES.register(NAME, MassBox)

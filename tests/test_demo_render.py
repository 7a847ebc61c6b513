"""The demo's view (cam2seg_utils.demo.render): mask contour, heatmap colours, the overlay."""
from __future__ import annotations

import numpy as np

from cam2seg_utils.demo.render import mask_contour, render_overlay


def test_render_overlay_mask_contour_and_heatmap():
    image = np.full((40, 50, 3), 100, dtype=np.uint8)
    mask = np.zeros((40, 50), dtype=bool)
    mask[10:30, 15:35] = True
    contour = mask_contour(mask)
    assert contour.sum() == 2 * 20 + 2 * 18  # one-pixel ring of a 20 x 20 square
    heat = np.zeros((40, 50), dtype=np.float32)
    heat[:, 25:] = 1.0
    out = render_overlay(image, heatmap=heat, mask=mask)
    assert out.dtype == np.uint8 and out.shape == (40, 50, 3)
    assert tuple(out[10, 20]) == (255, 235, 0)  # contour colour
    assert out[2, 45, 0] > out[2, 45, 2]  # hot (red) right half
    assert out[2, 5, 2] > out[2, 5, 0]    # cold (blue) left half

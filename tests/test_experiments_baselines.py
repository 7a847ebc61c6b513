"""The ground-truth references (experiments/baselines.py): the tight box, the deep point (also in a
non-convex lesion), the whole-image box, and empty masks refused."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.experiments.baselines import BASELINE_STRATEGY, baseline_prompt, gt_box, gt_point
from cam2seg_utils.prompting.geometry import whole_image_box


def test_gt_prompts():
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:5, 3:9] = True
    assert gt_box(mask).tolist() == [3.0, 2.0, 8.0, 4.0]
    assert gt_point(mask).tolist() == [[6.0, 3.0]]        # centroid (5.5, 3) rounds to x=6 (banker's: 6)
    ring = np.zeros((21, 21), dtype=bool)                  # an annulus: centroid in the hole
    yy, xx = np.mgrid[:21, :21]
    r = np.hypot(yy - 10, xx - 10)
    ring[(r >= 4) & (r <= 9)] = True
    (x, y), = gt_point(ring)
    assert ring[int(y), int(x)]
    assert 6 <= np.hypot(x - 10, y - 10) <= 7             # the middle of the ring (deepest)
    with pytest.raises(ValueError, match="empty"):
        gt_box(np.zeros((3, 3), bool))


def test_baseline_prompts_and_names():
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:5, 3:9] = True
    variant, n, box, points = baseline_prompt("gt-box", mask)
    assert (variant, n, points) == ("box", 0, None) and box.tolist() == [3.0, 2.0, 8.0, 4.0]
    variant, n, box, points = baseline_prompt("whole-image-box", mask)
    assert (variant, n, points) == ("box", 0, None) and box.tolist() == whole_image_box((10, 12)).tolist()
    assert whole_image_box((10, 12)).tolist() == [0.0, 0.0, 11.0, 9.0]
    variant, n, box, points = baseline_prompt("gt-point", mask)
    assert (variant, n, box) == ("points", 1, None) and points.tolist() == [[6.0, 3.0]]
    with pytest.raises(KeyError, match="gt-box"):
        baseline_prompt("gt-mask", mask)
    # every row that reads the ground truth is named an oracle; the whole-image box is a floor
    assert {k: v.startswith("oracle-") for k, v in BASELINE_STRATEGY.items()} == {
        "gt-box": True, "gt-point": True, "whole-image-box": False}

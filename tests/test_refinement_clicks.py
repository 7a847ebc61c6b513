"""The simulated user (cam2seg_utils.refinement.clicks) on hand-made masks: where RITM's clicker
rule puts the next click, positive or negative, and its tie-breaking."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.refinement.clicks import Click, SimulatedUser, next_click_for, padded_distance


def disc(shape, cx, cy, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_a_missed_blob_gets_a_positive_click_at_its_centre():
    shape = (60, 80)
    lesion = disc(shape, 20, 30, 10)
    missed = disc(shape, 60, 25, 7)           # a second part of the lesion the mask misses
    click = next_click_for(lesion, lesion | missed)
    assert click == Click(x=60.0, y=25.0, positive=True)
    assert click.label == 1 and click.pixel == (25, 60)   # (row, col): y is the row


def test_a_false_blob_gets_a_negative_click_at_its_centre():
    shape = (60, 80)
    lesion = disc(shape, 20, 30, 10)
    false = disc(shape, 62, 40, 8)            # the mask also covers something that is not lesion
    click = next_click_for(lesion | false, lesion)
    assert click == Click(x=62.0, y=40.0, positive=False) and click.label == 0


def test_the_widest_error_region_wins_over_a_larger_but_thinner_one():
    # a thin band of 3 x 40 = 120 missed pixels vs a false disc of radius 4 (49 pixels): the disc's
    # centre is 5 px from its boundary, the band's middle only 2 px (RITM: max distance wins)
    shape = (40, 60)
    gt = np.zeros(shape, bool)
    gt[5:8, 10:50] = True
    mask = disc(shape, 30, 25, 4)
    assert (gt & ~mask).sum() > (mask & ~gt).sum()
    assert next_click_for(mask, gt) == Click(x=30.0, y=25.0, positive=False)


def test_the_image_border_counts_as_boundary_and_ties_go_to_the_first_pixel_row_major():
    # missed region = the left 10 columns of a 20 x 20 image: with the border as boundary the
    # distance is min(r + 1, 20 - r, c + 1, 10 - c), largest (5) for rows 4..15, cols 4..5;
    # the first in row-major order is row 4, col 4 (without padding it would be column 0)
    gt = np.zeros((20, 20), bool)
    gt[:, :10] = True
    dist = padded_distance(gt)
    assert dist.max() == 5.0 and dist[4, 4] == 5.0 and dist[0, 0] == 1.0
    assert next_click_for(np.zeros_like(gt), gt) == Click(x=4.0, y=4.0, positive=True)


def test_equal_false_negative_and_false_positive_depth_gives_a_negative_click():
    shape = (40, 80)
    gt = disc(shape, 20, 20, 6)
    mask = disc(shape, 60, 20, 6)             # same disc, moved: equal depths (RITM: fn > fp strictly)
    assert next_click_for(mask, gt) == Click(x=60.0, y=20.0, positive=False)


def test_perfect_mask_has_no_click_and_clicked_pixels_are_not_clicked_again():
    shape = (30, 30)
    gt = disc(shape, 15, 15, 6)
    user = SimulatedUser(gt)
    assert user.next_click(gt.copy()) is None
    first = user.next_click(np.zeros(shape, bool))
    assert first == Click(15.0, 15.0, True)
    second = user.next_click(np.zeros(shape, bool))      # the mask did not change: next deepest pixel
    assert second is not None and second.positive and (second.x, second.y) != (15.0, 15.0)
    assert user.clicks == [first, second]


def test_the_simulated_user_is_deterministic():
    rng = np.random.default_rng(0)
    gt = disc((64, 64), 30, 34, 14)
    masks = [disc((64, 64), 28 + k, 30, 9 + k) ^ (rng.random((64, 64)) > 0.97) for k in range(5)]
    runs = []
    for _ in range(2):
        user = SimulatedUser(gt)
        runs.append([user.next_click(m) for m in masks])
    assert runs[0] == runs[1] and all(c is not None for c in runs[0])


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        next_click_for(np.zeros((4, 4), bool), np.zeros((5, 4), bool))
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        SimulatedUser(np.zeros((2, 3, 4), bool))

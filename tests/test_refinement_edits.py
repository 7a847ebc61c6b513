"""The mask / box edits the refinement modes share (cam2seg_utils.refinement.edits), on
hand-made masks and logits (hand-computed answers), and the box ladder on the real LiteMedSAM."""
from __future__ import annotations

import numpy as np

from cam2seg_utils.refinement.clicks import Click
from cam2seg_utils.refinement.edits import (accept_local, box_ladder, grow_box, point_to_mask, push_boundary,
                                            shift_threshold, shrink_box, touches_box)


def test_accept_local_takes_only_the_change_around_the_click():
    prev = np.zeros((20, 20), bool)
    prev[5:10, 5:10] = True
    proposal = prev.copy()
    proposal[5:10, 10:13] = True      # grows next to the click
    proposal[15:18, 15:18] = True     # and elsewhere, unasked
    proposal[5, 5] = False            # and shrinks elsewhere
    out = accept_local(prev, proposal, Click(11, 7, True))
    expected = prev.copy()
    expected[5:10, 10:13] = True
    np.testing.assert_array_equal(out, expected)
    # the decoder leaves the clicked pixel outside: no answer (the mode falls back)
    assert accept_local(prev, prev, Click(11, 7, True)) is None
    # a radius keeps only the change near the click
    near = accept_local(prev, proposal, Click(12, 7, True), radius=1.0)
    assert near.sum() == prev.sum() + 4 and near[7, 12] and not near[5, 10]


def test_shift_threshold_follows_the_logits_not_a_circle():
    # logits fall off to the right (column index) and are flat across rows: a positive click at
    # column 12 (logit -2) with delta 1 adds every pixel with logit > -3, i.e. columns <= 12,
    # within the radius
    logits = np.tile(10.0 - np.arange(20.0), (20, 1))
    mask = logits > 0                              # columns 0..9
    out = shift_threshold(mask, logits, Click(12, 10, True), delta=1.0, radius=np.inf)
    np.testing.assert_array_equal(out, logits > -3)
    # within radius 3 of (x=12, y=10) only
    near = shift_threshold(mask, logits, Click(12, 10, True), delta=1.0, radius=3.0)
    assert near[10, 12] and near[8, 11] and not near[2, 12] and (near | mask).sum() == near.sum()
    # a negative click inside at column 8 (logit 2) with delta 1 removes the mask pixels with
    # logit < 3 (columns 8, 9) connected to it
    neg = shift_threshold(mask, logits, Click(8, 10, False), delta=1.0)
    np.testing.assert_array_equal(neg, logits > 2.5)


def test_push_boundary_moves_the_outline_by_depth_times_the_click_distance():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:20] = True                     # right edge at column 19
    click = Click(22, 20, True)                   # 3 px outside
    out = push_boundary(mask, click, depth=2.0, reach=0.0, min_radius=1.0)
    assert out[20, 25] and not out[20, 26]        # within 2 * 3 = 6 px of the mask, near the click
    assert out[20, 22] and not out[10, 25]        # not far along the outline (radius 6)
    neg = push_boundary(mask, Click(18, 20, False), depth=2.0, reach=0.0, min_radius=1.0)
    assert not neg[20, 18] and neg[20, 12] and neg[11, 11]


def test_box_edits_of_the_issue():
    box = np.array([10.0, 10.0, 29.0, 19.0])      # 20 wide, 10 high
    np.testing.assert_array_equal(grow_box(box, Click(40, 15, True), 0.1, (50, 60)), [10, 10, 42, 19])
    np.testing.assert_array_equal(shrink_box(box, Click(12, 15, False)), [13, 10, 29, 19])   # left side nearest
    np.testing.assert_array_equal(shrink_box(box, Click(20, 18, False)), [10, 10, 29, 17])   # bottom side nearest
    assert shrink_box(box, Click(5, 5, False)) is None


def test_box_ladder_and_touching():
    boxes = box_ladder(Click(50, 40, True), (0.1, 0.5, 1.0), (80, 100))
    np.testing.assert_allclose(boxes[0], [45.5, 35.5, 54.5, 44.5])
    np.testing.assert_allclose(boxes[2], [0.5, 0, 99, 79])        # side 100 centred at x = 50; y clipped
    m = np.zeros((80, 100), bool)
    m[38:43, 48:53] = True
    assert not touches_box(m, boxes[0], (80, 100))
    m[40, 46] = True
    assert touches_box(m, boxes[0], (80, 100))
    assert not touches_box(np.ones((80, 100), bool), np.array([0.0, 0, 99, 79]), (80, 100))   # image borders do not count


def test_point_to_mask_finds_the_disk_from_its_centre(litemedsam):
    from conftest import synthetic_disk_image

    image, gt = synthetic_disk_image()           # disc centre (150, 110), radius 55
    emb = litemedsam.embed(image)
    comp, box, low = point_to_mask(litemedsam, emb, Click(150, 110, True), [], (0.1, 0.2, 0.4, 0.6, 1.0))
    iou = (comp & gt).sum() / (comp | gt).sum()
    assert iou > 0.8 and comp[110, 150] and low.shape == (256, 256)
    # a negative click inside every candidate's object leaves nothing
    assert point_to_mask(litemedsam, emb, Click(150, 110, True), [Click(140, 110, False)], (0.4, 0.6)) is None

"""Algorithm 1 (prompting/algorithm1.py): hand-checked cases and hypothesis properties; its old
address ``cam2seg_utils.prompts`` is gone."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from cam2seg_utils.prompting.algorithm1 import (MIN_HOT_COORDINATES, PromptParams, generate_prompts,
                                                noisy_mask, sample_points)


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_box_of_hot_pixels_uses_x_as_column_and_y_as_row():
    # Non-square map with a hot rectangle at rows 2..4, columns 6..9: the box must be
    # [x_min=6, y_min=2, x_max=9, y_max=4], not the transposed [2, 6, 4, 9].
    heat = np.zeros((8, 12))
    heat[2:5, 6:10] = 1.0
    p = generate_prompts(heat, PromptParams(percentile=90, num_points=4, amplification=2), _rng())
    assert not p.used_fallback
    np.testing.assert_array_equal(p.box, [6, 2, 9, 4])
    assert p.noisy_mask.sum() == 12 and p.noisy_mask[2:5, 6:10].all()
    # every point sits on a hot pixel: probability there is 1 + eps versus eps elsewhere
    for x, y in p.points:
        assert heat[int(y), int(x)] == 1.0
    np.testing.assert_array_equal(p.point_labels, np.ones(4))


def test_threshold_is_the_percentile_and_mask_is_greater_or_equal():
    heat = np.arange(100, dtype=float).reshape(10, 10) / 99
    mask, thr = noisy_mask(heat, 90)
    assert thr == pytest.approx(np.percentile(heat, 90))
    assert mask.sum() == 10  # values 90..99 out of 0..99


def test_fallback_when_fewer_than_four_hot_pixels():
    heat = np.zeros((20, 30))
    heat[5, 7] = 1.0  # one unique maximum: percentile 100 keeps a single pixel
    p = generate_prompts(heat, PromptParams(percentile=100, num_points=6, amplification=8), _rng(1))
    assert p.used_fallback
    assert p.noisy_mask.sum() == 1 < MIN_HOT_COORDINATES
    # with amplification 8 the peak has probability ~1, so sampled points (and their box) are the peak
    np.testing.assert_array_equal(p.box, [7, 5, 7, 5])
    np.testing.assert_array_equal(p.points, np.tile([7.0, 5.0], (6, 1)))


def test_flat_heatmap_gives_whole_image_box_without_crashing():
    for value in (0.0, 0.5):
        heat = np.full((15, 25), value)
        p = generate_prompts(heat, PromptParams(), _rng())
        np.testing.assert_array_equal(p.box, [0, 0, 24, 14])
        assert p.noisy_mask.all()
        assert np.isfinite(p.points).all()


def test_nan_heatmap_is_rejected_with_a_clear_message():
    heat = np.zeros((4, 4))
    heat[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        generate_prompts(heat, PromptParams(), _rng())


def test_bad_params_and_rng_are_rejected():
    with pytest.raises(ValueError):
        PromptParams(percentile=101)
    with pytest.raises(ValueError):
        PromptParams(num_points=0)
    with pytest.raises(TypeError):
        generate_prompts(np.zeros((4, 4)), PromptParams(), rng=0)


def test_sample_points_restricted_to_box_and_clipped():
    heat = np.ones((10, 10))
    pts = sample_points(heat, 50, 1.0, _rng(), box=np.array([2, 3, 4, 5]))
    assert pts[:, 0].min() >= 2 and pts[:, 0].max() <= 4
    assert pts[:, 1].min() >= 3 and pts[:, 1].max() <= 5
    pts = sample_points(heat, 5, 1.0, _rng(), box=np.array([-5, -5, 100, 100]))
    assert pts.min() >= 0 and pts.max() <= 9


def test_amplification_concentrates_points_on_the_peak():
    yy, xx = np.mgrid[0:64, 0:64]
    heat = np.exp(-((xx - 40) ** 2 + (yy - 20) ** 2) / (2 * 6.0**2))
    low = sample_points(heat, 200, 0.0, _rng(3))   # amplification 0: uniform
    high = sample_points(heat, 200, 8.0, _rng(3))
    d = lambda p: np.hypot(p[:, 0] - 40, p[:, 1] - 20).mean()  # noqa: E731
    assert d(high) < d(low) / 2


heatmaps = arrays(np.float64, st.tuples(st.integers(1, 24), st.integers(1, 24)),
                  elements=st.floats(0, 1, allow_nan=False))
param_st = st.builds(PromptParams, percentile=st.floats(0, 100), num_points=st.integers(1, 8),
                     amplification=st.floats(0, 8))


@settings(max_examples=150, deadline=None)
@given(heat=heatmaps, params=param_st, seed=st.integers(0, 2**32 - 1))
def test_properties_box_and_points_inside_image_and_deterministic(heat, params, seed):
    h, w = heat.shape
    p = generate_prompts(heat, params, np.random.default_rng(seed))
    x0, y0, x1, y1 = p.box
    assert 0 <= x0 <= x1 <= w - 1 and 0 <= y0 <= y1 <= h - 1
    assert p.points.shape == (params.num_points, 2)
    assert (p.points[:, 0] >= 0).all() and (p.points[:, 0] <= w - 1).all()
    assert (p.points[:, 1] >= 0).all() and (p.points[:, 1] <= h - 1).all()
    # points always lie inside the box (in particular when it comes from the threshold branch)
    assert (p.points[:, 0] >= x0).all() and (p.points[:, 0] <= x1).all()
    assert (p.points[:, 1] >= y0).all() and (p.points[:, 1] <= y1).all()
    if not p.used_fallback:
        rows, cols = np.nonzero(p.noisy_mask)
        assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max(), rows.max())
    # same seed -> same prompts
    q = generate_prompts(heat, params, np.random.default_rng(seed))
    np.testing.assert_array_equal(p.box, q.box)
    np.testing.assert_array_equal(p.points, q.points)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), num_points=st.integers(1, 6),
       amp=st.floats(0, 6), seed=st.integers(0, 2**32 - 1))
def test_property_fallback_branch(h, w, num_points, amp, seed):
    # a single strict maximum and percentile 100 -> exactly one hot pixel -> fallback (when H*W > 1)
    rng = np.random.default_rng(seed)
    heat = rng.uniform(0, 0.5, size=(h, w))
    heat[rng.integers(h), rng.integers(w)] = 1.0
    p = generate_prompts(heat, PromptParams(percentile=100, num_points=num_points, amplification=amp),
                         np.random.default_rng(seed))
    assert p.used_fallback
    assert 0 <= p.box[0] <= p.box[2] <= w - 1 and 0 <= p.box[1] <= p.box[3] <= h - 1


def test_the_old_address_of_algorithm1_is_gone():
    """Algorithm 1 has one address, :mod:`cam2seg_utils.prompting.algorithm1`."""
    from pathlib import Path

    import cam2seg_utils

    assert not (Path(cam2seg_utils.__file__).parent / "prompts.py").exists()

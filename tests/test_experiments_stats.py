"""Bootstrap CI and paired Wilcoxon test on hand-checkable numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments.stats import bootstrap_ci, paired_compare, paired_test


def test_bootstrap_constant_values_give_zero_width_interval():
    r = bootstrap_ci([0.4, 0.4, 0.4, 0.4], n_boot=50, rng=0)
    assert (r.mean, r.low, r.high, r.n) == (0.4, 0.4, 0.4, 4)


def test_bootstrap_matches_hand_resampling_and_is_seeded():
    x = np.array([0.0, 1.0])
    r = bootstrap_ci(x, n_boot=7, confidence=0.5, rng=np.random.default_rng(3))
    # the same draws by hand: indices (7, 2), resampled means, 25th / 75th percentiles
    idx = np.random.default_rng(3).integers(0, 2, size=(7, 2))
    means = x[idx].mean(axis=1)
    assert r.mean == 0.5
    assert r.low == pytest.approx(np.percentile(means, 25))
    assert r.high == pytest.approx(np.percentile(means, 75))
    assert bootstrap_ci(x, n_boot=7, confidence=0.5, rng=3) == r
    # every resampled mean of {0, 1} pairs is 0, 0.5 or 1
    assert {r.low, r.high} <= {0.0, 0.25, 0.5, 0.75, 1.0}


def test_bootstrap_edge_cases():
    assert np.isnan(bootstrap_ci([], n_boot=10).mean)
    assert bootstrap_ci([np.nan, 2.0], n_boot=10).mean == 2.0
    with pytest.raises(ValueError):
        bootstrap_ci([1.0], confidence=1.5)


def test_wilcoxon_all_positive_differences_exact_p():
    # differences 1..5 all positive: W- = 0; exact two-sided p = 2 / 2**5 = 0.0625
    a = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    b = a - np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    r = paired_test(a, b)
    assert r.n == 5
    assert r.statistic == 0.0
    assert r.p_value == pytest.approx(0.0625)
    assert r.mean_diff == pytest.approx(3.0) and r.median_diff == pytest.approx(3.0)
    assert paired_test(a, b, alternative="greater").p_value == pytest.approx(1 / 32)


def test_wilcoxon_identical_methods():
    r = paired_test([0.1, 0.5, 0.9], [0.1, 0.5, 0.9])
    assert r.p_value == 1.0 and r.mean_diff == 0.0


def test_paired_compare_aligns_images():
    df = pd.DataFrame({
        "image_id": ["a", "b", "c", "d", "e", "a", "b", "c", "d", "e", "f"],
        "cam": ["x"] * 5 + ["y"] * 6,
        "iou": [2, 4, 6, 8, 10, 1, 2, 3, 4, 5, 99.0],
        "error": [None] * 11,
    })
    r = paired_compare(df, {"cam": "x"}, {"cam": "y"})
    assert r.n == 5 and r.p_value == pytest.approx(0.0625)   # image f has no partner
    dup = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(ValueError, match="several rows"):
        paired_compare(dup, {"cam": "x"}, {"cam": "y"})


def test_cell_ci_is_seeded_by_the_cell_key_only():
    from cam2seg_utils.experiments.stats import cell_ci
    from cam2seg_utils.seeding import stable_seed

    x = np.array([0.1, 0.4, 0.35, 0.9, 0.0, 0.62])
    key = ("zero-shot", "resnet50", "gradcam", "box")
    r = cell_ci(x, key, "iou", n_boot=300)
    # exactly a bootstrap with the generator of stable_seed(seed, metric, *key)
    assert r == bootstrap_ci(x, n_boot=300, rng=np.random.default_rng(stable_seed(0, "iou", *key)))
    assert cell_ci(x.copy(), list(key), "iou", n_boot=300) == r          # the key's values, not its type
    assert cell_ci(x, key, "dice", n_boot=300) != r                      # another metric, another stream
    assert cell_ci(x, ("fine-tuned", *key[1:]), "iou", n_boot=300) != r  # another cell, another stream
    assert cell_ci(x, key, "iou", seed=1, n_boot=300) != r
    assert r.low <= r.mean <= r.high and r.n == 6

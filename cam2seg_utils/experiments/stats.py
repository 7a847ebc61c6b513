"""Uncertainty and paired comparisons for per-image segmentation scores.

* :func:`bootstrap_ci` — percentile bootstrap confidence interval of the mean (resampling images
  with replacement, a seeded ``numpy.random.Generator``).
* :func:`cell_ci` — the CI of one table cell, seeded by the cell's key: the one CI every table of
  the CLI, the README and the book shows, so that a cell has the same interval everywhere.
* :func:`paired_test` — Wilcoxon signed-rank test on per-image paired scores of two methods
  (``scipy.stats.wilcoxon``), for "is method A better than method B on the same images".
* :func:`paired_compare` — the same, pulling the two methods' per-image rows out of a grid table.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..seeding import stable_seed


@dataclass(frozen=True)
class BootstrapCI:
    mean: float
    low: float
    high: float
    n: int
    n_boot: int
    confidence: float

    def as_dict(self) -> dict:
        return asdict(self)


def bootstrap_ci(values, n_boot: int = 2000, confidence: float = 0.95,
                 rng: np.random.Generator | int | None = None) -> BootstrapCI:
    """Percentile bootstrap CI of the mean of ``values`` (1-D, NaNs dropped).

    ``n_boot`` resamples of size n are drawn with replacement by ``rng`` (a Generator, or an int
    seed; ``None`` -> ``stable_seed("bootstrap")``); the interval is the
    ``(1-confidence)/2`` and ``(1+confidence)/2`` percentiles of the resampled means
    (``numpy.percentile``, linear interpolation). Empty input -> NaNs; one value -> a zero-width
    interval at that value.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if x.size == 0:
        return BootstrapCI(float("nan"), float("nan"), float("nan"), 0, n_boot, confidence)
    if rng is None:
        rng = np.random.default_rng(stable_seed("bootstrap"))
    elif not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(int(rng))
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
    return BootstrapCI(float(x.mean()), float(lo), float(hi), int(x.size), n_boot, confidence)


def cell_ci(values, key: Sequence[object], metric: str, seed: int = 0, n_boot: int = 2000) -> BootstrapCI:
    """The 95 % bootstrap CI of one table cell: :func:`bootstrap_ci` of ``values`` (the cell's
    per-image ``metric``, in the table's row order) with the generator seeded by
    ``stable_seed(seed, metric, *key)``.

    ``key`` is the cell's key in the table, the values of its group columns in order (e.g.
    ``("zero-shot", "resnet50", "gradcam")`` for a setting x model x CAM cell). The seed depends on
    nothing else (not on the cell's position in the table, nor on which other cells the table
    has), so the same cell gets the same interval in every table that shows it."""
    rng = np.random.default_rng(stable_seed(seed, metric, *key))
    return bootstrap_ci(values, n_boot=n_boot, rng=rng)


@dataclass(frozen=True)
class PairedTest:
    n: int
    mean_a: float
    mean_b: float
    mean_diff: float         # mean(a - b)
    median_diff: float
    statistic: float         # Wilcoxon W (scipy's: min of the signed-rank sums for two-sided)
    p_value: float
    alternative: str

    def as_dict(self) -> dict:
        return asdict(self)


def paired_test(a, b, alternative: str = "two-sided") -> PairedTest:
    """Wilcoxon signed-rank test of paired scores ``a`` vs ``b`` (same images, same order).

    Pairs with a NaN on either side are dropped. Zero differences follow scipy's default
    (``zero_method="wilcox"``: dropped). When every difference is zero (or no pair is left), the
    methods are indistinguishable on these images: statistic 0 and p = 1.
    """
    from scipy.stats import wilcoxon

    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired_test needs equal lengths, got {a.size} and {b.size}")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    d = a - b
    n = int(a.size)
    mean_a = float(a.mean()) if n else float("nan")
    mean_b = float(b.mean()) if n else float("nan")
    if n == 0 or np.all(d == 0):
        return PairedTest(n, mean_a, mean_b, 0.0 if n else float("nan"),
                          0.0 if n else float("nan"), 0.0, 1.0, alternative)
    res = wilcoxon(a, b, alternative=alternative)
    return PairedTest(n, mean_a, mean_b, float(d.mean()), float(np.median(d)),
                      float(res.statistic), float(res.pvalue), alternative)


def paired_compare(df: pd.DataFrame, method_a: Mapping[str, object], method_b: Mapping[str, object],
                   metric: str = "iou", key: str = "image_id",
                   alternative: str = "two-sided") -> PairedTest:
    """Paired Wilcoxon test between two methods of a grid table.

    ``method_a`` / ``method_b`` are column filters, e.g. ``{"setting": "fine-tuned",
    "model": "tf_efficientnet_lite0", "cam": "gradcam", "prompt_variant": "box"}``; each must
    select at most one row per ``key`` (image). Only images present for both are compared; rows
    with an error are ignored.
    """
    def pick(filt: Mapping[str, object]) -> pd.Series:
        sel = df
        if "error" in sel.columns:
            sel = sel[sel["error"].isna()]
        for col, val in filt.items():
            sel = sel[sel[col] == val]
        if sel[key].duplicated().any():
            raise ValueError(f"filter {dict(filt)} selects several rows per {key}; add columns to it")
        return sel.set_index(key)[metric]

    sa, sb = pick(method_a), pick(method_b)
    common = sa.index.intersection(sb.index).sort_values()
    return paired_test(sa.loc[common].to_numpy(), sb.loc[common].to_numpy(), alternative=alternative)


__all__ = ["BootstrapCI", "bootstrap_ci", "cell_ci", "PairedTest", "paired_test", "paired_compare"]

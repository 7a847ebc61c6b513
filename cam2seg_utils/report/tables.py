"""What every page of the book selects and tests the same way: the grid's rows of one kind, the
CI text of a table, paired Wilcoxon tests. The tables themselves are
:mod:`cam2seg_utils.experiments.summary`'s (the CLI writes the same ones as CSV).
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from ..experiments import summary
from ..experiments.stats import paired_test
from ..viz import format_ci

CI_TEXT = "{} [95% CI]"     # the column of a metric's "mean [low, high]" text


def n_test_images(grid: pd.DataFrame) -> int:
    """How many images the grid has rows of."""
    return int(grid["image_id"].nunique()) if len(grid) else 0


def split_label(grid: pd.DataFrame) -> str:
    """The split(s) the grid's rows name (e.g. ``"Training (held-out test)"``)."""
    splits = sorted(s for s in grid["split"].dropna().unique() if s) if "split" in grid.columns else []
    return "; ".join(splits) or "unknown"


def single_params(config) -> dict[str, float]:
    """The first value of each swept prompt parameter (the one the book's tables show)."""
    return {"percentile": config.percentile[0], "num_points": config.num_points[0],
            "amplification": config.amplification[0]}


def main_variant(config) -> str:
    """The prompt variant the book's headline tables show: ``config.main_prompt_variant``."""
    return config.main_prompt_variant


def cam_rows(grid: pd.DataFrame, prompt_variant: str) -> pd.DataFrame:
    """Error-free Algorithm 1 rows (zero-shot / fine-tuned) of one prompt variant, on the images
    every model x CAM of the setting has (``summary.common_images``: comparisons use the same
    images). The other prompting strategies have their own page (:mod:`.strategies`)."""
    g = summary.algorithm1_rows(summary.ok_rows(grid))
    return summary.common_images(g[g["setting"].isin(summary.CAM_SETTINGS) & (g["prompt_variant"] == prompt_variant)])


def gt_rows(grid: pd.DataFrame) -> pd.DataFrame:
    """Error-free segmenter baseline rows: ``gt-box``, ``gt-point`` and ``whole-image-box``."""
    g = summary.ok_rows(grid)
    return g[g["setting"].isin(summary.GT_SETTINGS)]


def best_rows(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Best-CAM-per-image rows of the config's main prompt variant, both selections (column
    ``selection``), with a ``selection_key`` column (``"oracle"`` | ``"predicted-iou"``)."""
    pv = main_variant(config)
    if cam_rows(grid, pv).empty:
        return pd.DataFrame(columns=[*grid.columns, "selection", "selection_key"])
    parts = [summary.best_per_image(grid, pv, key, **single_params(config)).assign(selection_key=key)
             for key in summary.SELECTIONS]
    return pd.concat(parts, ignore_index=True)


def with_ci_text(table: pd.DataFrame, metrics: Sequence[str] = summary.CI_METRICS) -> pd.DataFrame:
    """``table`` with a ``"<m> [95% CI]"`` text column per metric, from its ``<m>``,
    ``<m>_ci_low`` and ``<m>_ci_high`` columns (a ``summary`` table made with ``ci=True``)."""
    out = table.copy()
    for m in metrics:
        out[CI_TEXT.format(m)] = [format_ci(r[m], r[f"{m}_ci_low"], r[f"{m}_ci_high"]) for _, r in out.iterrows()]
    return out


def ci_table(df: pd.DataFrame, keys: list[str], metrics: Sequence[str] = summary.CI_METRICS) -> pd.DataFrame:
    """Per group of ``keys``: ``n``, each metric's mean with its 95 % CI
    (:func:`cam2seg_utils.experiments.summary.ci_table`, seeded by the cell's key) and its
    ``"<m> [95% CI]"`` text."""
    return with_ci_text(summary.ci_table(df, keys, metrics), metrics)


def paired(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """Paired Wilcoxon test of two per-image series (indexed by image) on their common images."""
    common = a.index.intersection(b.index).sort_values()
    t = paired_test(a.loc[common].to_numpy(), b.loc[common].to_numpy())
    return {"n pairs": t.n, "mean A": t.mean_a, "mean B": t.mean_b, "mean A-B": t.mean_diff,
            "Wilcoxon p": t.p_value}


def paired_vs_reference(rows: pd.DataFrame, reference_cam: str = "randomcam", metric: str = "iou") -> pd.DataFrame:
    """Each CAM (A) against ``reference_cam`` (B) per setting x model: paired Wilcoxon test on
    the per-image ``metric``."""
    out = []
    if rows.empty or reference_cam not in set(rows["cam"]):
        return pd.DataFrame([{"note": f"{reference_cam} not in this grid: no reference to compare with"}])
    for (setting, model), grp in rows.groupby(["setting", "model"], sort=True):
        ref = grp[grp["cam"] == reference_cam].set_index("image_id")[metric]
        for cam, g2 in grp[grp["cam"] != reference_cam].groupby("cam", sort=True):
            out.append({"setting": setting, "model": model, "A": cam, "B": reference_cam,
                        **paired(g2.set_index("image_id")[metric], ref)})
    return pd.DataFrame(out)


def baseline_mean(grid: pd.DataFrame, setting: str, image_ids) -> float:
    """Mean IoU of the baseline ``setting`` (e.g. ``"gt-box"``) on ``image_ids``."""
    g = gt_rows(grid)
    g = g[(g["setting"] == setting) & g["image_id"].isin(set(image_ids))]
    return float(g["iou"].mean()) if len(g) else float("nan")


__all__ = ["CI_TEXT", "n_test_images", "split_label", "single_params", "main_variant", "cam_rows", "gt_rows",
           "best_rows", "with_ci_text", "ci_table", "paired", "paired_vs_reference", "baseline_mean"]

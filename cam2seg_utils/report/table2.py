"""Table 2 with Fig. 6 (notebook 05): the best CAM per image, chosen two ways (the paper's
oracle, which reads the ground truth, and the segmenter's predicted IoU, which does not), and
the IoU distributions that show how the choice removes complete failures.

:func:`table` is Table 2 with 95 % CIs (the CLI's ``best_method.csv``); :func:`paper_table` the
paper's; :func:`tests` the paired tests (oracle vs not, fine-tuned vs zero-shot);
:func:`show_fig6` draws the IoU histograms (:func:`iou_histograms`); :func:`zero_iou_table`
counts complete failures.
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import paper
from ..experiments import summary
from .notebook import show_figure
from .tables import CI_TEXT, best_rows, cam_rows, main_variant, paired, single_params, with_ci_text


def table(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Table 2: per selection x setting x model, ``n`` images, mean precision and recall, IoU and
    Dice with their 95 % CI, and ``n_zero_iou``; empty when the grid has no CAM rows."""
    if cam_rows(grid, main_variant(config)).empty:
        return pd.DataFrame()
    t = with_ci_text(summary.best_method_table(grid, prompt_variant=main_variant(config), ci=True,
                                               **single_params(config)))
    return t[["selection", "setting", "model", "n", "precision", "recall", CI_TEXT.format("iou"),
              CI_TEXT.format("dice"), "n_zero_iou"]]


def paper_table() -> pd.DataFrame:
    """The paper's Table 2 (ISIC 2017 test set; oracle selection; the "ablation" rows from ref. [1])."""
    return paper.table2()


def tests(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Oracle vs non-oracle per setting x model, and fine-tuned vs zero-shot per model x
    selection (paired Wilcoxon tests on the same images)."""
    best = best_rows(grid, config)
    rows = []
    if best.empty:
        return pd.DataFrame()
    for (setting, model), grp in best.groupby(["setting", "model"], sort=True):
        o = grp[grp["selection_key"] == "oracle"].set_index("image_id")["iou"]
        p = grp[grp["selection_key"] == "predicted-iou"].set_index("image_id")["iou"]
        rows.append({"comparison": "oracle (A) vs predicted-IoU (B)", "setting / selection": setting,
                     "model": model, **paired(o, p)})
    for (model, sel), grp in best.groupby(["model", "selection_key"], sort=True):
        ft = grp[grp["setting"] == "fine-tuned"].set_index("image_id")["iou"]
        zs = grp[grp["setting"] == "zero-shot"].set_index("image_id")["iou"]
        if len(ft) and len(zs):
            rows.append({"comparison": "fine-tuned (A) vs zero-shot (B)", "setting / selection": sel,
                         "model": model, **paired(ft, zs)})
    return pd.DataFrame(rows)


def iou_distributions(grid: pd.DataFrame, config) -> dict[str, dict[str, np.ndarray]]:
    """Fig. 6 series per ``"<model> · <setting>"``: all CAM rows, best (oracle), best (predicted IoU)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    best = best_rows(grid, config)
    rows = cam_rows(grid, main_variant(config))
    for (model, setting), grp in rows.groupby(["model", "setting"], sort=True):
        b = best[(best["model"] == model) & (best["setting"] == setting)]
        out[f"{model} · {setting}"] = {
            "all CAMs": grp["iou"].to_numpy(),
            "best CAM (oracle)": b[b["selection_key"] == "oracle"]["iou"].to_numpy(),
            "best CAM (predicted IoU)": b[b["selection_key"] == "predicted-iou"]["iou"].to_numpy(),
        }
    return out


def iou_histograms(values: Mapping[str, Mapping[str, np.ndarray]], bins: int = 20) -> Figure:
    """Fig. 6: per model (one panel each), overlaid IoU histograms of several series
    (e.g. ``{"mobilenetv2_100": {"all methods": ious, "best method": ious}}``)."""
    if not values:
        raise ValueError("iou_histograms needs at least one model")
    n = len(values)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.0 * ncols, 3.0 * nrows), squeeze=False)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for ax, (model, series) in zip(axes.flat, values.items()):
        for label, arr in series.items():
            arr = np.asarray(arr, dtype=float)
            arr = arr[np.isfinite(arr)]
            weights = np.full(len(arr), 1.0 / len(arr)) if len(arr) else None
            ax.hist(arr, bins=edges, alpha=0.55, label=f"{label} (n={len(arr)})", weights=weights)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("IoU")
        ax.set_ylabel("fraction of images")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def show_fig6(grid: pd.DataFrame, config) -> None:
    """Fig. 6 on the page (nothing when the grid has no CAM rows)."""
    hists = iou_distributions(grid, config)
    if hists:
        show_figure(iou_histograms(hists))


def zero_iou_table(grid: pd.DataFrame, config) -> pd.DataFrame | None:
    """Images at IoU 0 per model x method (each CAM, both best-per-image selections), one column
    per setting (the CLI's ``zero_iou.csv``, pivoted); ``None`` when there are none to count."""
    z = summary.zero_iou_counts(grid, prompt_variant=main_variant(config), **single_params(config))
    if z.empty:
        return None
    return z.pivot_table(index=["model", "method"], columns="setting", values="n_zero_iou", aggfunc="sum")


__all__ = ["table", "paper_table", "tests", "iou_distributions", "iou_histograms", "show_fig6", "zero_iou_table"]

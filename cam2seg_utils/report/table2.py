"""Table 2 with Fig. 6 (notebook 05): the best CAM per image, chosen two ways (the paper's
oracle, which reads the ground truth, and the segmenter's predicted IoU, which does not), and
the IoU distributions that show how the choice removes complete failures.

:func:`table` is Table 2 with 95 % CIs (the CLI's ``best_method.csv``); :func:`paper_table` the
paper's; :func:`tests` the paired tests (oracle vs not, fine-tuned vs zero-shot);
:func:`show_fig6` draws the IoU distributions as ECDF small multiples (:func:`iou_ecdfs`);
:func:`randomcam_in_selection` says what the random control does among the candidates;
:func:`zero_iou_table` counts complete failures.
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


#: How a page names each selection rule (both choose among every CAM of the grid, RandomCAM included).
SELECTION_LABELS = {"oracle": "oracle (GT used; RandomCAM among the candidates)",
                    "predicted-iou": "predicted IoU (no GT; RandomCAM among the candidates)"}


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


def iou_ecdfs(values: Mapping[str, Mapping[str, np.ndarray]]) -> Figure:
    """Fig. 6 as small multiples: one panel per ``"<model> · <setting>"``, in each the empirical
    CDF of every series (fraction of images with IoU <= x; a curve further right is better, and
    its height at x = 0 is the share of complete failures). The legend sits below the panels, off
    the curves. ``values``: e.g. ``{"m · fine-tuned": {"all CAMs": ious, "best CAM": ious}}``."""
    if not values:
        raise ValueError("iou_ecdfs needs at least one panel")
    n = len(values)
    ncols = min(n, 2)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.3 * nrows + 0.6), squeeze=False,
                             sharex=True, sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles: dict[str, object] = {}
    for ax, (panel, series) in zip(axes.flat, values.items()):
        for i, (label, arr) in enumerate(series.items()):
            arr = np.sort(np.asarray(arr, dtype=float)[np.isfinite(np.asarray(arr, dtype=float))])
            if not len(arr):
                continue
            x = np.concatenate([[0.0], arr, [1.0]])
            y = np.concatenate([[0.0], np.arange(1, len(arr) + 1) / len(arr), [1.0]])
            (line,) = ax.step(x, y, where="post", color=colors[i % len(colors)], lw=1.6)
            handles.setdefault(label, line)
            ax.plot([0.0], [np.mean(arr == 0.0)], "o", color=colors[i % len(colors)], ms=4)
        ax.set_title(f"{panel} (n={max((len(a) for a in series.values()), default=0)} rows)", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("IoU")
    for ax in axes[:, 0]:
        ax.set_ylabel("fraction with IoU <= x")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def show_fig6(grid: pd.DataFrame, config) -> None:
    """Fig. 6 on the page (nothing when the grid has no CAM rows)."""
    series = iou_distributions(grid, config)
    if series:
        show_figure(iou_ecdfs(series))


def randomcam_in_selection(grid: pd.DataFrame, config) -> pd.DataFrame:
    """What RandomCAM (the random control) does among the candidates of the best-CAM-per-image
    selections, per setting x model: how often each selection picks it, and the mean IoU with it
    among the candidates (Table 2's rows) and without it (the real CAMs only, same images).
    Empty when the grid has no RandomCAM rows."""
    from ..cams.registry import floor_cam

    pv = main_variant(config)
    rows = cam_rows(grid, pv)
    floor = floor_cam()
    if rows.empty or floor not in set(rows["cam"]):
        return pd.DataFrame()
    real = sorted(c for c in set(rows["cam"]) if c != floor)
    out = []
    for key in summary.SELECTIONS:
        with_rc = summary.best_per_image(grid, pv, key, **single_params(config))
        without = summary.best_per_image(grid, pv, key, cams=real, **single_params(config))
        for (setting, model), grp in with_rc.groupby(["setting", "model"], sort=True):
            w = without[(without["setting"] == setting) & (without["model"] == model)]
            w = w[w["image_id"].isin(set(grp["image_id"]))]
            out.append({"selection": SELECTION_LABELS[key], "setting": setting, "model": model, "n": len(grp),
                        "RandomCAM picked": int((grp["cam"] == floor).sum()),
                        "mean IoU, RandomCAM among the candidates": grp["iou"].mean(),
                        "mean IoU, real CAMs only": w["iou"].mean()})
    return pd.DataFrame(out)


def zero_iou_table(grid: pd.DataFrame, config) -> pd.DataFrame | None:
    """Images at IoU 0 per model x method (each CAM, both best-per-image selections), one column
    per setting (the CLI's ``zero_iou.csv``, pivoted); ``None`` when there are none to count."""
    z = summary.zero_iou_counts(grid, prompt_variant=main_variant(config), **single_params(config))
    if z.empty:
        return None
    return z.pivot_table(index=["model", "method"], columns="setting", values="n_zero_iou", aggfunc="sum")


__all__ = ["SELECTION_LABELS", "table", "paper_table", "tests", "iou_distributions", "iou_ecdfs", "show_fig6",
           "randomcam_in_selection", "zero_iou_table"]

"""How many ground-truth masks the ranking weights need (chapter 09): the default strategy's IoU
on the evaluation split when its weights are fitted on ``k`` training masks
(:func:`cam2seg_utils.experiments.strategy_tuning.label_efficiency`, written by ``cam2seg
tune-strategies`` as ``strategy_tuning/label_efficiency.csv``), beside the ground-truth box and
the whole-image box of the same images and the supervised references of the literature (on other
data, drawn as such).

:func:`curve_table` summarises the draws per ``k`` (mean, min, max over the seeded subsets);
:func:`curve_figure` draws it.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .notebook import markdown, show_figure, show_table

#: Supervised references, **other data** (label, IoU, source): drawn dashed, never compared as equals.
SUPERVISED_REFERENCES = (
    ("box regressor trained on every box + MedSAM (dermSAM; ISIC 2018, other data)", 0.71),
    ("ISIC 2017 challenge's supervised segmenters (Jaccard, official test split)", 0.765),
)
CURVE_FILE = Path("strategy_tuning") / "label_efficiency.csv"


def load_curve(folder: str | Path) -> pd.DataFrame:
    """``<folder>/strategy_tuning/label_efficiency.csv`` (empty frame when absent)."""
    path = Path(folder) / CURVE_FILE
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def curve_table(curve: pd.DataFrame) -> pd.DataFrame:
    """Per setting x ``k_masks``: draws, mean / min / max evaluation IoU, the slices and misses
    (means over the draws), and the IoU on the fitting images outside each draw (``heldout``)."""
    if curve.empty:
        return curve
    g = curve.groupby(["setting", "k_masks"], sort=True)
    out = g.agg(draws=("draw", "nunique"), eval_iou=("eval_iou", "mean"), eval_iou_min=("eval_iou", "min"),
                eval_iou_max=("eval_iou", "max"), eval_iou_small=("eval_iou_small", "mean"),
                eval_iou_border=("eval_iou_border", "mean"), eval_misses=("eval_misses", "mean"),
                heldout_iou=("heldout_iou", "mean"), n_eval=("eval_n_images", "max")).reset_index()
    return out


def curve_figure(table: pd.DataFrame, gt_box: float | None = None, whole_image: float | None = None) -> Figure:
    """Evaluation IoU against ``k`` (symlog axis; the bar spans the draws), with the ground-truth
    box and whole-image box of the same images and the supervised references (other data)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for setting, t in table.groupby("setting", sort=True):
        x = t["k_masks"].to_numpy()
        ax.errorbar(x, t["eval_iou"], yerr=[t["eval_iou"] - t["eval_iou_min"], t["eval_iou_max"] - t["eval_iou"]],
                    marker="o", capsize=3, label=f"default strategy, weights fitted on k masks ({setting})")
    if gt_box is not None:
        ax.axhline(gt_box, color="#2ca02c", lw=1.5, label=f"ground-truth box, same images ({gt_box:.3f})")
    if whole_image is not None:
        ax.axhline(whole_image, color="#7f7f7f", lw=1.5, label=f"whole-image box, same images ({whole_image:.3f})")
    for (label, v), color in zip(SUPERVISED_REFERENCES, ("#9467bd", "#d62728")):
        ax.axhline(v, color=color, ls="--", lw=1, label=f"{label}: {v:.2f}")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(-0.3, max(float(table["k_masks"].max()), 1.0) * 1.6)   # no negative k on the axis
    ax.set_xlabel("k: training-split masks that fitted the ranking weights (0 = a priori)")
    ax.set_ylabel("mean IoU, evaluation split")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def show_curve(folder: str | Path, grid: pd.DataFrame) -> None:
    """The label-efficiency table and figure on the page (a sentence when the run folder has no
    ``tune-strategies`` output)."""
    table = curve_table(load_curve(folder))
    if table.empty:
        markdown(f"*No `{CURVE_FILE.as_posix()}` in this run: run `cam2seg tune-strategies` with the same "
                 "profile to add the label-efficiency curve.*")
        return
    # misses are a mean over the draws: shown as the number it is ("2", "1.4"), not "2.000"
    show_table(table.assign(eval_misses=[f"{v:.1f}".rstrip("0").rstrip(".") for v in table["eval_misses"]]), empty="")
    from ..experiments import summary

    ok = summary.ok_rows(grid)
    gt = ok.loc[ok["setting"] == "gt-box", "iou"]
    whole = ok.loc[ok["setting"] == "whole-image-box", "iou"]
    show_figure(curve_figure(table, float(gt.mean()) if len(gt) else None,
                             float(whole.mean()) if len(whole) else None))


__all__ = ["SUPERVISED_REFERENCES", "load_curve", "curve_table", "curve_figure", "show_curve"]

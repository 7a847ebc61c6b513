"""The segmenter's baselines (notebook 06, and beside every results table): the same segmenter
on the same images prompted without a CAM: the tight ground-truth box and one ground-truth point
(oracles: the ceiling of box / point prompting) and the whole-image box (no information: the
floor). They say how hard the images are, so every number of ours is read beside them.

:func:`beside` is the short table other pages show next to their results; :func:`table` the full
one (the CLI's ``gt_baselines.csv`` with CIs); :func:`gt_vs_cam` tests the ground-truth box
against the best CAM per image; :func:`paper_rows` the paper's reference rows (quoted from
ref. [1]).
"""
from __future__ import annotations

import pandas as pd

from .. import paper
from ..experiments import summary
from .tables import CI_TEXT, best_rows, ci_table, gt_rows, paired, split_label, with_ci_text

ORDER = {"gt-box": 0, "gt-point": 1, "whole-image-box": 2}


def beside(grid: pd.DataFrame, image_ids=None) -> pd.DataFrame:
    """The baselines on the same images as a result (``image_ids``; default: every image of the
    grid), one row each in the order GT box, GT point, whole-image box, with the split, the
    number of images and IoU / Dice with their 95 % CI."""
    g = gt_rows(grid)
    if image_ids is not None:
        g = g[g["image_id"].isin(set(image_ids))]
    if g.empty:
        return pd.DataFrame([{"note": "no segmenter baseline rows in this grid"}])
    t = ci_table(g, ["setting", "segmenter"])
    t.insert(0, "split", split_label(g))
    t = t.sort_values("setting", key=lambda s: s.map(ORDER)).rename(columns={"setting": "baseline (same images)"})
    return t[["split", "baseline (same images)", "segmenter", "n", CI_TEXT.format("iou"), CI_TEXT.format("dice")]]


def table(grid: pd.DataFrame) -> pd.DataFrame:
    """Every baseline x segmenter: split, ``n``, mean precision and recall, IoU and Dice with their
    95 % CI; empty when the grid has no baseline rows."""
    rows = gt_rows(grid)
    if rows.empty:
        return pd.DataFrame()
    t = with_ci_text(summary.gt_baseline_table(grid, ci=True))
    t.insert(0, "split", split_label(rows))
    return t[["split", "setting", "segmenter", "n", "precision", "recall", CI_TEXT.format("iou"), CI_TEXT.format("dice")]]


def gt_vs_cam(grid: pd.DataFrame, config) -> pd.DataFrame:
    """GT box (A) against the non-oracle best CAM (B) per setting x model (same segmenter,
    same images; paired Wilcoxon test)."""
    best = best_rows(grid, config)
    gt = gt_rows(grid)
    gt = gt[gt["setting"] == "gt-box"]
    if gt.empty or best.empty:
        return pd.DataFrame([{"note": "no GT-box rows or no CAM rows in this grid"}])
    a = gt.groupby("image_id")["iou"].first()
    rows = []
    nonoracle = best[best["selection_key"] == "predicted-iou"]
    for (setting, model), grp in nonoracle.groupby(["setting", "model"], sort=True):
        rows.append({"A": "gt-box", "B": "best CAM (predicted IoU)", "setting": setting, "model": model,
                     **paired(a, grp.set_index("image_id")["iou"])})
    return pd.DataFrame(rows)


def paper_rows() -> pd.DataFrame:
    """The paper's reference rows (SAM-base, MedSAM-base; not measured by its authors, from ref. [1])."""
    return paper.table2().query("setting == 'ablation'")[["model", "iou", "dice", "source"]]


__all__ = ["ORDER", "beside", "table", "gt_vs_cam", "paper_rows"]

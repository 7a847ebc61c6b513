"""The tidy tables of the ``hitl`` experiment (from ``hitl.parquet``, :mod:`.hitl`).

Definitions (per start x refinement mode x image slice, over the images of the slice):

* ``miou@k``: mean IoU after ``k`` clicks (``k = 0``: the start's mask), with a 95 % percentile
  bootstrap CI over images in ``curves`` (:func:`.stats.cell_ci`, the one CI of a table cell,
  keyed by ``("hitl", start, mode, slice, k)``);
* ``noc@85`` / ``noc@90``: the mean **number of clicks** to reach IoU >= 0.85 / 0.90: per image
  the smallest ``k`` in ``0..max_clicks`` whose IoU reaches it (0 when the start already does),
  ``max_clicks`` (20) when it is never reached (the benchmarks' convention);
* ``never@85`` / ``never@90``: the share of images that never reach it within ``max_clicks``;
* ``worse_clicks``: the share of the clicks made (the simulated user clicks while an error is
  left) after which the image's IoU is lower than before the click;
* ``mean_falls``: for how many ``k`` the **mean** IoU after ``k`` clicks is lower than after
  ``k - 1`` (the bar: 0, in every mode).

Slices: those of the strategies' tables (:data:`.summary.SLICES`): all images, small lesions
(ground truth < 10 % of the image), lesions touching the image border (a slice without images
gets no rows).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stats import cell_ci
from .summary import SLICES

THRESHOLDS = (0.85, 0.90)
REPORT_CLICKS = (0, 1, 3, 5, 10, 20)


def _pct(t: float) -> str:
    return f"{round(t * 100):d}"


def iou_matrix(table: pd.DataFrame, max_clicks: int) -> dict[tuple[str, str], pd.DataFrame]:
    """``{(start, mode): frame}`` with one row per image: ``iou@0..iou@max_clicks``, the number
    of worse clicks / clicks made, and the slice descriptors. Error rows are left out."""
    ok = table[table["error"].isna() & (table["click"] >= 0)]
    out = {}
    for (start, mode), g in ok.groupby(["start", "mode"], sort=False):
        wide = g.pivot_table(index="image_id", columns="click", values="iou", aggfunc="first")
        wide = wide.reindex(columns=range(max_clicks + 1))
        made = g[g["click"] > 0].assign(made=lambda d: d["click_positive"].notna())
        made_n = made.groupby("image_id")["made"].sum()
        vals = wide.to_numpy(dtype=np.float64)
        worse = (np.diff(vals, axis=1) < -1e-12) & made.pivot_table(
            index="image_id", columns="click", values="made", aggfunc="first").reindex(
            index=wide.index, columns=range(1, max_clicks + 1)).fillna(False).to_numpy(dtype=bool)
        desc = g.groupby("image_id")[["gt_area_fraction", "gt_border_fraction"]].first().reindex(wide.index)
        frame = pd.DataFrame(vals, index=wide.index, columns=[f"iou@{k}" for k in range(max_clicks + 1)])
        frame["worse"] = worse.sum(axis=1)
        frame["made"] = made_n.reindex(wide.index).fillna(0).to_numpy()
        out[(start, mode)] = pd.concat([frame, desc], axis=1).reset_index()
    return out


def noc(ious: np.ndarray, threshold: float, max_clicks: int) -> np.ndarray:
    """Per image (rows of ``ious`` ``(n, max_clicks + 1)``): the first ``k`` with IoU >=
    ``threshold``, ``max_clicks`` when none."""
    hit = ious >= threshold
    first = np.argmax(hit, axis=1)
    return np.where(hit.any(axis=1), first, max_clicks).astype(np.float64)


def summary_tables(table: pd.DataFrame, max_clicks: int = 20, n_boot: int = 2000) -> dict[str, pd.DataFrame]:
    """``{"curves": ..., "noc": ...}`` (module docstring), tidy, one row per start x mode x slice
    (x click for ``curves``)."""
    curves, nocs = [], []
    for (start, mode), wide in iou_matrix(table, max_clicks).items():
        for slice_name, pick in SLICES.items():
            sel = wide[pick(wide)]
            ious = sel[[f"iou@{k}" for k in range(max_clicks + 1)]].to_numpy(dtype=np.float64)
            n = len(sel)
            if n == 0 and slice_name != "all":      # an empty slice gets no rows
                continue
            means = ious.mean(axis=0) if n else np.full(max_clicks + 1, np.nan)
            for k in range(max_clicks + 1):
                ci = cell_ci(ious[:, k], ("hitl", start, mode, slice_name, k), "iou", n_boot=n_boot)
                curves.append({"start": start, "mode": mode, "slice": slice_name, "click": k, "n": n,
                               "miou": ci.mean, "ci_low": ci.low, "ci_high": ci.high})
            row = {"start": start, "mode": mode, "slice": slice_name, "n": n}
            for k in REPORT_CLICKS:
                if k <= max_clicks:
                    row[f"miou@{k}"] = float(means[k])
            for t in THRESHOLDS:
                v = noc(ious, t, max_clicks) if n else np.array([])
                row[f"noc@{_pct(t)}"] = float(v.mean()) if n else float("nan")
                row[f"never@{_pct(t)}"] = float(np.mean(ious.max(axis=1) < t)) if n else float("nan")
            made = float(sel["made"].sum())
            row["clicks_made"] = int(made)
            row["worse_clicks"] = float(sel["worse"].sum() / made) if made else float("nan")
            row["mean_falls"] = int((np.diff(means) < -1e-12).sum()) if n else 0
            nocs.append(row)
    return {"curves": pd.DataFrame(curves), "noc": pd.DataFrame(nocs)}


def verdict(noc_table: pd.DataFrame, mode: str, start: str = "default-strategy", reference: str = "whole-image",
            threshold: str = "85", slice_name: str = "all") -> dict[str, float]:
    """How many clicks ``start`` saves against ``reference`` with ``mode`` (NoC@threshold and the
    never-reached shares of both)."""
    sel = noc_table[(noc_table["mode"] == mode) & (noc_table["slice"] == slice_name)].set_index("start")
    if start not in sel.index or reference not in sel.index:
        raise KeyError(f"the NoC table has no {start!r} / {reference!r} rows for mode {mode!r}")
    a, b = sel.loc[start], sel.loc[reference]
    return {"noc_start": float(a[f"noc@{threshold}"]), "noc_reference": float(b[f"noc@{threshold}"]),
            "clicks_saved": float(b[f"noc@{threshold}"] - a[f"noc@{threshold}"]),
            "never_start": float(a[f"never@{threshold}"]), "never_reference": float(b[f"never@{threshold}"]),
            "n": int(a["n"])}


__all__ = ["THRESHOLDS", "REPORT_CLICKS", "iou_matrix", "noc", "summary_tables", "verdict"]

"""The grid table's schema: its columns, their dtypes and order, and its parquet files.

One row per image x setting x model x CAM x prompt parameters x prompt variant (and one per
strategy run and baseline); the columns are :data:`COLUMNS` (described in
``docs/ARCHITECTURE.md``). :func:`coerce_table` gives every frame the same dtypes, so that
shards, merged tables and published snapshots compare equal.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_open
from .config import ExperimentConfig

STRING_COLUMNS = ["image_id", "split", "setting", "model", "weights", "cam", "strategy", "prompt_variant",
                  "segmenter", "predicted_label", "points", "strategy_details", "error", "scorecam_selection"]
FLOAT_COLUMNS = ["percentile", "amplification", "predicted_prob", "box_x0", "box_y0", "box_x1",
                 "box_y1", "seg_predicted_iou", "precision", "recall", "f1", "iou", "dice",
                 "t_cam_s", "t_prompt_s", "t_decoder_s", "gt_area_fraction", "gt_border_fraction",
                 "scorecam_channels", "ablation_ratio"]
INT_COLUMNS = ["num_points", "predicted_class"]
BOOL_COLUMNS = ["used_fallback"]
COLUMNS = ["image_id", "split", "setting", "model", "weights", "cam", "strategy", "prompt_variant", "percentile",
           "num_points", "amplification", "segmenter", "predicted_class", "predicted_label",
           "predicted_prob", "box_x0", "box_y0", "box_x1", "box_y1", "points", "used_fallback",
           "seg_predicted_iou", "precision", "recall", "f1", "iou", "dice", "t_cam_s", "t_prompt_s",
           "t_decoder_s", "strategy_details", "gt_area_fraction", "gt_border_fraction", "error",
           "scorecam_channels", "scorecam_selection", "ablation_ratio"]
# the CAM parameters of the run, in every row (scorecam_channels NaN = every channel, the full
# method; tables written before these columns existed read NaN / "" here)
CAM_PARAM_COLUMNS = ["scorecam_channels", "scorecam_selection", "ablation_ratio"]
TIMING_COLUMNS = ["t_cam_s", "t_prompt_s", "t_decoder_s"]
SORT_KEY = ["image_id", "setting", "model", "strategy", "cam", "prompt_variant", "percentile", "num_points",
            "amplification"]
METRIC_KEYS = ("precision", "recall", "f1", "iou", "dice")


def cam_param_values(config: ExperimentConfig) -> dict[str, Any]:
    """The :data:`CAM_PARAM_COLUMNS` values of ``config`` (ScoreCAM's k and channel ranking,
    AblationCAM's channel ratio) as the grid writes them into every row."""
    o = config.cam_options()
    full = o.scorecam_channels is None
    return {"scorecam_channels": float("nan") if full else float(o.scorecam_channels),
            "scorecam_selection": "all" if full else o.scorecam_selection,
            "ablation_ratio": 1.0 if o.ablation_channels is None else float(o.ablation_channels)}


def _defaults() -> dict[str, Any]:
    d: dict[str, Any] = {c: "" for c in STRING_COLUMNS}
    d["error"] = None
    d["points"] = "[]"
    d.update({c: float("nan") for c in FLOAT_COLUMNS})
    d.update({c: -1 for c in INT_COLUMNS})
    d["used_fallback"] = False
    return d


def coerce_table(df: pd.DataFrame) -> pd.DataFrame:
    """The grid table with its columns in order and fixed dtypes (strings, float64, int64, bool;
    ``error`` missing = no error), so that shards and whole runs compare equal."""
    df = df.reindex(columns=COLUMNS).copy()
    for c in FLOAT_COLUMNS:
        df[c] = df[c].astype("float64")
    for c in INT_COLUMNS:
        df[c] = df[c].astype("int64")
    for c in BOOL_COLUMNS:
        df[c] = df[c].astype(bool)
    major = int(pd.__version__.split(".")[0])
    for c in STRING_COLUMNS:
        col = df[c].astype(object)
        col = col.where(col.notna(), None)
        df[c] = col.astype("str") if major >= 3 else col
    return df


def rows_to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = _defaults()
    return coerce_table(pd.DataFrame([{**base, **r} for r in rows], columns=COLUMNS))


def sort_table(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(SORT_KEY, kind="mergesort", na_position="first").reset_index(drop=True)


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    with atomic_open(path, "wb") as fh:
        df.to_parquet(fh, index=False)


def box_columns(box: np.ndarray | None) -> dict[str, float]:
    """The ``box_x0 .. box_y1`` columns of a ``[x_min, y_min, x_max, y_max]`` box (none for ``None``)."""
    if box is None:
        return {}
    return {"box_x0": float(box[0]), "box_y0": float(box[1]), "box_x1": float(box[2]), "box_y1": float(box[3])}


def points_json(points: np.ndarray | None) -> str:
    """The ``points`` column: ``(N, 2)`` ``(x, y)`` points as a JSON list (``"[]"`` for ``None``)."""
    if points is None:
        return "[]"
    return json.dumps([[float(x), float(y)] for x, y in np.asarray(points)])


__all__ = ["STRING_COLUMNS", "FLOAT_COLUMNS", "INT_COLUMNS", "BOOL_COLUMNS", "COLUMNS", "CAM_PARAM_COLUMNS",
           "TIMING_COLUMNS", "SORT_KEY", "METRIC_KEYS", "cam_param_values", "coerce_table", "rows_to_frame",
           "sort_table", "write_parquet_atomic", "box_columns", "points_json"]

"""The experiment grid under its old address: a re-export module for users' code.

``from cam2seg_utils.experiments.grid import run_grid`` (and every name listed in ``__all__``)
keeps working. The grid itself lives in one module per job:

================  ===========================================================================
module            what
================  ===========================================================================
``table.py``      the table's schema (columns, dtypes, sort order) and parquet writing
``baselines.py``  the ground-truth prompts (``gt_box``, ``gt_point``), the whole-image box and
                  the oracles' ``strategy`` names (``BASELINE_STRATEGY``)
``engine.py``     the per-image evaluator (``GridEngine``, ``compute_image``; used by the pool)
``run.py``        ``run_grid``: planning, shard tasks, the local pool, the task summary
``merge.py``      ``merge_grid``, ``grid_needs_merge``, ``load_table`` (``UnreadableTableError``)
================  ===========================================================================

New code imports from those modules.
"""
from __future__ import annotations

from ..revision import git_commit
from .baselines import BASELINE_STRATEGY, gt_box, gt_point
from .engine import (COUNT_KEYS, NO_CLASSIFIER, GridCounters, GridEngine, ImageJob, LoadedClassifier, build_engine,
                     compute_image, load_classifiers, params_key)
from .merge import GridResult, UnreadableTableError, grid_needs_merge, load_table, merge_grid
from .run import check_cam_names, plan_images, run_grid
from .shards import IncompleteGridError, shard_name
from .table import (CAM_PARAM_COLUMNS, COLUMNS, METRIC_KEYS, SORT_KEY, TIMING_COLUMNS, cam_param_values, coerce_table,
                    rows_to_frame, sort_table, write_parquet_atomic)

#: the old name of :func:`.engine.build_engine`
build_grid = build_engine

__all__ = ["COLUMNS", "CAM_PARAM_COLUMNS", "cam_param_values", "TIMING_COLUMNS", "SORT_KEY", "METRIC_KEYS",
           "GridResult", "GridCounters", "GridEngine", "COUNT_KEYS", "LoadedClassifier", "ImageJob", "NO_CLASSIFIER",
           "BASELINE_STRATEGY", "check_cam_names", "run_grid", "merge_grid", "grid_needs_merge", "plan_images",
           "compute_image", "build_grid", "build_engine", "load_classifiers", "load_table", "coerce_table",
           "rows_to_frame", "sort_table", "write_parquet_atomic", "gt_box", "gt_point",
           "shard_name", "IncompleteGridError", "UnreadableTableError", "params_key",
           "git_commit"]

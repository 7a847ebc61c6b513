"""The summary tables of a finished grid, written as CSV (``python -m cam2seg_utils summarize``).

:func:`summary_tables` computes them from a grid table and its config (one
:mod:`~cam2seg_utils.experiments.summary` function each, at the config's first value of each
prompt parameter and its ``main_prompt_variant``; every CI from
:func:`~cam2seg_utils.experiments.stats.cell_ci`); :func:`summarize` reads the grid of a results
folder (merging its shards first when needed), refuses a partial or mismatched one, and writes
``<output_dir>/tables/<name>.csv`` atomically. :mod:`cam2seg_utils.publish` writes a snapshot's
tables with it, and recomputes them from a snapshot's committed grid table.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..atomic import atomic_open
from ..prompting.algorithm1 import Algorithm1
from . import summary


def summary_tables(table: pd.DataFrame, config) -> dict[str, pd.DataFrame]:
    """Every summary table of the grid ``table`` for ``config``, by CSV name (no file written).

    Raises :class:`~cam2seg_utils.experiments.identity.ResultsMismatchError` when the grid was
    not run with the config's parameters, prompt variant or settings."""
    params = {"percentile": config.percentile[0], "num_points": config.num_points[0],
              "amplification": config.amplification[0]}
    variant = config.main_prompt_variant
    summary.check_covers(table, prompt_variant=variant, settings=config.settings, **params)
    tables = {
        "table1_cam_mask": summary.cam_mask_table(table, ci=True, **params),
        "individual": summary.individual_table(table, prompt_variant=variant, ci=True, **params),
        "best_method": summary.best_method_table(table, prompt_variant=variant, ci=True, **params),
        "zero_iou": summary.zero_iou_counts(table, prompt_variant=variant, **params),
        "gt_baselines": summary.gt_baseline_table(table, ci=True),
        "errors": summary.error_counts(table),
    }
    if "strategy" in table.columns and (table["strategy"].fillna("") != Algorithm1.name).any():
        tables["strategies"] = summary.strategy_table(table, prompt_variant=variant, percentile=params["percentile"])
    for setting in config.settings:
        tables[f"fig5_{setting}"] = summary.model_cam_matrix(table, setting, prompt_variant=variant, **params).reset_index()
    return tables


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """``<out>/<name>.csv`` for each table (no index column), each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        with atomic_open(out / f"{name}.csv", "w", encoding="utf-8") as fh:
            df.to_csv(fh, index=False)


def summarize(config, out_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """Write every summary table of ``config``'s grid to ``<output_dir>/tables/*.csv``; return them.

    Merges the shards first when ``grid.parquet`` is missing or older than them. Refuses
    (:class:`~cam2seg_utils.experiments.identity.ResultsMismatchError`, nothing written) when the
    grid was not run with the requested parameters, prompt variant or settings, and
    (:class:`~cam2seg_utils.experiments.shards.IncompleteGridError`) when it is partial."""
    from .merge import grid_needs_merge, load_table, merge_grid
    from .shards import IncompleteGridError

    if grid_needs_merge(config.output_dir):
        merge_grid(config.output_dir)
    run = json.loads((Path(config.output_dir) / "run_summary.json").read_text(encoding="utf-8"))
    if run.get("complete") is False:
        missing = run.get("missing_images", [])
        raise IncompleteGridError(
            f"{config.output_dir}: grid.parquet is partial (merged with --allow-missing): {len(missing)} "
            f"image(s) have no result: {', '.join(missing[:20])}; finish their shard tasks and merge again",
            missing)
    tables = summary_tables(load_table(config.output_dir), config)
    write_tables(tables, out_dir or Path(config.output_dir) / "tables")
    return tables


__all__ = ["summary_tables", "write_tables", "summarize"]

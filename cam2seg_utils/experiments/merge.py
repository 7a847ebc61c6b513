"""Merge a results folder's shards into ``grid.parquet`` and ``run_summary.json``: :func:`merge_grid`.

A plain run merges at once; the shard tasks of a SLURM array (``grid --shard K/N``) are merged
by ``grid --merge`` when they are done. :func:`grid_needs_merge` says whether the table is
older than the shards; :func:`load_table` reads it with the grid's dtypes.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..revision import git_commit
from .engine import COUNT_KEYS, GridCounters
from .identity import ResultsMismatchError, dataset_digest
from ..atomic import write_json
from ..prompting.algorithm1 import Algorithm1
from .shards import IncompleteGridError, ShardStore
from .table import coerce_table, rows_to_frame, sort_table, write_parquet_atomic


@dataclass
class GridResult:
    """A grid table with its run summary and call counts (of :func:`merge_grid` / ``run_grid``)."""

    table: pd.DataFrame
    summary: dict[str, Any]
    counters: GridCounters = field(default_factory=GridCounters)


def _slow_cams_note(cfg: dict[str, Any], n_images: int) -> str | None:
    slow = [c for c in cfg.get("cams", []) if c in cfg.get("slow_cams", [])]
    if not slow:
        return None
    limit = cfg.get("slow_cams_max_images")
    if limit is None or limit >= n_images:
        return f"slow CAMs {slow} ran on all {n_images} images"
    return f"slow CAMs {slow} ran on the first {limit} of {n_images} images only"


def merge_grid(output_dir: str | os.PathLike, *, allow_missing: bool = False) -> GridResult:
    """Build ``grid.parquet`` and ``run_summary.json`` of a results folder from its shards.

    The run summary adds up the counts of the task summaries of the latest sharding
    (:meth:`.shards.ShardStore.latest_tasks`), lists the tasks, and names the images that have
    no shard yet. With missing images it raises :class:`.shards.IncompleteGridError` naming
    them and the shard tasks they belong to, unless ``allow_missing`` (then the partial table is
    written, with ``complete: false`` in the summary).
    """
    store = ShardStore(output_dir)
    stored = store.read_identity()
    if stored is None or "identity" not in stored:
        raise FileNotFoundError(f"{store.identity_path} not found (or from an older cam2seg): no grid "
                                f"was started in {store.root}; run `cam2seg grid` first")
    identity, sources = stored["identity"], stored.get("sources", {})
    ids = list(identity["images"]["ids"])
    state = store.state()   # before reading: a shard written during the merge makes it stale
    n_tasks, tasks = store.latest_tasks()
    metas = {i: store.shard_meta(i) for i in ids}
    missing = [i for i in ids if metas[i] is None or "unreadable" in metas[i]]
    if missing and not allow_missing:
        owner = (lambda pos: f"{pos % n_tasks}/{n_tasks}") if n_tasks else (lambda pos: "0/1")
        position = {i: k for k, i in enumerate(ids)}
        owners = sorted({owner(position[i]) for i in missing}, key=lambda t: int(t.split("/")[0]))
        shown = ", ".join(missing[:20]) + (", ..." if len(missing) > 20 else "")
        raise IncompleteGridError(
            f"{store.root}: {len(missing)} of {len(ids)} images have no result yet: {shown} (shard task(s) "
            f"{', '.join(owners)}); run them (`cam2seg grid --shard K/N` with the same config) or the plain "
            "`cam2seg grid`, then merge again; --allow-missing writes a partial table", missing)
    present = [i for i in ids if i not in set(missing)]
    frames = [store.read_shard(i) for i in present]
    table = sort_table(coerce_table(pd.concat(frames, ignore_index=True))) if frames else rows_to_frame([])
    write_parquet_atomic(table, store.table_path)

    cfg = identity["config"]
    counts = {k: sum(int(t.get(k, 0)) for t in tasks) for k in COUNT_KEYS}
    done_specs = {int(t["shard_index"]) for t in tasks}
    latest = tasks[-1] if tasks else {}
    summary = {
        **counts,
        "n_images": len(ids),
        "n_rows": int(len(table)),
        "n_errors": int(table["error"].notna().sum()),
        "images_with_errors": sorted(table.loc[table["error"].notna(), "image_id"].unique().tolist()),
        "complete": not missing,
        "missing_images": missing,
        "num_shards": n_tasks,
        "tasks": [{k: t.get(k) for k in ("shard", "host", "workers", "wall_time_s", "finished_at",
                                         "images_processed", "images_resumed", "images_retried", "git_commit")}
                  for t in tasks],
        "tasks_without_summary": [f"{k}/{n_tasks}" for k in range(n_tasks) if k not in done_specs],
        "retried": [r for t in tasks for r in t.get("retried", [])],
        "wall_time_s": float(sum(float(t.get("wall_time_s", 0.0)) for t in tasks)),
        "timing": stage_timing(table, float(sum(float(t.get("wall_time_s", 0.0)) for t in tasks)),
                               int(counts.get("images_processed", 0))),
        "machines": sorted({json.dumps(t.get("machine") or {"host": t.get("host")}, sort_keys=True) for t in tasks}),
        "slow_cams": [c for c in cfg["cams"] if c in cfg["slow_cams"]],
        "slow_cams_max_images": cfg.get("slow_cams_max_images"),
        "slow_cams_note": _slow_cams_note(cfg, len(ids)),
        "segmenter": identity["segmenter"]["name"],
        "segmenter_checkpoint": {"file": sources.get("segmenter"), "id": identity["segmenter"]["checkpoint"]},
        "classifiers": [{"setting": key.split("/", 1)[0], "model": key.split("/", 1)[1],
                         "weights": sources.get("weights", {}).get(key), "weights_id": wid}
                        for key, wid in identity["weights"].items()],
        "results_version": identity["results_version"],
        "split": identity["images"]["split"],
        "dataset_digest": dataset_digest({i: metas[i].get("input_sha256") for i in present}),
        "config": latest.get("config", cfg),
        "config_fingerprint": stored["fingerprint"],
        # the ranked strategies' weight set and how many ground-truth masks fitted it (0 = a priori)
        "ranking_weights": latest.get("ranking_weights"),
        "git_commit": latest.get("git_commit", git_commit()),
        "git_commits": sorted({str(t.get("git_commit")) for t in tasks}),
        "shards_state": state,
        "counts_note": ("call counts add up the last invocation of each task of the latest sharding "
                        f"({n_tasks} task(s)); images_resumed were computed by an earlier invocation"),
    }
    write_json(store.summary_path, summary)
    counters = GridCounters(**{k: counts[k] for k in COUNT_KEYS})
    return GridResult(table, summary, counters)


def stage_timing(table: pd.DataFrame, wall_time_s: float, images_processed: int) -> dict:
    """Seconds per image and stage, means over the images of ``table`` (each image's rows summed):
    ``cams`` per CAM (``t_cam_s`` once per image x setting x CAM; a heatmap-cache hit costs ~0),
    ``strategies`` per strategy (``t_prompt_s``: its prompts and decoder calls), ``algorithm1_decode``
    (``t_decoder_s`` of Algorithm 1's prompts), and ``rest`` = wall time per processed image minus
    those (the encoder, the classifier, I/O)."""
    ok = table[table["error"].isna()] if "error" in table.columns else table
    n = max(int(ok["image_id"].nunique()), 1) if len(ok) else 1
    out: dict = {"wall_per_image_s": wall_time_s / images_processed if images_processed else None}
    a1 = ok[(ok.get("strategy", pd.Series("", index=ok.index)).fillna("") == Algorithm1.name)] if len(ok) else ok
    cams = {}
    if len(a1):
        once = a1.drop_duplicates(["image_id", "setting", "model", "cam"])
        cams = {str(c): float(g["t_cam_s"].sum()) / n for c, g in once.groupby("cam")}
    out["cams"] = cams
    # the references (oracle-*, the whole-image box) are decoded with the baselines: no time of their own
    strat = (ok[ok["strategy"].notna() & ~ok["strategy"].isin(["algorithm1", "", "whole-image"])
                & ~ok["strategy"].fillna("").str.startswith("oracle-")] if "strategy" in ok.columns else ok.iloc[:0])
    out["strategies"] = {str(k): float(g["t_prompt_s"].sum()) / n for k, g in strat.groupby("strategy")}
    out["algorithm1_decode"] = float(a1["t_decoder_s"].sum()) / n if len(a1) else 0.0
    staged = sum(cams.values()) + sum(out["strategies"].values()) + out["algorithm1_decode"]
    out["rest"] = (out["wall_per_image_s"] - staged) if out["wall_per_image_s"] is not None else None
    return out


def grid_needs_merge(output_dir: str | os.PathLike) -> bool:
    """Whether ``grid.parquet`` is missing or older than the shards and task summaries."""
    store = ShardStore(output_dir)
    if not (store.table_path.is_file() and store.summary_path.is_file()):
        return True
    try:
        merged_state = json.loads(store.summary_path.read_text(encoding="utf-8")).get("shards_state")
    except (OSError, json.JSONDecodeError):
        return True
    return merged_state != store.state()


class UnreadableTableError(ResultsMismatchError):
    """``grid.parquet`` exists but cannot be read (truncated, corrupt); the shards may be intact."""


def load_table(output_dir: str | os.PathLike) -> pd.DataFrame:
    """Read ``<output_dir>/grid.parquet`` with the grid's dtypes; a file that cannot be read
    (a copy cut short, a full disk) raises :class:`UnreadableTableError` in one line saying that
    ``grid --merge`` rebuilds it from the shards."""
    p = Path(output_dir) / "grid.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found: run `cam2seg grid` first")
    try:
        table = pd.read_parquet(p)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnreadableTableError(
            f"{p}: cannot be read ({type(exc).__name__}: {reason}); it is built from the per-image shards in "
            f"{p.parent / 'shards'}: `cam2seg grid --merge` with the same config rebuilds it") from exc
    return coerce_table(table)


__all__ = ["GridResult", "UnreadableTableError", "merge_grid", "grid_needs_merge", "load_table"]

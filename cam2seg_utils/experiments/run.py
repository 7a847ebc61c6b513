"""Run (or finish) the grid of a config: :func:`run_grid`.

Plans the images of one task (:func:`plan_images`: those without a valid shard), computes them
(:class:`.engine.GridEngine` in this process, or the pool of :mod:`.workers`), writes the task's
summary and, for a plain run, merges at once (:func:`.merge.merge_grid`). The names a config
must get right before any work (CAMs, classifiers, segmenter) are checked here too
(:func:`check_cam_names`, :func:`check_model_names`, :func:`check_segmenter_name`).

Robustness (files: :mod:`.shards`): each image's rows are written to
``<output_dir>/shards/<image>.parquet`` atomically, with the digest of the image's files and its
number of error rows in the shard's metadata. A rerun resumes the images whose shard is valid and
computes the others: missing shards, **error shards** (a fixed input is retried) and shards whose
image or mask file changed since; the run summary counts them (``images_resumed``,
``images_retried``). A run killed at any moment (even ``kill -9``) completes on the next call and
the final table equals an uninterrupted run's (timings aside).

Identity (:mod:`.identity`): ``grid_config.json`` records what decides the numbers (results
version, config fields, resolved weights of every model, the segmenter checkpoint, the evaluated
ids); a run whose identity differs is refused, naming each difference.

Scaling out: ``shard="K/N"`` computes task K's share of the images into the same folder (one
encoder pass per image across all tasks) and :func:`.merge.merge_grid` builds ``grid.parquet`` and
``run_summary.json``; ``workers=N`` runs a local process pool (:mod:`.workers`). A plain run is
task ``0/1`` and merges at once.

Resolution: heatmaps, prompts and metrics are at each image's own size (the ground truth's), as
the paper measures; ``max_side`` downsizes larger images (and masks) first. With
``slow_cams_max_images`` set, ScoreCAM / AblationCAM (``slow_cams``) only run on the first that
many images of the sorted test ids (no profile but ``smoke`` sets it); the run summary records it.
"""
from __future__ import annotations

import json
import socket
import time
from typing import Sequence

import pandas as pd

from ..atomic import progress_bar
from ..revision import git_commit
from ..prompting.weights import get_weights
from .config import ExperimentConfig
from .engine import GridCounters, ImageJob, LoadedClassifier, build_engine, compute_image
from .identity import grid_identity, input_digest
from .merge import GridResult, grid_needs_merge, load_table, merge_grid
from .shards import ShardSpec, ShardStore, shard_indices
from .table import coerce_table, rows_to_frame, sort_table


def plan_images(store: ShardStore, dataset, image_ids: Sequence[str], spec: ShardSpec
                ) -> tuple[list[ImageJob], int]:
    """``(jobs, n_resumed)`` of task ``spec``: its images without a valid shard. A shard is
    valid (resumed) when it is readable, has no error row and was computed from files with the
    digest they have now; an error shard is retried, a changed input is recomputed."""
    jobs: list[ImageJob] = []
    resumed = 0
    for index in shard_indices(len(image_ids), spec):
        image_id = image_ids[index]
        digest = input_digest(dataset, image_id)
        meta = store.shard_meta(image_id)
        if meta is None:
            reason = "new"
        elif "unreadable" in meta:
            reason = "unreadable shard"
        elif int(meta.get("n_errors", 0)) > 0:
            reason = "error"
        elif digest is not None and meta.get("input_sha256") != digest:
            reason = "input changed"
        else:
            resumed += 1
            continue
        jobs.append(ImageJob(index, image_id, digest, reason))
    return jobs, resumed


# --------------------------------------------------------------------------------------------
# names checked before any work: a typo in a CAM, model or segmenter name would otherwise surface
# deep in the run (an error row per image, a missing fine-tuned checkpoint); each check raises
# ``ValueError`` with one line naming the unknown value and the valid choices, which the CLI
# prints as ``cam2seg: error: ...`` (strategies and the other choice fields:
# :meth:`~.config.ExperimentConfig.validate`)
# --------------------------------------------------------------------------------------------


def check_cam_names(config: ExperimentConfig) -> None:
    """Raise ``ValueError`` before any work for a CAM name in ``cams`` / ``strategy_cams`` that
    the registry does not know (a typo would otherwise become an error row per image).
    ``strategy_cams`` outside ``cams`` are allowed: the strategies use those of them the grid
    computes."""
    from ..cams import CAM_METHODS

    bad = [c for c in [*config.cams, *config.strategy_cams] if c not in CAM_METHODS]
    if bad:
        raise ValueError(f"cams / strategy_cams: unknown CAM method(s) {bad}; known: {', '.join(CAM_METHODS.names())}")


def check_model_names(config: ExperimentConfig) -> None:
    """``ValueError`` for a name in ``models`` that is neither a registered classifier nor a timm
    architecture (``build_classifier`` accepts both)."""
    import timm

    from ..models import list_classifiers

    known = list_classifiers()
    bad = [m for m in config.models if m not in known and not timm.is_model(m)]
    if bad:
        raise ValueError(f"models: unknown classifier(s) {bad}; registered: {', '.join(known)} "
                         "(or any timm architecture name, see timm.list_models())")


def check_segmenter_name(config: ExperimentConfig) -> None:
    """``ValueError`` for a ``segmenter`` the registry does not know."""
    from ..segmenters import SEGMENTERS

    if config.segmenter not in SEGMENTERS:
        raise ValueError(f"segmenter: unknown segmenter {config.segmenter!r}; known: {', '.join(SEGMENTERS.names())}")


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------



def run_grid(config: ExperimentConfig, *, segmenter=None, classifiers: Sequence[LoadedClassifier] | None = None,
             dataset=None, image_ids: Sequence[str] | None = None, resume: bool = True,
             progress: bool | None = None, shard: str | tuple[int, int] | ShardSpec | None = None,
             workers: int = 1) -> GridResult:
    """Run (or finish) the grid of ``config``; return its table and summary.

    ``segmenter`` / ``classifiers`` / ``dataset`` + ``image_ids`` may be passed in (already
    loaded objects, e.g. in tests or notebooks); by default they are built from ``config``
    (:func:`load_classifiers`, :func:`cam2seg_utils.segmenters.build_segmenter`,
    :func:`.datasets.evaluation_ids`); models are only built when an image needs computing.
    ``resume=False`` deletes the folder's results first.

    ``shard="K/N"``: compute only task K's share of the images (:func:`.shards.shard_indices`)
    into the same folder and write its task summary; the table and summary returned are the
    task's own, and :func:`merge_grid` (``grid --merge``) builds ``grid.parquet`` once all tasks
    are done. Without ``shard`` (= ``0/1``) the run merges at once.

    ``workers=N`` computes the images in a pool of N processes, each building its models once
    from ``config`` (so ``segmenter`` and ``classifiers`` cannot be passed); the table is the
    single-process one.

    The returned ``counters`` are this invocation's; the summary is the folder's run summary,
    whose counts are those of the last invocation of each task that computed something (an
    invocation that finds every image done changes neither the task summary nor the merge).
    """
    t_start, started_at = time.perf_counter(), time.time()
    commit_at_start = git_commit()   # the code that computes the rows, not a later merge's
    progress = config.progress if progress is None else progress
    spec = ShardSpec.parse(shard)
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not resume and spec.count > 1:
        raise ValueError(f"resume=False (--no-resume) with shard {spec} would delete the other tasks' results; "
                         "delete the results folder once before starting the tasks instead")
    if workers > 1 and (segmenter is not None or classifiers is not None):
        raise ValueError("workers > 1 builds the models in each worker from the config: "
                         "do not pass segmenter / classifiers")
    check_cam_names(config)
    store = ShardStore(config.output_dir)

    from .datasets import evaluated_images

    dataset, image_ids, split_name = evaluated_images(config, dataset, image_ids)
    identity, sources = grid_identity(config, image_ids, split_name, classifiers)
    if not resume:
        store.reset()
    store.claim(identity, sources)

    jobs, n_resumed = plan_images(store, dataset, image_ids, spec)
    counters = GridCounters(images_resumed=n_resumed, images_retried=sum(j.reason != "new" for j in jobs))
    if jobs and workers > 1:
        from .workers import compute_in_pool

        counters.add(compute_in_pool(config, dataset, split_name, jobs, int(workers), progress))
    elif jobs:
        engine = build_engine(config, split_name, segmenter, classifiers, counters)
        desc = "grid" if spec.count == 1 else f"grid {spec}"
        for job in progress_bar(jobs, progress, desc=desc, unit="img"):
            compute_image(engine, store, dataset, job)

    task = {**counters.as_dict(),
            "n_images_in_task": len(shard_indices(len(image_ids), spec)),
            "retried": [{"image_id": j.image_id, "reason": j.reason} for j in jobs if j.reason != "new"][:200],
            "workers": int(workers), "wall_time_s": time.perf_counter() - t_start,
            "started_at": started_at, "finished_at": time.time(), "host": socket.gethostname(),
            "machine": machine_description(config.device),
            "git_commit": commit_at_start, "config": config.to_dict(),
            "ranking_weights": get_weights(config.ranking_weights).summary()}
    # an invocation with nothing to do keeps the task summary of the one that did the work (so
    # e.g. the book reading back a SLURM array's results does not replace the array's counts)
    if jobs or spec not in {ShardSpec(int(t["shard_index"]), int(t["num_shards"])) for t in store.tasks()}:
        store.write_task(spec, task)
    if spec.count == 1:
        if jobs or grid_needs_merge(config.output_dir):
            merged = merge_grid(config.output_dir)
            return GridResult(merged.table, merged.summary, counters)
        return GridResult(load_table(config.output_dir), json.loads(store.summary_path.read_text(encoding="utf-8")),
                          counters)
    own = [store.read_shard(image_ids[i]) for i in shard_indices(len(image_ids), spec)]
    table = sort_table(coerce_table(pd.concat(own, ignore_index=True))) if own else rows_to_frame([])
    return GridResult(table, {**task, "shard": str(spec), "n_rows": int(len(table)),
                              "n_errors": int(table["error"].notna().sum())}, counters)


def machine_description(device: str) -> dict:
    """What the run's timings were measured on: host, CPU model, cores, torch threads, device (and
    the GPU's name on CUDA)."""
    import os
    import platform

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    out = {"host": socket.gethostname(), "cpu": cpu, "cpu_count": os.cpu_count(),
           "torch_threads": torch.get_num_threads(), "device": device}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


__all__ = ["run_grid", "machine_description", "plan_images", "check_cam_names", "check_model_names", "check_segmenter_name"]

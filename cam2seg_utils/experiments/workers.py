"""``grid --workers N``: one task's images computed by a pool of N processes on one machine.

Each worker process (``spawn``: no forked torch state) builds its :class:`.engine.GridEngine`
(segmenter, classifiers and heatmap cache) **once** from the config, then computes whole images:
it writes the image's shard itself (atomically, as a single process does) and sends back only
its call counts. An image's
rows depend only on the image, its position in the id list and the seed, never on the worker or
the order, so the table equals a single-process run's. The machine's torch threads are split
between the workers (``torch.get_num_threads() // N`` each, at least 1), so N workers do not
oversubscribe the cores. A model that fails to load stops the run (``BrokenProcessPool``, with
the worker's traceback on stderr).
"""
from __future__ import annotations

from typing import Any, Sequence

from ..atomic import progress_bar
from .engine import GridCounters, ImageJob, build_engine, compute_image
from .shards import ShardStore

_WORKER: dict[str, Any] = {}


def _init_worker(config, dataset, split_name: str, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER.update(engine=build_engine(config, split_name), store=ShardStore(config.output_dir), dataset=dataset)


def _compute(job: ImageJob) -> GridCounters:
    engine = _WORKER["engine"]
    before = GridCounters(**engine.counters.as_dict())
    compute_image(engine, _WORKER["store"], _WORKER["dataset"], job)
    return engine.counters.minus(before)


def compute_in_pool(config, dataset, split_name: str, jobs: Sequence[Any], workers: int,
                    progress: bool = True):
    """Compute ``jobs`` (:class:`.engine.ImageJob`) in ``workers`` processes; return the summed
    :class:`.engine.GridCounters` of the work done."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import torch

    threads = max(1, torch.get_num_threads() // workers)
    total = GridCounters()
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_init_worker, initargs=(config, dataset, split_name, threads)) as pool:
        futures = [pool.submit(_compute, job) for job in jobs]
        for fut in progress_bar(as_completed(futures), progress, total=len(futures),
                                desc=f"grid ({workers} workers)", unit="img"):
            total.add(fut.result())
    return total


__all__ = ["compute_in_pool"]

"""The experiment steps a page needs, run on first use and read back afterwards.

The first notebook that needs a result computes it; the next ones read it back (fine-tuning
skips finished models, the grid resumes shard by shard), so the same notebooks run on Colab,
locally and after a SLURM array. A config whose ``output_dir`` is a published snapshot
(:mod:`.provenance`) runs nothing: every step reads the snapshot.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .provenance import snapshot_of


def ensure_data(config):
    """Make sure the images of ``config`` exist (synthetic data is generated, idempotently) and
    return its :class:`~cam2seg_utils.experiments.datasets.DataSplits`."""
    from ..experiments.datasets import generate_synthetic_data, resolve_splits, spec_of

    spec = spec_of(config)
    if spec.generate is not None:
        generate_synthetic_data(config, progress=config.progress)
    elif not Path(config.data_root).is_dir():
        raise FileNotFoundError(f"{spec.label} folder {config.data_root} not found (profile {config.name!r}); "
                                + spec.obtain.replace("<profile>", config.name))
    return resolve_splits(config)


def ensure_finetuned(config) -> pd.DataFrame:
    """Fine-tune (resumable: finished models are read back) and evaluate every model of
    ``config``; the classification table of :func:`~cam2seg_utils.experiments.finetune.run_finetune`."""
    from ..experiments.finetune import run_finetune

    table = Path(config.output_dir) / "classification.csv"
    if snapshot_of(config) is not None:   # a snapshot has the table when its run fine-tuned
        return pd.read_csv(table) if table.is_file() else pd.DataFrame(columns=["model", "setting", "n", "accuracy"])
    ckpts = [config.finetuned_checkpoint(m) for m in config.models]
    if table.is_file() and all(c.is_file() for c in ckpts):
        done = pd.read_csv(table)
        newest = max(c.stat().st_mtime for c in ckpts)
        if set(config.models) <= set(done["model"]) and table.stat().st_mtime >= newest:
            return done[done["model"].isin(config.models)].reset_index(drop=True)   # evaluated after the last training
    ensure_data(config)
    return run_finetune(config, resume=True, evaluate=True)


def ensure_grid(config) -> pd.DataFrame:
    """The grid table of ``config``: computed on first use (after fine-tuning when the config has
    the fine-tuned setting), resumed or read back afterwards (``run_grid`` builds no model when
    every image has a valid shard, and retries error shards and changed inputs)."""
    from ..experiments.run import run_grid

    snap = snapshot_of(config)
    if snap is not None:
        return snap.grid.copy()   # validated once (publish.load_snapshot); not read again
    ensure_data(config)
    if "fine-tuned" in config.settings:
        missing = [m for m in config.models if not config.finetuned_checkpoint(m).is_file()]
        if missing:
            ensure_finetuned(config)
    return run_grid(config, resume=True).table


def training_history(config) -> pd.DataFrame:
    """Per-epoch fine-tuning history of every model (``<checkpoint_dir>/<model>/history.csv``,
    or ``history/<model>.csv`` of a published snapshot), with a ``model`` column."""
    frames = []
    published = snapshot_of(config) is not None
    for m in config.models:
        p = (Path(config.output_dir) / "history" / f"{m}.csv" if published
             else config.finetuned_checkpoint(m).parent / "history.csv")
        if p.is_file():
            frames.append(pd.read_csv(p).assign(model=m))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


__all__ = ["ensure_data", "ensure_finetuned", "ensure_grid", "training_history"]

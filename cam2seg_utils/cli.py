"""Command line: ``cam2seg <command>`` / ``python -m cam2seg_utils <command>``.

Commands: ``generate-data``, ``download``, ``finetune``, ``grid``, ``summarize``, ``publish``, ``hitl``.

The configuration of every command is built in three layers: the ``--profile`` (default
``embedded``; see :mod:`cam2seg_utils.profiles`), then a YAML/JSON ``--config`` file (any
:class:`~cam2seg_utils.experiments.config.ExperimentConfig` field), then flags
(``--device``, ``--output-dir``, ``--percentile 80 90``, ... and ``--set field=value`` for any
other field, the value parsed as YAML). ``--quiet`` turns progress bars off (papermill, CI).

Examples::

    cam2seg generate-data --profile smoke
    cam2seg finetune --profile smoke
    cam2seg grid --profile smoke --percentile 80 90 95
    cam2seg summarize --profile smoke
    cam2seg publish --profile local-isic       # results/local-isic -> results/published/local-isic
    cam2seg grid --config my_experiment.yaml --device cuda --set slow_cams_max_images=10
    cam2seg grid --profile paper --shard 3/20        # task 3 of 20 (SLURM array), same folder
    cam2seg grid --profile paper --merge             # grid.parquet + run_summary.json of the tasks
    cam2seg grid --profile embedded --workers 2      # a local process pool

Refusals (a results folder of another configuration, a merge with missing images, a summary of
parameters the grid never ran) and bad input print ``cam2seg: error: ...`` and exit with 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

COMMANDS = ("generate-data", "download", "finetune", "grid", "summarize", "publish", "hitl")


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    import yaml

    out = {}
    for item in items or ():
        if "=" not in item:
            raise SystemExit(f"--set expects field=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return out


def build_config(args: argparse.Namespace):
    """Profile -> config file -> flags (see the module docstring)."""
    from .experiments.config import load_config_file
    from .profiles import get_profile

    overrides: dict[str, Any] = {}
    if args.config:
        overrides.update(load_config_file(args.config))
    profile = overrides.pop("profile", None) or args.profile
    flag_map = {"device": "device", "output_dir": "output_dir", "data_root": "data_root",
                "checkpoint_dir": "checkpoint_dir", "max_images": "max_images", "models": "models",
                "cams": "cams", "percentile": "percentile", "num_points": "num_points",
                "amplification": "amplification", "prompt_variants": "prompt_variants", "seed": "seed",
                "epochs": "epochs", "patience": "patience", "segmenter": "segmenter",
                "slow_cams_max_images": "slow_cams_max_images", "evaluate_on": "evaluate_on"}
    for flag, fieldname in flag_map.items():
        value = getattr(args, flag, None)
        if value is not None:
            overrides[fieldname] = value
    overrides.update(_parse_set(args.set))
    if args.quiet:
        overrides["progress"] = False
    return get_profile(profile, **overrides)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="embedded", help="named profile (smoke, embedded, paper, local-isic)")
    p.add_argument("--config", help="YAML or JSON file of ExperimentConfig fields (over the profile)")
    p.add_argument("--device", choices=["cpu", "cuda"], help="torch device")
    p.add_argument("--output-dir", dest="output_dir")
    p.add_argument("--data-root", dest="data_root")
    p.add_argument("--checkpoint-dir", dest="checkpoint_dir")
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any other config field (value parsed as YAML); repeatable")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_grid_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-images", dest="max_images", type=int)
    p.add_argument("--evaluate-on", dest="evaluate_on", choices=["test", "val"],
                   help="val: the validation part of the training split (tune prompt parameters there)")
    p.add_argument("--models", nargs="+")
    p.add_argument("--cams", nargs="+")
    p.add_argument("--percentile", nargs="+", type=float)
    p.add_argument("--num-points", dest="num_points", nargs="+", type=int)
    p.add_argument("--amplification", nargs="+", type=float)
    p.add_argument("--prompt-variants", dest="prompt_variants", nargs="+")
    p.add_argument("--segmenter")
    p.add_argument("--slow-cams-max-images", dest="slow_cams_max_images", type=int)


def make_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = argparse.ArgumentParser(prog="cam2seg", description="CAM prompts for MedSAM: data, fine-tuning, grid, tables")
    ap.add_argument("--version", action="version", version=f"cam2seg {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("generate-data", help="write the synthetic dataset of the profile")
    _add_common(p)
    p = sub.add_parser("download", help="download ISIC 2017 into data_root (needs the internet)")
    _add_common(p)
    p.add_argument("--splits", nargs="+", help="ISIC splits (default: the config's download_splits)")
    p.add_argument("--trust-unknown", dest="trust_unknown", action="store_true",
                   help="use files the manifest has no checksum for (their SHA-256 is printed first)")
    p = sub.add_parser("finetune", help="fine-tune the classifiers and evaluate classification")
    _add_common(p)
    _add_grid_flags(p)
    p.add_argument("--epochs", type=int)
    p.add_argument("--patience", type=int)
    p.add_argument("--no-resume", dest="resume", action="store_false", help="start training over")
    p = sub.add_parser("grid", help="run (or resume) the experiment grid")
    _add_common(p)
    _add_grid_flags(p)
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="delete the folder's existing results first")
    p.add_argument("--shard", metavar="K/N",
                   help="compute only task K of N (images at positions i %% N == K of the sorted ids) into "
                        "the same output folder; then `grid --merge` (e.g. a SLURM array: "
                        "--shard $SLURM_ARRAY_TASK_ID/N)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes computing images in parallel on this machine (default 1)")
    p.add_argument("--merge", action="store_true",
                   help="compute nothing: build grid.parquet and run_summary.json from the shard tasks' results")
    p.add_argument("--allow-missing", dest="allow_missing", action="store_true",
                   help="with --merge: write a partial table when images have no result yet")
    p = sub.add_parser("summarize", help="write the summary tables of a finished grid as CSV")
    _add_common(p)
    _add_grid_flags(p)
    p = sub.add_parser("hitl", help="the human in the loop, measured: simulated clicks per start x refinement mode")
    _add_common(p)
    from .experiments import hitl

    hitl.add_arguments(p)
    p = sub.add_parser("publish", help="copy a finished run's tidy tables (no pixels) into results/published/<profile>")
    _add_common(p)
    p.add_argument("--dest", help="snapshot folder (default: results/published/<profile>)")
    return ap


def _generate(config) -> Path:
    from .data.synthetic import generate_synthetic

    if config.dataset != "synthetic":
        raise SystemExit(f"profile/config {config.name!r} uses dataset={config.dataset!r}; "
                         "generate-data only writes synthetic data (use `download` for ISIC 2017)")
    common = dict(melanoma_fraction=config.synthetic_melanoma_fraction,
                  size_range=tuple(config.synthetic_size_range), progress=config.progress)
    generate_synthetic(config.data_root, n_images=config.synthetic_train_images, seed=config.seed,
                       split=config.train_split, **common)
    if config.test_holdout_fraction is None:
        generate_synthetic(config.data_root, n_images=config.synthetic_test_images, seed=config.seed + 1,
                           split=config.test_split, **common)
    return Path(config.data_root)


def summarize(config, out_dir: Path | None = None) -> dict[str, "Any"]:
    """Write every summary table of ``config``'s grid to ``<output_dir>/tables/*.csv``; return them.

    Merges the shards first when ``grid.parquet`` is missing or older than them. Refuses
    (:class:`~cam2seg_utils.experiments.identity.ResultsMismatchError`, nothing written) when the
    grid was not run with the requested parameters, prompt variant or settings."""
    from .atomic import atomic_open
    from .experiments import summary
    from .experiments.grid import grid_needs_merge, load_table, merge_grid
    from .experiments.shards import IncompleteGridError

    if grid_needs_merge(config.output_dir):
        merge_grid(config.output_dir)
    run = json.loads((Path(config.output_dir) / "run_summary.json").read_text(encoding="utf-8"))
    if run.get("complete") is False:
        missing = run.get("missing_images", [])
        raise IncompleteGridError(
            f"{config.output_dir}: grid.parquet is partial (merged with --allow-missing): {len(missing)} "
            f"image(s) have no result: {', '.join(missing[:20])}; finish their shard tasks and merge again",
            missing)
    table = load_table(config.output_dir)
    params = {"percentile": config.percentile[0], "num_points": config.num_points[0],
              "amplification": config.amplification[0]}
    variant = config.main_prompt_variant
    summary.check_covers(table, prompt_variant=variant, settings=config.settings, **params)
    tables = {
        "table1_cam_mask": summary.cam_mask_table(table, **params),
        "individual": summary.individual_table(table, prompt_variant=variant, ci=True, **params),
        "best_method": summary.best_method_table(table, prompt_variant=variant, **params),
        "zero_iou": summary.zero_iou_counts(table, prompt_variant=variant, **params),
        "gt_baselines": summary.gt_baseline_table(table),
        "errors": summary.error_counts(table),
    }
    if "strategy" in table.columns and (table["strategy"].fillna("") != "algorithm1").any():
        tables["strategies"] = summary.strategy_table(table, prompt_variant=variant, percentile=params["percentile"])
    for setting in config.settings:
        tables[f"fig5_{setting}"] = summary.model_cam_matrix(table, setting, prompt_variant=variant, **params).reset_index()
    out = out_dir or Path(config.output_dir) / "tables"
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        with atomic_open(out / f"{name}.csv", "w", encoding="utf-8") as fh:
            df.to_csv(fh, index=False)
    return tables


def _grid(args, config) -> None:
    import time

    from .experiments.grid import COUNT_KEYS, merge_grid, run_grid

    t0 = time.perf_counter()
    if args.merge:
        res = merge_grid(config.output_dir, allow_missing=args.allow_missing)
    else:
        res = run_grid(config, resume=args.resume, shard=args.shard, workers=args.workers)
    s = res.summary
    shown: dict[str, Any] = {k: s[k] for k in ("shard", "n_images", "n_images_in_task", "n_rows", "n_errors",
                                               "complete", "num_shards", "missing_images", "slow_cams_note")
                             if s.get(k) not in (None, [], "")}
    if "shard" not in s:
        shown["counts (last computing invocation of each task, added up)"] = {k: s[k] for k in COUNT_KEYS}
    if not args.merge:
        shown["this invocation"] = {**res.counters.as_dict(), "wall_time_s": round(time.perf_counter() - t0, 1)}
    print(json.dumps(shown, indent=2))
    if "shard" in s:
        print(f"shard {s['shard']} written to {Path(config.output_dir) / 'shards'}; when every task is done: "
              "`cam2seg grid --merge` with the same config")
    else:
        print(f"grid table: {Path(config.output_dir) / 'grid.parquet'}")


def main(argv: Sequence[str] | None = None) -> int:
    from .data.isic import DataError
    from .experiments.identity import ResultsMismatchError

    args = make_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"
    try:
        # bad config values and unknown CAM names: one line naming them, before any work (a
        # ValueError from deeper down keeps its traceback)
        config = build_config(args)
        if args.command == "grid":
            from .experiments.grid import check_cam_names

            check_cam_names(config)
        if args.command == "hitl":
            from .experiments.hitl import check_arguments

            check_arguments(args)
    except ValueError as exc:
        print(f"cam2seg: error: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, config)
    except (ResultsMismatchError, DataError) as exc:
        print(f"cam2seg: error: {exc}", file=sys.stderr)
        return 2


def _run(args, config) -> int:
    if args.command == "generate-data":
        root = _generate(config)
        print(f"synthetic data ready under {root}")
    elif args.command == "download":
        from .data.download import download_isic2017

        root = download_isic2017(config.data_root, splits=args.splits or config.download_splits,
                                 allow_unverified=args.trust_unknown, progress=config.progress)
        print(f"ISIC 2017 ready under {root}")
    elif args.command == "finetune":
        from .experiments.finetune import run_finetune

        if config.dataset == "synthetic" and not Path(config.data_root).is_dir():
            _generate(config)
        table = run_finetune(config, resume=args.resume)
        print(table.to_string(index=False))
        print(f"classification table: {Path(config.output_dir) / 'classification.csv'}")
    elif args.command == "grid":
        _grid(args, config)
    elif args.command == "summarize":
        import pandas as pd

        tables = summarize(config)
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            for name, df in tables.items():
                print(f"\n== {name} ==")
                print(df.to_string(index=False))
        print(f"\ntables written to {Path(config.output_dir) / 'tables'}")
    elif args.command == "hitl":
        from .experiments import hitl

        hitl.run(config, args)
    elif args.command == "publish":
        from .publish import publish

        snap = publish(args.profile, source_dir=args.output_dir or config.output_dir, dest=args.dest,
                       data_root=args.data_root)
        files = snap.published["files"]
        print(f"snapshot {snap.folder}: {len(snap.grid)} rows, {snap.summary['n_images']} images, "
              f"{sum(f['bytes'] for f in files.values())} bytes in {len(files)} tables (+ run_summary.json, README.md)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

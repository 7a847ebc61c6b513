"""Command line: ``cam2seg <command>`` / ``python -m cam2seg_utils <command>``.

Commands: ``generate-data``, ``download``, ``finetune``, ``grid``, ``summarize``, ``publish``,
``tune-strategies``, ``hitl``.

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
    cam2seg tune-strategies --profile isic-official --data-root ../shared/isic2017
    cam2seg grid --profile ph2 --data-root /data/PH2Dataset   # PH2: every image, zero-shot + ISIC-fine-tuned

Bad input prints one line ``cam2seg: error: ...`` naming the value, field or file, and exits
with 2, leaving no output behind: a config value of the wrong type or range (checked field by
field, before anything is read), unknown names (profile, model, segmenter, CAM, strategy: the
message lists the valid ones), a bad flag, a missing data folder (named before any missing
checkpoint), a missing fine-tuned checkpoint, a folder with no grid to summarize or publish, a
results folder of another configuration, a merge with missing images, a summary of parameters
the grid never ran, fine-tuning on PH2, an unreadable ``grid.parquet``. ``CAM2SEG_TRACEBACK=1``
shows the traceback instead.
``cam2seg <command> --help`` documents every flag, with examples.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

COMMANDS = ("generate-data", "download", "finetune", "grid", "summarize", "publish", "tune-strategies", "hitl")


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    import yaml

    out = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"--set expects field=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return out


def build_config(args: argparse.Namespace):
    """Profile -> config file -> flags (see the module docstring)."""
    from .experiments.config import load_config_file
    from .profiles import get_profile, list_profiles

    overrides: dict[str, Any] = {}
    if args.config:
        overrides.update(load_config_file(args.config))
    profile = overrides.pop("profile", None) or args.profile
    if profile not in list_profiles():
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(list_profiles())}")
    flag_map = {"device": "device", "output_dir": "output_dir", "data_root": "data_root",
                "dataset": "dataset", "strategies": "strategies",
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


_FROM_PROFILE = "default: the profile's"

_EXAMPLES = {
    "generate-data": """examples:
  cam2seg generate-data --profile smoke
  cam2seg generate-data --profile embedded --data-root data/mine --seed 3""",
    "download": """examples:
  cam2seg download --profile paper --data-root data/isic2017
  cam2seg download --profile paper --splits Training Validation""",
    "finetune": """examples:
  cam2seg finetune --profile smoke
  cam2seg finetune --profile isic-official --data-root ../shared/isic2017
  cam2seg finetune --profile embedded --models tf_efficientnet_lite0 --epochs 3 --patience 2
(fine-tuning on PH2 is refused: PH2 is an external test set, see `grid --profile ph2`)""",
    "grid": """examples:
  cam2seg grid --profile smoke
  cam2seg grid --profile isic-official --data-root ../shared/isic2017 --workers 2
  cam2seg grid --profile embedded --cams gradcam gradcam@aug gradcam++@eigen --percentile 50 70 90
  cam2seg grid --profile ph2 --data-root /data/PH2Dataset         # every PH2 image, no fine-tuning on PH2
  cam2seg grid --dataset ph2 --data-root /data/PH2Dataset --checkpoint-dir checkpoints/isic-official
  cam2seg grid --profile paper --shard 3/20 && cam2seg grid --profile paper --merge
Kill it at any moment and run the same command again: it resumes.""",
    "summarize": """examples:
  cam2seg summarize --profile smoke
  cam2seg summarize --profile isic-official --data-root ../shared/isic2017
  cam2seg summarize --profile embedded --percentile 70 --prompt-variants box+points
Tables go to <output-dir>/tables/*.csv; the parameters asked must be among those the grid ran.""",
    "publish": """examples:
  cam2seg publish --profile isic-official --data-root ../shared/isic2017
  cam2seg publish --profile local-isic --output-dir results/local-isic --dest /tmp/snapshot
  cam2seg publish --profile local-isic --tables-only    # recompute the committed snapshot's tables""",
    "tune-strategies": """examples:
  cam2seg tune-strategies --profile isic-official --data-root ../shared/isic2017
Writes label_efficiency.csv, weights_k<k>.json, strategy_tuning.json and the selection study\n(features.csv: each GT-free feature alone; selectors.csv: every ranking, with its 5-fold estimate)\nto <output-dir>/strategy_tuning/;
needs the fine-tuned checkpoints when the profile's settings include fine-tuned.""",
    "hitl": """examples:
  cam2seg hitl --profile isic-official --data-root ../shared/isic2017
  cam2seg hitl --profile isic-official --data-root ../shared/isic2017 --max-images 3 --hitl-dir /tmp/hitl3
  cam2seg hitl --profile smoke --starts gt-box whole-image --modes box-edit --max-clicks 5
Kill it at any moment and run the same command again: it resumes (units of start x mode x image).""",
}


def _add_common(p: argparse.ArgumentParser) -> None:
    from .profiles import DEFAULT_PROFILE, list_profiles

    p.add_argument("--profile", default=DEFAULT_PROFILE,
                   help=f"named preset of every config field: {', '.join(list_profiles())} (default: "
                        f"%(default)s; see cam2seg_utils/profiles.py)")
    p.add_argument("--config", metavar="FILE",
                   help="YAML or JSON file of ExperimentConfig fields, applied over the profile (a `profile:` key "
                        "in it picks the profile)")
    p.add_argument("--device", choices=["cpu", "cuda"], help=f"torch device ({_FROM_PROFILE}: cpu except paper: cuda)")
    p.add_argument("--output-dir", dest="output_dir", metavar="DIR",
                   help=f"results folder of the run ({_FROM_PROFILE}, results/<profile>)")
    p.add_argument("--data-root", dest="data_root", metavar="DIR",
                   help=f"data folder: ISIC 2017 official layout, the PH2 folder, or where synthetic data is "
                        f"written ({_FROM_PROFILE}, e.g. data/synthetic, ../shared/isic2017)")
    p.add_argument("--checkpoint-dir", dest="checkpoint_dir", metavar="DIR",
                   help=f"folder of the fine-tuned checkpoints <DIR>/<model>/best.pt ({_FROM_PROFILE}, "
                        "checkpoints/<profile>; ph2: checkpoints/isic-official)")
    p.add_argument("--seed", type=int, help=f"seed of splits, RandomCAM and point sampling ({_FROM_PROFILE}: 0)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any other ExperimentConfig field, the value parsed as YAML, e.g. --set max_side=512 "
                        "--set 'settings=[zero-shot]'; repeatable")
    p.add_argument("--quiet", action="store_true", help="no progress bars (papermill, CI)")


def _add_grid_flags(p: argparse.ArgumentParser) -> None:
    from .experiments.config import BASELINES, DATASETS, DEFAULT_STRATEGIES, PAPER_MODELS, PROMPT_VARIANTS
    from .cams.registry import cams_help, slow_cams
    from .names import PAPER_CAMS
    from .prompting import STRATEGIES, PromptParams

    algo1 = PromptParams()

    p.add_argument("--dataset", choices=list(DATASETS),
                   help=f"synthetic, isic (ISIC 2017) or ph2 (PH2: evaluation only, every image, zero-shot and "
                        f"with the ISIC-fine-tuned checkpoint of --checkpoint-dir) ({_FROM_PROFILE})")
    p.add_argument("--max-images", dest="max_images", type=int, metavar="N",
                   help=f"evaluate only the first N test images (sorted ids) ({_FROM_PROFILE}; none = all)")
    p.add_argument("--evaluate-on", dest="evaluate_on", choices=["test", "val"],
                   help="test (default): the test images; val: the validation part of the training split, for "
                        "tuning prompt parameters without touching the test images")
    p.add_argument("--models", nargs="+", metavar="MODEL",
                   help=f"classifiers: {', '.join(PAPER_MODELS)} (the paper's five, ImageNet weights from the timm "
                        "hub), tf_efficientnet_lite0 (offline, embedded weights), or any timm architecture name "
                        f"({_FROM_PROFILE}: tf_efficientnet_lite0; paper: the five)")
    p.add_argument("--cams", nargs="+", metavar="CAM",
                   help=cams_help(default=PAPER_CAMS))
    p.add_argument("--strategies", nargs="+", metavar="STRATEGY",
                   help=f"prompting strategies run on every image: {', '.join(STRATEGIES.names())} "
                        f"(default: {', '.join(DEFAULT_STRATEGIES)}); the baselines {', '.join(BASELINES)} are "
                        "the gt_baselines field (--set)")
    p.add_argument("--percentile", nargs="+", type=float, metavar="P",
                   help="Algorithm 1's heatmap percentile(s) in [0, 100]; several = a sweep (default: "
                        f"{algo1.percentile:g})")
    p.add_argument("--num-points", dest="num_points", nargs="+", type=int, metavar="N",
                   help=f"Algorithm 1's number of point prompts, >= 1 (default: {algo1.num_points})")
    p.add_argument("--amplification", nargs="+", type=float, metavar="A",
                   help=f"Algorithm 1's amplification of the point-sampling weights (default: {algo1.amplification:g})")
    p.add_argument("--prompt-variants", dest="prompt_variants", nargs="+", metavar="VARIANT",
                   help=f"prompts given to the segmenter: {', '.join(PROMPT_VARIANTS)} (default: all three; the "
                        "tables show box)")
    p.add_argument("--segmenter", metavar="NAME",
                   help="litemedsam (offline; the default of every profile but paper), medsam_vit_b (the "
                        "paper's; checkpoint medsam_vit_b.pth), sam_vit_b, sam_vit_l, sam_vit_h")
    p.add_argument("--slow-cams-max-images", dest="slow_cams_max_images", type=int, metavar="N",
                   help=f"run the slow CAMs ({', '.join(slow_cams())}) on the first N images only "
                        f"({_FROM_PROFILE}: all; smoke: 1)")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, its usage errors one ``cam2seg: error:`` line (exit 2) like the rest."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"cam2seg: error: {message} (`{self.prog} --help` lists the flags)\n")


def _subparser(sub, name: str, help_text: str):
    return sub.add_parser(name, help=help_text, description=help_text, epilog=_EXAMPLES.get(name),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def make_parser() -> argparse.ArgumentParser:
    from . import __version__

    ap = _Parser(prog="cam2seg", description="CAM prompts for MedSAM: data, fine-tuning, grid, tables",
                                 epilog="`cam2seg <command> --help` lists a command's flags, with examples.")
    ap.add_argument("--version", action="version", version=f"cam2seg {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    p = _subparser(sub, "generate-data", "write the synthetic dataset of the profile")
    _add_common(p)
    p = _subparser(sub, "download", "download ISIC 2017 into data_root (needs the internet)")
    _add_common(p)
    p.add_argument("--splits", nargs="+", metavar="SPLIT",
                   help="ISIC splits: Training, Validation, Test (default: the config's download_splits)")
    p.add_argument("--trust-unknown", dest="trust_unknown", action="store_true",
                   help="use files the manifest has no checksum for (their SHA-256 is printed first)")
    p = _subparser(sub, "finetune", "fine-tune the classifiers and evaluate classification")
    _add_common(p)
    _add_grid_flags(p)
    p.add_argument("--epochs", type=int, help=f"most epochs ({_FROM_PROFILE}; the paper: 500)")
    p.add_argument("--patience", type=int,
                   help=f"early stopping after this many epochs without improvement ({_FROM_PROFILE}; the paper: 20)")
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="start training over (default: resume from the last epoch's checkpoint)")
    p = _subparser(sub, "grid", "run (or resume) the experiment grid")
    _add_common(p)
    _add_grid_flags(p)
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="delete the folder's existing results first (default: resume)")
    p.add_argument("--shard", metavar="K/N",
                   help="compute only task K of N (images at positions i %% N == K of the sorted ids) into "
                        "the same output folder; then `grid --merge` (e.g. a SLURM array: "
                        "--shard $SLURM_ARRAY_TASK_ID/N)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes computing images in parallel on this machine (default %(default)s)")
    p.add_argument("--merge", action="store_true",
                   help="compute nothing: build grid.parquet and run_summary.json from the shard tasks' results "
                        "(also rebuilds a damaged grid.parquet)")
    p.add_argument("--allow-missing", dest="allow_missing", action="store_true",
                   help="with --merge: write a partial table when images have no result yet")
    p = _subparser(sub, "summarize", "write the summary tables of a finished grid as CSV")
    _add_common(p)
    _add_grid_flags(p)
    p = _subparser(sub, "publish", "copy a finished run's tidy tables (no pixels) into results/published/<profile>")
    _add_common(p)
    p.add_argument("--dest", metavar="DIR", help="snapshot folder (default: results/published/<profile>)")
    p.add_argument("--tables-only", dest="tables_only", action="store_true",
                   help="recompute the tables of the existing snapshot (--dest, default results/published/<profile>) "
                        "from its own grid.parquet (no run folder, no data)")
    p = _subparser(sub, "tune-strategies", "fit the ranked strategies' weights on k training masks (the images "
                                           "fine-tuning holds out) and measure each k on the evaluation split "
                                           "(writes <output_dir>/strategy_tuning/)")
    _add_common(p)
    p.add_argument("--max-images", dest="max_images", type=int, metavar="N",
                   help=f"evaluate on the first N evaluation images only ({_FROM_PROFILE}; none = all); the fit "
                        "uses every image fine-tuning holds out")
    p.set_defaults(profile="isic-official")
    p = _subparser(sub, "hitl", "the human in the loop, measured: simulated clicks per start x refinement mode "
                                "(writes <output_dir>/hitl/)")
    _add_common(p)
    from .experiments import hitl

    hitl.add_arguments(p)
    return ap


def _generate(config) -> Path:
    from .experiments.datasets import generate_synthetic_data

    generate_synthetic_data(config, progress=config.progress)
    return Path(config.data_root)


def _grid(args, config) -> None:
    import time

    from .experiments.engine import COUNT_KEYS
    from .experiments.merge import merge_grid
    from .experiments.run import run_grid

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


def _expected_errors() -> tuple[type[BaseException], ...]:
    """What bad input raises: a bad value (``ValueError``, with the package's own subclasses:
    ``DataError``, ``ResultsMismatchError``, ``SnapshotError``, ``CheckpointError``), a missing
    file or folder (a run, a checkpoint, a data root) and weights that cannot be fetched."""
    from .models.weights import WeightsUnavailableError

    return ValueError, FileNotFoundError, NotADirectoryError, WeightsUnavailableError


def check_inputs(args: argparse.Namespace, config) -> None:
    """Everything a command can check before any work, in the order a user fixes it: names
    (classifiers, segmenter, CAMs, hitl's starts and modes), what the command can do with the
    dataset, the command's own flags, then the files: the data folder before the checkpoints."""
    from .experiments.config import check_paths
    from .experiments.datasets import spec_of

    cmd = args.command
    computes = cmd in ("finetune", "tune-strategies", "hitl") or (cmd == "grid" and not args.merge)
    if cmd in ("finetune", "tune-strategies"):   # tune-strategies fits on the training split
        from .experiments.datasets import check_trainable

        check_trainable(config)
    if computes:
        from .experiments.run import check_model_names, check_segmenter_name

        check_model_names(config)
        check_segmenter_name(config)
    if cmd in ("grid", "tune-strategies"):
        from .experiments.run import check_cam_names

        check_cam_names(config)
    if cmd == "hitl":
        from .experiments.hitl import check_arguments

        check_arguments(args)
    spec = spec_of(config)
    if cmd == "generate-data" and spec.generate is None:
        raise ValueError(f"profile/config {config.name!r} uses dataset={config.dataset!r}; "
                         "generate-data only writes synthetic data (use `download` for ISIC 2017)")
    if cmd == "download" and spec.download is None:
        raise ValueError(f"download fetches ISIC 2017 only, not {spec.label} ({spec.obtain})")
    if cmd == "grid":
        from .experiments.shards import ShardSpec

        ShardSpec.parse(args.shard)
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        if args.allow_missing and not args.merge:
            raise ValueError("--allow-missing only applies to --merge")
    if cmd == "download":
        from .data.isic import canonical_split

        for split in args.splits or ():
            canonical_split(split)
    if cmd in ("generate-data", "download") and Path(config.data_root).exists() and not Path(config.data_root).is_dir():
        raise ValueError(f"data_root {config.data_root}: is a file, not a folder")
    if computes:
        # finetune writes the synthetic data it lacks; the grid reads the fine-tuned checkpoints
        # (tune-strategies: the first model's), hitl only the zero-shot weights
        check_paths(config, data=not (cmd == "finetune" and spec.generate is not None),
                    evaluation=cmd != "finetune", finetuned=cmd in ("grid", "tune-strategies"),
                    training=cmd == "finetune")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; bad input is one line ``cam2seg: error: ...`` and exit status 2, before any
    work when it can be seen from the config (set ``CAM2SEG_TRACEBACK=1`` for the traceback)."""
    args = make_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"
    try:
        config = build_config(args)
        check_inputs(args, config)
        return _run(args, config)
    except _expected_errors() as exc:
        if os.environ.get("CAM2SEG_TRACEBACK"):
            raise
        print(f"cam2seg: error: {' '.join(str(exc).split())}", file=sys.stderr)   # one line
        return 2


def _run(args, config) -> int:
    if args.command == "generate-data":
        root = _generate(config)
        print(f"synthetic data ready under {root}")
    elif args.command == "download":
        from .experiments.datasets import spec_of

        spec = spec_of(config)
        root = spec.download(config, args.splits, allow_unverified=args.trust_unknown, progress=config.progress)
        print(f"{spec.label} ready under {root}")
    elif args.command == "finetune":
        from .experiments.finetune import run_finetune

        from .experiments.datasets import spec_of

        if spec_of(config).generate is not None and not Path(config.data_root).is_dir():
            _generate(config)
        table = run_finetune(config, resume=args.resume)
        print(table.to_string(index=False))
        print(f"classification table: {Path(config.output_dir) / 'classification.csv'}")
    elif args.command == "grid":
        _grid(args, config)
    elif args.command == "summarize":
        import pandas as pd

        from .experiments.summarize import summarize

        tables = summarize(config)
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            for name, df in tables.items():
                print(f"\n== {name} ==")
                print(df.to_string(index=False))
        print(f"\ntables written to {Path(config.output_dir) / 'tables'}")
    elif args.command == "hitl":
        from .experiments import hitl

        hitl.run(config, args)
    elif args.command == "tune-strategies":
        from .experiments.selection_study import run as tune

        result = tune(config, Path(config.output_dir) / "strategy_tuning", progress=config.progress)
        print(json.dumps(result, indent=2))
    elif args.command == "publish":
        from .publish import PUBLISHED_ROOT, publish, regenerate_tables

        if args.tables_only:
            snap = regenerate_tables(args.dest or PUBLISHED_ROOT / args.profile)
        else:
            snap = publish(args.profile, source_dir=args.output_dir or config.output_dir, dest=args.dest,
                           data_root=args.data_root)
        files = snap.published["files"]
        print(f"snapshot {snap.folder}: {len(snap.grid)} rows, {snap.summary['n_images']} images, "
              f"{sum(f['bytes'] for f in files.values())} bytes in {len(files)} tables (+ run_summary.json, README.md)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

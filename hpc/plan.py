#!/usr/bin/env python
"""What hpc/pipeline.sh submits: the profile's models and stages, and with ``--resume`` only the
work whose outputs are missing. Prints shell assignments for ``eval`` (values quoted).

    python hpc/plan.py --profile paper --shards 20 [--resume] [--skip finetune,tune,hitl] -- <CAM2SEG_ARGS...>

The configuration is built exactly as the stages' cam2seg commands build it (profile, then
``--config`` file, then flags, from ``CAM2SEG_ARGS``), so the folders checked are the ones the
jobs write. A stage's output counts as present when:

  finetune  task i   results/<profile>-finetune/<model i>/classification.csv (written at its end)
  grid      task K   <output_dir>/tasks/shard-K-of-N.json (written when task K of N finished)
  merge              <output_dir>/run_summary.json complete for N shards, tables/individual.csv,
                     and grid.parquet newer than every task summary
  tune               <output_dir>/strategy_tuning/strategy_tuning.json
  hitl               <output_dir>/hitl/hitl_summary.json
  book               _build/html/index.html and book/generated/build_info.json of this profile

and a stage runs again whenever a stage it depends on runs (finetune -> grid -> merge -> book;
finetune -> tune -> book; grid -> hitl -> book); a stage in ``--skip`` is left out and counts as
done.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _config(profile: str, cam2seg_args: list[str]):
    sys.path.insert(0, str(REPO))
    from cam2seg_utils.cli import build_config, make_parser

    args = make_parser().parse_args(["grid", "--profile", profile, *cam2seg_args])
    return build_config(args)


def _newest(paths) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def merge_done(out: Path, shards: int) -> bool:
    summary_path, grid = out / "run_summary.json", out / "grid.parquet"
    if not (summary_path.is_file() and grid.is_file() and (out / "tables" / "individual.csv").is_file()):
        return False
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    tasks = list((out / "tasks").glob("shard-*-of-*.json"))
    return (bool(summary.get("complete")) and int(summary.get("num_shards") or 0) == shards
            and grid.stat().st_mtime >= _newest(tasks))


def book_done(profile: str) -> bool:
    info = REPO / "book" / "generated" / "build_info.json"
    if not ((REPO / "_build" / "html" / "index.html").is_file() and info.is_file()):
        return False
    try:
        built = json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return built.get("parameters", {}).get("profile") == profile


def plan(profile: str, shards: int, resume: bool, cam2seg_args: list[str], skip: frozenset = frozenset()) -> dict:
    """The assignments for pipeline.sh; ``skip``: stages left out (``--no-finetune`` etc.), which
    count as done and trigger nothing downstream."""
    cfg = _config(profile, cam2seg_args)
    out = Path(cfg.output_dir)
    models = list(cfg.models)
    finetuned = "fine-tuned" in cfg.settings
    p = {"MODELS": " ".join(models), "FINETUNED": int(finetuned), "TRAINABLE": int(cfg.dataset != "ph2"),
         "OUTPUT_DIR": str(out), "DEVICE": cfg.device}
    if not resume:
        return {**p, "FINETUNE_TODO": " ".join(map(str, range(len(models)))),
                "GRID_TODO": " ".join(map(str, range(shards))), "MERGE_TODO": 1, "TUNE_TODO": 1, "HITL_TODO": 1,
                "BOOK_TODO": 1}
    finetune = [i for i, m in enumerate(models)
                if not (REPO / "results" / f"{profile}-finetune" / m / "classification.csv").is_file()]
    if not finetuned or "finetune" in skip:
        finetune = []
    grid = [k for k in range(shards) if finetune or not (out / "tasks" / f"shard-{k}-of-{shards}.json").is_file()]
    merge = bool(grid) or not merge_done(out, shards)
    tune = "tune" not in skip and (bool(finetune) or not (out / "strategy_tuning" / "strategy_tuning.json").is_file())
    hitl = "hitl" not in skip and (bool(grid) or not (out / "hitl" / "hitl_summary.json").is_file())
    return {**p, "FINETUNE_TODO": " ".join(map(str, finetune)), "GRID_TODO": " ".join(map(str, grid)),
            "MERGE_TODO": int(merge), "TUNE_TODO": int(tune), "HITL_TODO": int(hitl),
            "BOOK_TODO": int(merge or tune or hitl or not book_done(profile))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", required=True)
    ap.add_argument("--shards", type=int, required=True)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--skip", default="", help="comma-separated stages left out (finetune, tune, hitl)")
    ap.add_argument("cam2seg_args", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    rest = args.cam2seg_args[1:] if args.cam2seg_args[:1] == ["--"] else args.cam2seg_args
    try:
        result = plan(args.profile, args.shards, args.resume, rest, frozenset(filter(None, args.skip.split(","))))
    except (KeyError, ValueError) as exc:
        print(f"pipeline.sh: {exc}", file=sys.stderr)
        return 2
    for key, value in result.items():
        print(f"{key}={shlex.quote(str(value))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

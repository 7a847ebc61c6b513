"""The default grid per image, this checkout against another commit, side by side on the same images.

    python benchmarks/bench_grid_parent.py --images 2                # against the merge base with main
    python benchmarks/bench_grid_parent.py --images 2 --baseline-ref 4cabe9c

The other commit is checked out with ``git worktree add --detach`` into a temporary folder and
both run in child processes (one torch thread each, so a shared machine's load blurs both alike)
on the first ``--images`` ISIC 2017 validation images: the default grid of the ``embedded``
stack -- both settings (the fine-tuned setting's work stood in by a second copy of the zero-shot
EfficientNet-Lite0 under its own cache identity: no fine-tuned checkpoint ships offline), the
five paper CAMs, every default strategy and the Algorithm 1 variants, LiteMedSAM. Each side runs
twice: ``cold`` (empty heatmap cache: every CAM computed) and ``warm`` (every heatmap from the
cache: what is left is the classifier, Algorithm 1, the decoder and the strategies); the phases
alternate between the sides.

Prints seconds per image of each side and phase, the ratio, the decoder calls and prompts, and
compares the two grid tables: the same rows (image, setting, model, CAM, strategy, variant,
parameters) and the largest IoU difference.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

KEYS = ["image_id", "setting", "model", "cam", "strategy", "prompt_variant", "percentile", "num_points",
        "amplification"]


def child(args) -> None:
    """One phase of one side, in this process (``PYTHONPATH`` = that side's checkout)."""
    import torch

    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.experiments.config import PAPER_CAMS, ExperimentConfig
    from cam2seg_utils.experiments.engine import LoadedClassifier
    from cam2seg_utils.experiments.run import run_grid
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.segmenters import build_segmenter

    torch.set_num_threads(args.threads)
    ds = ISICDataset(args.isic_root, "Validation")
    ids = sorted(ds.ids)[: args.images]
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded")
    seg = build_segmenter("litemedsam")
    lcs = [LoadedClassifier("zero-shot", "tf_efficientnet_lite0", clf, "embedded", "embedded"),
           LoadedClassifier("fine-tuned", "tf_efficientnet_lite0", clf, "embedded (stand-in)", "embedded-stand-in")]
    work = Path(args.workdir)
    cfg = ExperimentConfig(name=args.child, cams=list(PAPER_CAMS), progress=False, output_dir=str(work / args.child),
                           cache_dir=args.cache_dir or str(work / "cache"))
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_grid(cfg, segmenter=seg, classifiers=lcs, dataset=ds, image_ids=ids)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    res.table.to_parquet(work / f"{args.child}.parquet")
    s = res.summary
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "n_images": len(ids), "decoder_calls": s["decoder_calls"],
                      "decoder_prompts": s.get("decoder_prompts"), "duplicate_prompts": s.get("duplicate_prompts"),
                      "cam_calls": s["cam_calls"], "n_errors": s["n_errors"], "n_rows": len(res.table)}))


def _run_child(checkout: Path, phase: str, workdir: Path, args, cache_dir: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", phase, "--workdir", str(workdir),
           "--images", str(args.images), "--isic-root", args.isic_root, "--threads", str(args.threads)]
    if cache_dir is not None:
        cmd += ["--cache-dir", str(cache_dir)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(checkout))
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{phase} in {checkout} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(new, old) -> tuple[int, int, float]:
    """``(rows only in one table, rows in both, max |IoU difference|)``, on :data:`KEYS`."""
    import numpy as np

    a, b = (t[KEYS + ["iou"]].fillna({"cam": "", "prompt_variant": ""}) for t in (new, old))
    for t in (a, b):
        for k in ("percentile", "num_points", "amplification"):
            t[k] = t[k].astype(float).round(6)
    m = a.merge(b, on=KEYS, how="outer", suffixes=("_new", "_old"), indicator=True)
    both = m[m["_merge"] == "both"]
    diff = np.nanmax(np.abs(both["iou_new"] - both["iou_old"])) if len(both) else float("nan")
    return int((m["_merge"] != "both").sum()), len(both), float(diff)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--isic-root", default=str(Path(__file__).resolve().parents[1] / "../shared/isic2017"))
    ap.add_argument("--baseline-ref", default=None, help="commit to compare with (default: merge base with main)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warm-only", action="store_true",
                    help="one cold run of this checkout fills a heatmap cache both sides then read (the CAMs' "
                         "time left out); only the warm phase is compared")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.isic_root = str(Path(args.isic_root).resolve())
    if args.child:
        child(args)
        return 0

    import pandas as pd

    here = Path(__file__).resolve().parents[1]
    git = ["git", "-C", str(here)]
    ref = args.baseline_ref or subprocess.check_output(git + ["merge-base", "HEAD", "main"], text=True).strip()
    sha = subprocess.check_output(git + ["rev-parse", ref], text=True).strip()
    with tempfile.TemporaryDirectory(prefix="bench_grid_parent-") as tmp:
        tmp = Path(tmp)
        base = tmp / "baseline"
        subprocess.run(git + ["worktree", "add", "--detach", str(base), sha], check=True, capture_output=True)
        try:
            sides = {"this checkout": (here, tmp / "new"), f"baseline {sha[:10]}": (base, tmp / "old")}
            results: dict[tuple[str, str], dict] = {}
            phases = ("warm",) if args.warm_only else ("cold", "warm")
            shared_cache = None
            if args.warm_only:
                shared_cache = tmp / "shared-cache"
                (tmp / "fill").mkdir()
                _run_child(here, "fill", tmp / "fill", args, shared_cache)
            for phase in phases:
                for side, (checkout, workdir) in sides.items():
                    workdir.mkdir(exist_ok=True)
                    results[side, phase] = _run_child(checkout, phase, workdir, args, shared_cache)
                    r = results[side, phase]
                    print(f"done {side} {phase}: {r['wall_s'] / r['n_images']:.1f} s/image", flush=True)
            rows = []
            for (side, phase), r in results.items():
                n = r["n_images"]
                rows.append({"side": side, "phase": phase, "wall s / image": r["wall_s"] / n,
                             "CPU s / image": r["cpu_s"] / n, "decoder calls / image": r["decoder_calls"] / n,
                             "decoded prompts / image": (r["decoder_prompts"] or float("nan")) / n,
                             "duplicates dropped / image": (r["duplicate_prompts"] or float("nan")) / n,
                             "rows": r["n_rows"], "errors": r["n_errors"]})
            print(f"{args.images} ISIC 2017 validation images, default grid (2 settings x Lite0 embedded, 5 CAMs, "
                  f"every default strategy), LiteMedSAM, {args.threads} thread(s)")
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
            new_side, old_side = list(sides)
            for phase in phases:
                ratio = results[old_side, phase]["wall_s"] / results[new_side, phase]["wall_s"]
                cpu = results[old_side, phase]["cpu_s"] / results[new_side, phase]["cpu_s"]
                print(f"{phase}: baseline / this checkout = {ratio:.2f}x wall, {cpu:.2f}x CPU")
            for phase in phases:
                only, both, diff = compare(pd.read_parquet(tmp / "new" / f"{phase}.parquet"),
                                           pd.read_parquet(tmp / "old" / f"{phase}.parquet"))
                print(f"tables ({phase}): {both} rows in both, {only} in one only, max |IoU difference| = {diff:.2e}")
        finally:
            subprocess.run(git + ["worktree", "remove", "--force", str(base)], capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The grid on full-size images: wall time, peak memory and heatmap-cache bytes per image by size.

    python benchmarks/bench_fullres.py --isic-root ../shared/isic2017 --images 2 \
        --sizes 256x256 1022x767 2048x1536 4000x3000 6688x4439 --max-side-run 1024

ISIC 2017 originals range from about 1022 x 767 to 6688 x 4439 pixels; ``../shared`` holds 256 x 256
copies. Each size here is the same real images (the first ``--images`` sorted ids of the shared
folder) upscaled on load (bicubic; masks nearest-neighbour), so the only thing that changes
between rows is the pixel count. Each size runs in a fresh child process (so that its peak RSS is
its own): the grid of the ``embedded`` stack -- zero-shot EfficientNet-Lite0 (embedded weights),
LiteMedSAM, the five paper CAMs with the default ScoreCAM / AblationCAM settings, the
box / box+points / points variants and the CAM-mask rows, the GT box and point -- with an empty
heatmap cache. Metrics are computed at each size (the ground truth's resolution), as the paper
measures. ``--max-side-run N`` adds a row for the largest size with ``max_side=N`` (the
downsized route).

Columns: ``CPU s / image`` (process time of the grid / images; one torch thread, so that the
load of a shared machine does not blur the comparison), ``wall s / image``, ``peak RSS MB`` (the
child's maximum resident set), ``working MB`` (that peak minus the resting RSS after the models
are loaded and the warm-up image is done: the memory one image needs at its peak), ``cache bytes / image`` (heatmap-cache files written,
all CAMs of an image) and, for scale, what the cache held per image before (float32 heatmaps at
the image size, uncompressed ``.npz``).
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


class UpscaledDataset:
    """``base`` (an :class:`~cam2seg_utils.data.isic.ISICDataset`) with every image resized to
    ``(height, width)`` on load: bicubic for the image, nearest-neighbour for the mask."""

    def __init__(self, base, height: int, width: int) -> None:
        self.base, self.size = base, (int(height), int(width))
        self.ids = list(base.ids)

    def load(self, image_id: str):
        from dataclasses import replace

        import numpy as np
        from PIL import Image

        s = self.base.load(image_id)
        h, w = self.size
        if s.image.shape[:2] == (h, w):
            return s
        image = np.asarray(Image.fromarray(s.image).resize((w, h), Image.Resampling.BICUBIC))
        mask = np.asarray(Image.fromarray(s.mask.astype(np.uint8) * 255).resize((w, h), Image.Resampling.NEAREST)) > 127
        return replace(s, image=image, mask=mask)


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args) -> None:
    """One size in this process; prints one JSON line."""
    import resource

    import torch

    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.experiments.config import ExperimentConfig
    from cam2seg_utils.names import PAPER_CAMS
    from cam2seg_utils.experiments.engine import LoadedClassifier
    from cam2seg_utils.experiments.run import run_grid
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.segmenters import build_segmenter

    torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.child.split("x"))
    ds = UpscaledDataset(ISICDataset(args.isic_root, "Training"), h, w)
    ids = sorted(ds.ids)[: args.images + 1]  # the first is a warm-up image, not counted
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded")
    seg = build_segmenter("litemedsam")
    lc = [LoadedClassifier("zero-shot", "tf_efficientnet_lite0", clf, "embedded", "embedded")]
    work = Path(args.workdir)

    def config(name: str) -> ExperimentConfig:
        return ExperimentConfig(name=name, settings=["zero-shot"], cams=list(args.cams or PAPER_CAMS), progress=False,
                                output_dir=str(work / name), cache_dir=str(work / f"cache-{name}"),
                                max_side=args.max_side, cam_batch_size=64)

    run_grid(config("warmup"), segmenter=seg, classifiers=lc, dataset=ds, image_ids=ids[:1])
    base_rss = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_grid(config("run"), segmenter=seg, classifiers=lc, dataset=ds, image_ids=ids[1:])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cache_bytes = sum(p.stat().st_size for p in (work / "cache-run").rglob("*.npz"))
    print(json.dumps({"size": args.child, "max_side": args.max_side, "n_images": len(ids) - 1,
                      "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak, "base_rss_mb": base_rss,
                      "cache_bytes": cache_bytes, "cam_calls": res.summary["cam_calls"],
                      "n_errors": res.summary["n_errors"], "mean_iou_box": float(
                          res.table.query("prompt_variant == 'box' and setting == 'zero-shot'")["iou"].mean())}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isic-root", default="../shared/isic2017")
    ap.add_argument("--images", type=int, default=2, help="images per size (plus one warm-up image)")
    ap.add_argument("--sizes", nargs="+", default=["256x256", "1022x767", "2048x1536", "4000x3000", "6688x4439"],
                    help="WIDTHxHEIGHT")
    ap.add_argument("--max-side-run", type=int, default=1024, help="also run the largest size with this max_side (0: no)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cams", nargs="+", default=None, help="CAMs of the grid (default: the five paper CAMs)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--max-side", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0

    runs = [(s, None) for s in args.sizes]
    if args.max_side_run:
        runs.append((args.sizes[-1], args.max_side_run))
    results = []
    for size, max_side in runs:
        with tempfile.TemporaryDirectory(prefix="bench_fullres-") as tmp:
            cmd = [sys.executable, __file__, "--child", size, "--isic-root", args.isic_root, "--images",
                   str(args.images), "--threads", str(args.threads), "--workdir", tmp]
            if args.cams:
                cmd += ["--cams", *args.cams]
            if max_side:
                cmd += ["--max-side", str(max_side)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"child run for {size} failed")
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(f"done {size} max_side={max_side}: {r['cpu_s'] / r['n_images']:.1f} CPU s/image", flush=True)

    import pandas as pd

    rows = []
    for r in results:
        w, h = (int(v) for v in r["size"].split("x"))
        n = r["n_images"]
        rows.append({"image size": r["size"] + (f" (max_side {r['max_side']})" if r["max_side"] else ""),
                     "megapixels": w * h / 1e6, "CPU s / image": r["cpu_s"] / n, "wall s / image": r["wall_s"] / n,
                     "peak RSS MB": r["peak_rss_mb"],
                     "working MB": r["peak_rss_mb"] - r["base_rss_mb"],
                     "cache bytes / image": r["cache_bytes"] / n,
                     "old cache bytes / image": 5 * (w * h * 4 + 1000) if not r["max_side"] else float("nan"),
                     "CAM calls": r["cam_calls"], "errors": r["n_errors"], "mean IoU (box)": r["mean_iou_box"]})
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(f"{args.images} real ISIC images of {args.isic_root} upscaled per size (+1 warm-up), "
              f"CAMs {' '.join(args.cams) if args.cams else 'the five paper CAMs'}, "
              f"Lite0 embedded zero-shot, LiteMedSAM, {args.threads} thread(s)")
        print(df.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

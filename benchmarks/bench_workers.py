"""Grid wall time with 1 worker process vs W workers (``cam2seg grid --workers W``), same images.

    python benchmarks/bench_workers.py --images 8 --workers 2          # synthetic images
    python benchmarks/bench_workers.py --isic-root ../shared/isic2017 --images 8

Both runs build their models from the config (zero-shot EfficientNet-Lite0 with its embedded
ImageNet weights, LiteMedSAM), start from an empty results folder and an empty heatmap cache,
and compute the same table; the 1-worker run is the plain single-process grid (torch's default
threads), the pooled run splits those threads between its workers. Wall times include loading
the models (once per worker). Prints both, the ratio, and whether the tables agree (values equal
up to float rounding: torch's CPU kernels sum in an order that depends on the thread count).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--isic-root", default=None, help="ISIC folder (training split); default: synthetic")
    ap.add_argument("--cams", nargs="+", default=["gradcam", "gradcam++", "randomcam"])
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.data.synthetic import generate_synthetic
    from cam2seg_utils.experiments.config import ExperimentConfig
    from cam2seg_utils.experiments.run import run_grid
    from cam2seg_utils.experiments.table import TIMING_COLUMNS

    tmp = Path(tempfile.mkdtemp(prefix="bench_workers-"))
    if args.isic_root:
        ds = ISICDataset(args.isic_root, "Training")
    else:
        generate_synthetic(tmp / "data", n_images=args.images, seed=0, split="Test", size_range=(256, 384),
                           progress=False)
        ds = ISICDataset(tmp / "data", "Test")
    ids = list(ds.ids)[: args.images]
    tables, times = {}, {}
    for workers in (1, args.workers):
        cfg = ExperimentConfig(settings=["zero-shot"], cams=args.cams, output_dir=str(tmp / f"grid-{workers}"),
                               cache_dir=str(tmp / f"cache-{workers}"), progress=False)
        t0 = time.perf_counter()
        res = run_grid(cfg, dataset=ds, image_ids=ids, workers=workers)
        times[workers] = time.perf_counter() - t0
        tables[workers] = res.table.drop(columns=TIMING_COLUMNS)
        assert res.summary["encoder_calls"] == len(ids)
    try:
        pd.testing.assert_frame_equal(tables[1], tables[args.workers])
        same = "equal (rtol 1e-5)"
    except AssertionError as exc:
        same = f"DIFFERENT: {str(exc).splitlines()[0]}"
    print(f"{len(ids)} images, CAMs {args.cams}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}")
    print(f"{'workers':>8} {'wall s':>8} {'s/image':>8}")
    for workers, t in times.items():
        print(f"{workers:>8} {t:>8.1f} {t / len(ids):>8.2f}")
    print(f"speed-up {args.workers} workers vs 1: {times[1] / times[args.workers]:.2f}x; tables {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

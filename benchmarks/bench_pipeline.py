"""Per-stage CPU latency of the embedded stack, and embedding reuse vs re-encoding, in one run.

    python benchmarks/bench_pipeline.py [--repeats 5] [--prompts 16] [--slow-cams] [--device cpu]

Stages: classifier forward, each CAM method, Algorithm 1, LiteMedSAM encoder, LiteMedSAM decoder per
prompt (single and batched). Then N prompts on one image: the embedding computed once and reused
(what the grid and the demo do) against a naive loop that re-encodes the image for every prompt,
side by side, with the ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cam2seg_utils.cams import CamExtractor  # noqa: E402
from cam2seg_utils.data import ISICDataset, generate_synthetic  # noqa: E402
from cam2seg_utils.models import build_classifier  # noqa: E402
from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts  # noqa: E402
from cam2seg_utils.segmenters import build_segmenter  # noqa: E402


def timeit(fn, repeats: int) -> tuple[float, float]:
    """Median and min wall time in seconds over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--prompts", type=int, default=16, help="prompts on one image for the reuse comparison")
    ap.add_argument("--slow-cams", action="store_true", help="also time ScoreCAM and AblationCAM (~40 s each)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        generate_synthetic(tmp, n_images=1, seed=0, split="Test", size_range=(512, 512), progress=False)
        sample = ISICDataset(tmp, split="Test")[0]
    image = sample.image
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}, "
          f"image {image.shape[1]}x{image.shape[0]} (synthetic)")

    clf = build_classifier("tf_efficientnet_lite0", weights="embedded", device=args.device)
    seg = build_segmenter("litemedsam", device=args.device)
    rows: list[tuple[str, float, float]] = []

    rows.append(("classifier forward (tf_efficientnet_lite0)", *timeit(lambda: clf.predict(image), args.repeats)))
    methods = ["gradcam", "gradcam++", "xgradcam", "layercam", "eigencam", "randomcam"]
    if args.slow_cams:
        methods += ["scorecam", "ablationcam"]
    heatmap = None
    for method in methods:
        rng = np.random.default_rng(0)
        repeats = 1 if method in ("scorecam", "ablationcam") else args.repeats
        with CamExtractor(clf, method) as cam:
            rows.append((f"CAM {method}", *timeit(lambda: cam(image, rng=rng), repeats)))
            if method == "gradcam":
                heatmap = cam(image).heatmap
    params = PromptParams()
    prompts = generate_prompts(heatmap, params, np.random.default_rng(0))
    rows.append(("Algorithm 1 prompts", *timeit(
        lambda: generate_prompts(heatmap, params, np.random.default_rng(0)), args.repeats)))
    rows.append(("LiteMedSAM encoder", *timeit(lambda: seg.embed(image), args.repeats)))
    emb = seg.embed(image)
    rows.append(("LiteMedSAM decoder, 1 box prompt", *timeit(
        lambda: seg.segment(emb, box=prompts.box), args.repeats)))
    rows.append(("LiteMedSAM decoder, box + points", *timeit(
        lambda: seg.segment(emb, box=prompts.box, points=prompts.points,
                            point_labels=prompts.point_labels), args.repeats)))

    n = args.prompts
    boxes = np.stack([prompts.box + np.array([-i, -i, i, i]) for i in range(n)]).clip(0)

    def reuse_loop():
        e = seg.embed(image)
        for b in boxes:
            seg.segment(e, box=b)

    def reuse_batched():
        e = seg.embed(image)
        seg.segment_batch(e, boxes=boxes, points=None, point_labels=None)

    def naive():
        for b in boxes:
            seg.segment(seg.embed(image), box=b)

    t_naive = timeit(naive, max(1, args.repeats // 2))
    t_reuse = timeit(reuse_loop, max(1, args.repeats // 2))
    t_batch = timeit(reuse_batched, max(1, args.repeats // 2))

    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{'stage':<{width}}{'median ms':>12}{'min ms':>10}")
    for name, med, mn in rows:
        print(f"{name:<{width}}{med * 1e3:>12.1f}{mn * 1e3:>10.1f}")
    print(f"\n{n} box prompts on one image{'':<10}{'median s':>10}{'ratio vs naive':>16}")
    for name, (med, _) in (("naive: re-encode per prompt", t_naive), ("embedding reused, loop", t_reuse),
                           ("embedding reused, one batched decoder call", t_batch)):
        print(f"{name:<44}{med:>10.2f}{t_naive[0] / med:>15.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``paper`` profile's cost per image on a device, and the projected time of the paper's grid.

    bash benchmarks/gpu_check.sh                                        # first: the GPU path works
    python benchmarks/bench_paper_profile.py --device cuda --images 200 \
        --json results/bench_paper_profile/stages.json                  # -> book/scaling.md
    python benchmarks/bench_paper_profile.py --device cpu --images 1 \
        --models resnet50 --scorecam-channels 8                         # the same steps, tiny, on a CPU

What runs is the ``paper`` profile's architecture with **random weights** (a GPU machine without
internet has no ImageNet or MedSAM weights; the time per image does not depend on the weights):
MedSAM ViT-B (``segment_anything`` ``vit_b``, MedSAM preprocessing, the encoder autocast on CUDA)
and the five paper classifiers (timm, ``weights="random"``), on ``--images`` synthetic images
(``cam2seg_utils.data.generate_synthetic``, ``--size-range``). Per image:

1. the segmenter's encoder (once per image, as the grid does);
2. per classifier: the prediction, then each of the five paper CAMs with the ``paper`` profile's
   CAM options (ScoreCAM on every channel, as published; ``--scorecam-channels`` for a cheaper
   dry run), batch ``--cam-batch-size``;
3. per classifier: Algorithm 1's prompts from each CAM and the decoder for the three prompt
   variants (box, box+points, points): three decoder batches of five prompts.

Printed: seconds per image of each stage (mean over the images after ``--warmup`` untimed ones),
with the device synchronised around each stage, and the projection of the paper's grid:
``--test-images`` (600) x [encoder + 2 settings x sum over classifiers of (prediction + five
CAMs + decodes)]. The fine-tuned setting has the same architecture, hence the same cost; the
fine-tuning itself and this project's extra prompting strategies are not in the projection.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

#: the grid's settings: zero-shot and fine-tuned (same architectures, same cost per image)
N_SETTINGS = 2


def main(argv: list[str] | None = None) -> int:
    from cam2seg_utils.names import PAPER_CAMS, PAPER_MODELS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--images", type=int, default=200, help="synthetic images timed")
    ap.add_argument("--warmup", type=int, default=1, help="untimed images first (CUDA kernels, caches)")
    ap.add_argument("--size-range", type=int, nargs=2, default=(480, 640), metavar=("MIN", "MAX"))
    ap.add_argument("--models", nargs="+", default=list(PAPER_MODELS))
    ap.add_argument("--cams", nargs="+", default=list(PAPER_CAMS))
    ap.add_argument("--cam-batch-size", type=int, default=None, help="default: the paper profile's")
    ap.add_argument("--scorecam-channels", type=int, default=None,
                    help="ScoreCAM's top-k (default: the paper profile's, every channel)")
    ap.add_argument("--test-images", type=int, default=600, help="test images of the projected grid (paper: 600)")
    ap.add_argument("--workdir", default=None, help="synthetic images go here (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="also write the stages and the projection as JSON here")
    args = ap.parse_args(argv)
    if args.images < 1 or args.warmup < 0:
        ap.error("--images must be >= 1 and --warmup >= 0")

    import numpy as np
    import torch

    from cam2seg_utils.cams import CamExtractor
    from cam2seg_utils.data import generate_synthetic
    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.profiles import get_profile
    from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
    from cam2seg_utils.seeding import make_rng
    from cam2seg_utils.segmenters.sam import SamSegmenter

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch.cuda.is_available() is False; use --device cpu for a dry run")
    device = torch.device(args.device)
    paper = get_profile("paper")
    opts = paper.cam_options()
    cam_kw = {"batch_size": args.cam_batch_size or opts.batch_size, "ablation_channels": opts.ablation_channels,
              "scorecam_channels": args.scorecam_channels if args.scorecam_channels is not None
              else opts.scorecam_channels, "scorecam_selection": opts.scorecam_selection}

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_paper_profile-"))
    n_total = args.warmup + args.images
    generate_synthetic(work, n_images=n_total, seed=0, split="Test", size_range=tuple(args.size_range), progress=False)
    ds = ISICDataset(work, split="Test")
    ids = sorted(ds.ids)[:n_total]

    from segment_anything import sam_model_registry

    torch.manual_seed(0)
    seg = SamSegmenter(sam_model_registry["vit_b"](checkpoint=None), variant="medsam", name="medsam_vit_b (random)",
                       device=args.device)
    classifiers = {m: build_classifier(m, weights="random", device=args.device) for m in args.models}
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"bench_paper_profile on {gpu}: torch {torch.__version__}, {args.images} images (+{args.warmup} warm-up), "
          f"{len(classifiers)} classifiers, CAMs {args.cams}, CAM options {cam_kw}", flush=True)

    seconds: dict[str, list[float]] = {}

    def timed(stage: str, n: int, fn):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        if n >= args.warmup:
            seconds.setdefault(stage, []).append(time.perf_counter() - t0)
        return out

    extractors = {(m, c): CamExtractor(clf, c, progress=False, **cam_kw) for m, clf in classifiers.items()
                  for c in args.cams}
    try:
        for n, image_id in enumerate(ids):
            image = ds.load(image_id).image
            emb = timed("segmenter encoder (MedSAM ViT-B)", n, lambda: seg.embed(image))
            for m, clf in classifiers.items():
                target = timed(f"{m}: predict", n, lambda: clf.predict(image).class_index)
                boxes, points = [], []
                for c in args.cams:
                    ex = extractors[(m, c)]
                    rng = make_rng(0, image_id, m, c)
                    heat = timed(f"{m}: CAM {c}", n, lambda: ex(image, target_class=target, rng=rng).heatmap)
                    prompts = generate_prompts(heat, PromptParams(), make_rng(0, image_id, m, c, "prompts"))
                    boxes.append(prompts.box)
                    points.append(prompts.points)
                k = min(len(p) for p in points)
                pts = np.stack([p[:k] for p in points]) if k else None
                labels = np.ones(pts.shape[:2], dtype=np.int64) if pts is not None else None

                def decode():
                    seg.segment_batch(emb, np.stack(boxes), None, None)                 # box
                    if pts is not None:
                        seg.segment_batch(emb, np.stack(boxes), pts, labels)           # box+points
                        seg.segment_batch(emb, None, pts, labels)                       # points

                timed(f"{m}: Algorithm 1 + decoder, 3 variants x {len(args.cams)} CAMs", n, decode)
    finally:
        for ex in extractors.values():
            ex.close()

    rows = [{"stage": s, "images": len(v), "s / image": float(np.mean(v)), "max s": float(np.max(v))}
            for s, v in seconds.items()]
    per_image = {r["stage"]: r["s / image"] for r in rows}
    encoder = sum(v for s, v in per_image.items() if s.startswith("segmenter"))
    classifier_side = sum(v for s, v in per_image.items() if not s.startswith("segmenter"))
    grid_image = encoder + N_SETTINGS * classifier_side
    projection = {"test_images": args.test_images, "settings": N_SETTINGS, "classifiers": list(classifiers),
                  "cams": list(args.cams), "s_per_image": grid_image,
                  "hours": args.test_images * grid_image / 3600, "device": gpu, "cam_options": cam_kw}
    width = max(len(r["stage"]) for r in rows)
    for r in rows:
        print(f"{r['stage']:<{width}}  {r['s / image']:8.3f} s / image  (max {r['max s']:.3f}, {r['images']} images)")
    print(f"projected paper grid: {args.test_images} images x [encoder {encoder:.3f} s + {N_SETTINGS} settings x "
          f"{classifier_side:.3f} s] = {grid_image:.2f} s / image, {projection['hours']:.2f} h on {gpu} "
          "(fine-tuning and the extra prompting strategies not included)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"stages": rows, "projection": projection}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

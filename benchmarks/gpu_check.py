"""The GPU path, checked end to end: AMP fine-tuning, every CAM, the grid; images/s and peak memory.

Run through ``benchmarks/gpu_check.sh`` (which first runs the CUDA-marked tests)::

    bash benchmarks/gpu_check.sh                          # CUDA: 16 real images, 1 epoch on the local-isic split
    bash benchmarks/gpu_check.sh --device cpu --images 2 --train-images 16   # the same steps on a CPU, tiny

Steps, on ``--images`` real images of ``--isic-root`` (the ``local-isic`` profile's held-out
test ids; fine-tuning uses its training / validation ids, at most ``--train-images`` of them):

1. fine-tune EfficientNet-Lite0 (embedded ImageNet weights) for one epoch with AMP
   (``amp=True``: bf16 / fp16 autocast on CUDA, a no-op on a CPU) -> training images/s;
2. per stage, over the images: segmenter encoder, classifier prediction, each of the five paper
   CAMs (ScoreCAM / AblationCAM batched, ``--cam-batch-size``), Algorithm 1 + decoder -> images/s
   and peak memory of that stage (CUDA: ``torch.cuda.max_memory_allocated``; CPU: process RSS);
3. the grid itself (zero-shot + the fine-tuned checkpoint, every paper CAM, all prompt variants,
   a fresh heatmap cache) -> end-to-end images/s, and a check that it ran without error rows
   and one encoder pass per image.

Prints one table; exits non-zero when a step fails (so CI / a SLURM job sees it).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

LITE0 = "tf_efficientnet_lite0"


class StageMeter:
    """Wall time and peak memory of one stage (``with meter.stage(name, n_items): ...``)."""

    def __init__(self, device) -> None:
        import torch

        self.torch = torch
        self.device = device
        self.rows: list[dict] = []

    def _sync(self) -> None:
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def stage(self, name: str, n_items: int, unit: str = "images"):
        meter = self

        class _Stage:
            def __enter__(self_inner):
                meter._sync()
                if meter.device.type == "cuda":
                    meter.torch.cuda.reset_peak_memory_stats(meter.device)
                self_inner.t0 = time.perf_counter()
                return self_inner

            def __exit__(self_inner, exc_type, exc, tb):
                meter._sync()
                dt = time.perf_counter() - self_inner.t0
                row = {"stage": name, "n": n_items, "unit": unit, "seconds": dt,
                       "per second": n_items / dt if dt > 0 else float("nan"),
                       "peak host RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
                if meter.device.type == "cuda":
                    row["peak GPU MB"] = meter.torch.cuda.max_memory_allocated(meter.device) / 2**20
                if exc_type is None:
                    meter.rows.append(row)
                return False

        return _Stage()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--images", type=int, default=16, help="real test images for the CAM / grid stages")
    ap.add_argument("--train-images", type=int, default=None,
                    help="cap on fine-tuning training (and validation) images; default: the whole split")
    ap.add_argument("--isic-root", default="../shared/isic2017")
    ap.add_argument("--cam-batch-size", type=int, default=None,
                    help="ScoreCAM's masked images per pass (default: 64 on CUDA, the CPU default on a CPU)")
    ap.add_argument("--batch-size", type=int, default=32, help="fine-tuning batch size")
    ap.add_argument("--workdir", default=None, help="default: a temporary folder")
    ap.add_argument("--json", default=None, help="also write the table as JSON here")
    args = ap.parse_args(argv)
    if args.images < 1 or (args.train_images is not None and args.train_images < 2):
        ap.error("--images must be >= 1 and --train-images >= 2")

    import numpy as np
    import pandas as pd
    import torch

    from cam2seg_utils.cams import CamExtractor
    from cam2seg_utils.names import PAPER_CAMS
    from cam2seg_utils.experiments.datasets import resolve_splits
    from cam2seg_utils.experiments.finetune import finetune, load_finetuned
    from cam2seg_utils.experiments.engine import LoadedClassifier
    from cam2seg_utils.experiments.run import run_grid
    from cam2seg_utils.file_digest import file_sha256
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.profiles import get_profile
    from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
    from cam2seg_utils.seeding import make_rng
    from cam2seg_utils.segmenters import build_segmenter

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch.cuda.is_available() is False; use --device cpu for the CPU run")
    device = torch.device(args.device)
    if args.cam_batch_size is None:
        from cam2seg_utils.cam_options import DEFAULT_CAM_BATCH_SIZE
        from cam2seg_utils.profiles import GPU_CAM_BATCH_SIZE

        args.cam_batch_size = GPU_CAM_BATCH_SIZE if device.type == "cuda" else DEFAULT_CAM_BATCH_SIZE
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gpu_check-"))
    cfg = get_profile("local-isic", data_root=args.isic_root, device=args.device, max_images=args.images,
                      cam_batch_size=args.cam_batch_size, output_dir=str(work / "grid"),
                      cache_dir=str(work / "heatmap_cache"), checkpoint_dir=str(work / "checkpoints"),
                      progress=False)
    splits = resolve_splits(cfg)
    train_ids = splits.train_ids[: args.train_images] if args.train_images else splits.train_ids
    val_ids = splits.val_ids[: args.train_images] if args.train_images else splits.val_ids
    ids = splits.test_ids
    ds = splits.test_dataset
    meter = StageMeter(device)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"gpu_check on {gpu}: torch {torch.__version__}, {len(ids)} test images, "
          f"{len(train_ids)} / {len(val_ids)} fine-tuning train / val images, workdir {work}", flush=True)

    # 1. fine-tuning, one epoch, AMP
    with meter.stage("fine-tune 1 epoch (AMP)", len(train_ids), "train images"):
        ft = finetune(LITE0, splits.train_dataset, train_ids, val_ids, work / "checkpoints" / LITE0,
                      init_weights="embedded", epochs=1, patience=1, batch_size=args.batch_size,
                      device=args.device, amp=True, seed=cfg.seed, resume=False, progress=False)
    hist = ft.history.iloc[-1].to_dict()
    print(f"fine-tuned: {json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in hist.items()})}",
          flush=True)

    # 2. stages
    samples = [ds.load(i) for i in ids]
    seg = build_segmenter(cfg.segmenter, device=args.device)
    zs = build_classifier(LITE0, weights="embedded", device=args.device)
    fine = load_finetuned(LITE0, ft.best_checkpoint, device=args.device)
    with meter.stage("segmenter encoder", len(samples)):
        embeddings = [seg.embed(s.image) for s in samples]
    with meter.stage("classifier predict (zero-shot)", len(samples)):
        preds = [zs.predict(s.image).class_index for s in samples]
    heat = {}
    for cam in PAPER_CAMS:
        with meter.stage(f"CAM {cam}", len(samples)):
            with CamExtractor(zs, cam, progress=False, **_asdict(cfg.cam_options())) as ex:
                for s, p in zip(samples, preds):
                    heat[(s.image_id, cam)] = ex(s.image, target_class=p,
                                                 rng=make_rng(cfg.seed, s.image_id, LITE0, "randomcam")).heatmap
    with meter.stage("Algorithm 1 + decoder (box), all CAMs", len(samples) * len(PAPER_CAMS), "prompts"):
        for s, emb in zip(samples, embeddings):
            boxes = np.stack([generate_prompts(heat[(s.image_id, c)], PromptParams(),
                                               make_rng(cfg.seed, s.image_id, c)).box for c in PAPER_CAMS])
            seg.segment_batch(emb, boxes, None, None)
    del embeddings, heat

    # 3. the grid
    lcs = [LoadedClassifier("zero-shot", LITE0, zs, "embedded", "embedded"),
           LoadedClassifier("fine-tuned", LITE0, fine, "best.pt", file_sha256(ft.best_checkpoint))]
    enc0 = seg.encoder_calls
    with meter.stage("grid (2 settings x 5 CAMs x 3 variants + GT)", len(ids)):
        res = run_grid(cfg, segmenter=seg, classifiers=lcs, dataset=ds, image_ids=ids, resume=False)
    problems = []
    if res.summary["n_errors"]:
        errs = res.table[res.table["error"].notna()]["error"].unique()[:3]
        problems.append(f"grid wrote {res.summary['n_errors']} error rows, e.g. {list(errs)}")
    if seg.encoder_calls - enc0 != len(ids):
        problems.append(f"grid ran the encoder {seg.encoder_calls - enc0} times for {len(ids)} images")
    missing = set(PAPER_CAMS) - set(res.table["cam"])
    if missing:
        problems.append(f"grid has no rows for {sorted(missing)}")

    table = pd.DataFrame(meter.rows)
    with pd.option_context("display.width", 200, "display.max_columns", 10):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    box = res.table.query("prompt_variant == 'box' and setting in ['zero-shot', 'fine-tuned']")
    print("grid mean IoU (box) per setting x CAM:")
    print(box.groupby(["setting", "cam"])["iou"].mean().unstack().round(3).to_string())
    if args.json:
        Path(args.json).write_text(table.to_json(orient="records", indent=2))
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


def _asdict(options) -> dict:
    import dataclasses

    return dataclasses.asdict(options)


if __name__ == "__main__":
    raise SystemExit(main())

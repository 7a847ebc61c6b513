"""Grid wall time vs a naive loop that re-encodes the image for every prompt.

    python benchmarks/bench_grid.py --images 3            # synthetic images (generated in a temp dir)
    python benchmarks/bench_grid.py --isic-root ../shared/isic2017 --images 3

Both compute the same rows (zero-shot EfficientNet-Lite0 with its embedded ImageNet weights,
LiteMedSAM, the given CAMs, the box / box+points / points variants, the GT box and point):

* ``grid``: :func:`cam2seg_utils.experiments.run.run_grid` (one encoder pass per image, one
  prediction per image and model, one CAM per image and method, batched decoder calls), with an
  empty heatmap cache;
* ``naive``: for every prompt, predict, compute the CAM, run Algorithm 1, **encode the image**
  and decode that single prompt.

Prints a table (wall time, encoder calls, classifier calls, CAM calls) and the speed-up, and
checks that both produce the same IoUs.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")



def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=3)
    ap.add_argument("--isic-root", default=None, help="ISIC folder (training split); default: synthetic")
    ap.add_argument("--cams", nargs="+", default=["gradcam", "gradcam++", "randomcam"])
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)

    from cam2seg_utils.cams import CamExtractor
    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.data.synthetic import generate_synthetic
    from cam2seg_utils.experiments.config import ExperimentConfig
    from cam2seg_utils.experiments.baselines import gt_box, gt_point
    from cam2seg_utils.prompting.geometry import whole_image_box
    from cam2seg_utils.experiments.engine import LoadedClassifier, params_key
    from cam2seg_utils.experiments.run import run_grid
    from cam2seg_utils.metrics import segmentation_metrics
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
    from cam2seg_utils.seeding import make_rng
    from cam2seg_utils.segmenters import build_segmenter

    tmp = Path(tempfile.mkdtemp(prefix="bench_grid-"))
    if args.isic_root:
        ds = ISICDataset(args.isic_root, "Training")
    else:
        generate_synthetic(tmp / "data", n_images=args.images, seed=0, split="Test", size_range=(256, 384))
        ds = ISICDataset(tmp / "data", "Test")
    ids = list(ds.ids)[: args.images]
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded", device=args.device)
    seg = build_segmenter("litemedsam", device=args.device)
    cfg = ExperimentConfig(settings=["zero-shot"], cams=args.cams, output_dir=str(tmp / "grid"),
                           cache_dir=str(tmp / "cache"), progress=False, device=args.device)
    variants = cfg.prompt_variants
    p, n, a = cfg.percentile[0], cfg.num_points[0], cfg.amplification[0]

    e0 = seg.encoder_calls
    t0 = time.perf_counter()
    res = run_grid(cfg, segmenter=seg, classifiers=[LoadedClassifier("zero-shot", "tf_efficientnet_lite0", clf,
                                                                     "embedded", "embedded")],
                   dataset=ds, image_ids=ids)
    t_grid = time.perf_counter() - t0
    grid_counts = (seg.encoder_calls - e0, res.summary["classifier_calls"], res.summary["cam_calls"])

    e0 = seg.encoder_calls
    n_pred = n_cam = 0
    naive_iou: dict[tuple, float] = {}
    t0 = time.perf_counter()
    for image_id in ids:
        s = ds.load(image_id)
        for cam in args.cams:
            for variant in variants:
                pred = clf.predict(s.image)
                n_pred += 1
                rng = make_rng(cfg.seed, image_id, "tf_efficientnet_lite0", "randomcam") if cam == "randomcam" else None
                with CamExtractor(clf, cam, batch_size=cfg.cam_batch_size, progress=False) as ex:
                    heat = ex(s.image, target_class=pred.class_index, rng=rng).heatmap
                n_cam += 1
                pr = generate_prompts(heat, PromptParams(p, n, a),
                                      make_rng(cfg.seed, image_id, "zero-shot", "tf_efficientnet_lite0", cam,
                                               params_key(p, n, a)))
                emb = seg.embed(s.image)
                r = seg.segment(emb, box=pr.box if "box" in variant else None,
                                points=pr.points if "points" in variant else None,
                                point_labels=pr.point_labels if "points" in variant else None)
                naive_iou[(image_id, cam, variant)] = segmentation_metrics(r.mask, s.mask)["iou"]
        for setting, kw in (("gt-box", {"box": gt_box(s.mask)}), ("gt-point", {"points": gt_point(s.mask)}),
                            ("whole-image-box", {"box": whole_image_box(s.mask.shape)})):
            emb = seg.embed(s.image)
            r = seg.segment(emb, **kw)
            naive_iou[(image_id, setting, "")] = segmentation_metrics(r.mask, s.mask)["iou"]
    t_naive = time.perf_counter() - t0
    naive_counts = (seg.encoder_calls - e0, n_pred, n_cam)

    t = res.table[res.table["prompt_variant"] != "cam-mask"]
    diffs = []
    for row in t.itertuples():
        key = (row.image_id, row.cam, row.prompt_variant) if row.cam else (row.image_id, row.setting, "")
        diffs.append(abs(naive_iou[key] - row.iou))
    print(f"{len(ids)} images, CAMs {args.cams}, variants {variants} + GT box/point + whole-image box, device {args.device}")
    print(f"{'method':<8} {'wall s':>8} {'encoder':>8} {'classif.':>9} {'CAMs':>6}")
    print(f"{'grid':<8} {t_grid:8.2f} {grid_counts[0]:8d} {grid_counts[1]:9d} {grid_counts[2]:6d}")
    print(f"{'naive':<8} {t_naive:8.2f} {naive_counts[0]:8d} {naive_counts[1]:9d} {naive_counts[2]:6d}")
    print(f"speed-up naive / grid: {t_naive / t_grid:.2f}x; max |IoU difference| = {max(diffs):.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

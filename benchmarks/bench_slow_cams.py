"""ScoreCAM / AblationCAM: the affordable variants against the full methods (fidelity and speed).

    python benchmarks/bench_slow_cams.py --isic-root ../shared/isic2017 --images 20 \
        --markdown results/bench_slow_cams/table.md   # pasted into book/scaling.md

Images: the first ``--images`` **validation** ids of the ``local-isic`` profile (the part of the
training split that fine-tuning holds out for early stopping and parameter choices; never the
test ids), 256 x 256 as in ``../shared``. Classifier: EfficientNet-Lite0 with its embedded
ImageNet weights (zero-shot; the CAM explains the predicted class). Segmenter: LiteMedSAM, one
embedding per image. Prompt: Algorithm 1's box at the default percentile (box variant).

Variants (each computed once per image; raw CAM maps are kept under ``--workdir`` so that a
killed run resumes and a rerun only re-scores):

* ``scorecam full``: every channel of the target layer (1280 for Lite0) -- the reference; equal
  to pytorch-grad-cam's ``ScoreCAM`` (tests/test_cams.py proves it bit for bit);
* ``scorecam k=K (variance|gradient)``: :class:`cam2seg_utils.cams.TopKScoreCAM`;
* ``ablationcam upstream``: pytorch-grad-cam's ``AblationCAM`` (a whole forward pass per channel),
  timed on the first ``--upstream-images`` images only (it is the slow path being replaced);
* ``ablationcam ratio=R``: :class:`cam2seg_utils.cams.FastAblationCAM` (``R = 1``: every channel,
  the full method's numbers -- the reference of the ratio rows);
* ``gradcam``: for scale.

Per variant: mean CPU seconds (process time; one torch thread, so that a shared machine's load
does not blur the ratios) and wall seconds per image, the CPU-time speed-up over its full method (ScoreCAM: ``scorecam full``;
AblationCAM: ``ablationcam upstream`` timed on the same images, and ``ratio=1`` otherwise), the
heatmap's Pearson correlation with the full method's (image resolution), the mean IoU of the
LiteMedSAM box mask against the ground truth, its difference to the full method's, and the IoU
between the variant's mask and the full method's mask. The GT-box and whole-image-box rows give
the same images' ceiling and floor.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def variants(ks: list[int], ratios: list[float]) -> list[tuple[str, str, dict]]:
    """``(label, method, extractor kwargs)``; the two references first."""
    out = [("scorecam full", "scorecam", {"scorecam_channels": None}),
           ("ablationcam ratio=1", "ablationcam", {"ablation_channels": None})]
    for sel in ("variance", "gradient"):
        out += [(f"scorecam k={k} ({sel})", "scorecam", {"scorecam_channels": k, "scorecam_selection": sel})
                for k in ks]
    out += [(f"ablationcam ratio={r:g}", "ablationcam", {"ablation_channels": r}) for r in ratios]
    out.append(("gradcam", "gradcam", {}))
    return out


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "=.-" else "_" for c in label)


def _upstream_ablation(clf, image: np.ndarray, batch_size: int):
    """pytorch-grad-cam's own AblationCAM through the same extractor steps (raw map, seconds)."""
    from pytorch_grad_cam import AblationCAM
    from pytorch_grad_cam.ablation_layer import AblationLayer

    from cam2seg_utils.cams import CamExtractor

    ext = CamExtractor(clf, "ablationcam", progress=False)
    cam = AblationCAM(clf.model, clf.cam_target_layers(), reshape_transform=clf.cam_reshape_transform(),
                      ablation_layer=AblationLayer(), batch_size=batch_size)
    import pytorch_grad_cam.ablation_cam as abl

    quiet = abl.tqdm.tqdm
    abl.tqdm.tqdm = lambda it, *a, **k: it  # upstream prints a bar per image otherwise
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        res = ext._compute(cam, clf.preprocess(image), None, None, None)
        return res.raw, time.perf_counter() - t0, time.process_time() - c0
    finally:
        abl.tqdm.tqdm = quiet
        cam.activations_and_grads.release()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isic-root", default="../shared/isic2017")
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--ks", type=int, nargs="+", default=[16, 32, 64, 128])
    ap.add_argument("--ratios", type=float, nargs="+", default=[0.05, 0.1, 0.25])
    ap.add_argument("--upstream-images", type=int, default=2,
                    help="images on which pytorch-grad-cam's own AblationCAM is timed (slow)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workdir", default="results/bench_slow_cams")
    ap.add_argument("--markdown", default=None, help="write the table as Markdown here")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1: on a shared 2-core machine more threads only thrash)")
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)

    from cam2seg_utils.atomic import atomic_open, progress_bar
    from cam2seg_utils.cams import CamExtractor, normalize_heatmap
    from cam2seg_utils.experiments.datasets import resolve_splits
    from cam2seg_utils.experiments.grid import gt_box
    from cam2seg_utils.metrics import segmentation_metrics
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.profiles import get_profile
    from cam2seg_utils.prompts import PromptParams, generate_prompts
    from cam2seg_utils.seeding import make_rng
    from cam2seg_utils.segmenters import build_segmenter

    splits = resolve_splits(get_profile("local-isic", data_root=args.isic_root))
    ids = splits.val_ids[: args.images]
    ds = splits.train_dataset
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded", device=args.device)
    seg = build_segmenter("litemedsam", device=args.device)
    work = Path(args.workdir)
    table = variants(args.ks, args.ratios)

    def raw_map(label: str, image_id: str, compute):
        path = work / _slug(label) / f"{image_id}.npz"
        if path.is_file():
            with np.load(path) as z:
                return z["raw"], float(z["seconds"]), float(z["cpu_seconds"])
        raw, seconds, cpu_seconds = compute()
        with atomic_open(path, "wb") as fh:
            np.savez(fh, raw=raw, seconds=np.float64(seconds), cpu_seconds=np.float64(cpu_seconds))
        return raw, seconds, cpu_seconds

    records = []
    for n, image_id in enumerate(progress_bar(ids, True, desc="images", unit="img")):
        sample = ds.load(image_id)
        image, gt = sample.image, sample.mask
        emb = seg.embed(image)
        target = clf.predict(image).class_index
        H, W = gt.shape

        def box_mask(box):
            return seg.segment(emb, box=np.asarray(box, dtype=np.float64)).mask

        whole = box_mask([0, 0, W - 1, H - 1])
        for label, mask in (("GT box", box_mask(gt_box(gt))), ("whole-image box", whole)):
            records.append({"image_id": image_id, "variant": label, "seconds": np.nan, "cpu_seconds": np.nan,
                            "corr": np.nan,
                            "iou_gt": segmentation_metrics(mask, gt)["iou"], "iou_vs_full": np.nan})
        heat_of, mask_of = {}, {}
        todo = list(table)
        if n < args.upstream_images:
            todo.append(("ablationcam upstream", "ablationcam", None))
        for label, method, kw in todo:
            if kw is None:
                raw, sec, cpu = raw_map(label, image_id, lambda: _upstream_ablation(clf, image, args.batch_size))
            else:
                def compute(method=method, kw=kw):
                    t0, c0 = time.perf_counter(), time.process_time()
                    with CamExtractor(clf, method, batch_size=args.batch_size, progress=False, **kw) as ex:
                        res = ex(image, target_class=target, resize=False)
                    return res.raw, time.perf_counter() - t0, time.process_time() - c0
                raw, sec, cpu = raw_map(label, image_id, compute)
            heat = normalize_heatmap(raw, (H, W))
            prompts = generate_prompts(heat, PromptParams(), make_rng(0, image_id, label))
            mask = box_mask(prompts.box)
            heat_of[label], mask_of[label] = heat, mask
            records.append({"image_id": image_id, "variant": label, "seconds": sec, "cpu_seconds": cpu,
                            "iou_gt": segmentation_metrics(mask, gt)["iou"]})
        for rec in records[-len(todo):]:
            ref = "scorecam full" if rec["variant"].startswith("scorecam") else "ablationcam ratio=1"
            if rec["variant"] == "gradcam":
                ref = "scorecam full"
            a, b = heat_of[rec["variant"]].ravel(), heat_of[ref].ravel()
            rec["reference"] = ref
            rec["corr"] = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else np.nan
            rec["iou_vs_full"] = segmentation_metrics(mask_of[rec["variant"]], mask_of[ref])["iou"]

    df = pd.DataFrame(records)
    df.to_csv(work / "per_image.csv", index=False)
    full_iou = {ref: df[df["variant"] == ref]["iou_gt"].mean() for ref in ("scorecam full", "ablationcam ratio=1")}
    full_cpu = {ref: df[df["variant"] == ref]["cpu_seconds"].mean() for ref in ("scorecam full", "ablationcam ratio=1")}
    up = df[df["variant"] == "ablationcam upstream"]
    rows = []
    order = [label for label, _, _ in table] + (["ablationcam upstream"] if len(up) else []) + ["GT box", "whole-image box"]
    for label in order:
        g = df[df["variant"] == label]
        row = {"variant": label, "n images": len(g), "CPU s / image": g["cpu_seconds"].mean(),
               "wall s / image": g["seconds"].mean()}
        ref = g["reference"].iloc[0] if "reference" in g and g["reference"].notna().any() else None
        if label.startswith("ablationcam") and len(up) and label != "ablationcam upstream":
            same = g[g["image_id"].isin(up["image_id"])]
            row["speed-up"] = up["cpu_seconds"].mean() / same["cpu_seconds"].mean()
            row["speed-up vs"] = f"upstream AblationCAM ({len(up)} images)"
        elif ref is not None:
            row["speed-up"] = full_cpu[ref] / g["cpu_seconds"].mean()
            row["speed-up vs"] = ref
        row["heatmap corr."] = g["corr"].mean() if ref else np.nan
        row["mask IoU (GT)"] = g["iou_gt"].mean()
        row["Δ IoU vs full"] = g["iou_gt"].mean() - full_iou[ref] if ref else np.nan
        row["mask IoU vs full's mask"] = g["iou_vs_full"].mean() if ref else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(f"{len(ids)} validation images of the local-isic split ({args.isic_root}), Lite0 embedded "
              f"zero-shot, LiteMedSAM, box prompt, percentile {PromptParams().percentile:g}, device {args.device}, "
              f"{args.threads} thread(s), batch {args.batch_size}")
        print(out.to_string(index=False))
    if args.markdown:
        text = out.to_markdown(index=False, floatfmt=".3f") if _has_tabulate() else out.to_string(index=False)
        with atomic_open(Path(args.markdown), "w") as fh:
            fh.write(text + "\n")
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())

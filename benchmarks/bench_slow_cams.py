"""ScoreCAM / AblationCAM: the affordable variants against the full methods (fidelity and speed).

    python benchmarks/bench_slow_cams.py --isic-root ../shared/isic2017 --images 20 \
        --markdown results/bench_slow_cams/table.md   # pasted into book/scaling.md

Images: the first ``--images`` ids of the **official ISIC 2017 Validation split** (``--split
official-validation``, the default: the split on which the ``isic-official`` profile chooses its
parameters; never the Test split) or of the ``local-isic`` profile's validation hold-out
(``--split local-isic-val``, the table's images before), 256 x 256 as in ``../shared``. Classifier: EfficientNet-Lite0 with its embedded
ImageNet weights (zero-shot; the CAM explains the predicted class). Segmenter: LiteMedSAM, one
embedding per image. Prompt: Algorithm 1's box at the default percentile (box variant).

Variants (each computed once per image; raw CAM maps are kept under ``--workdir`` so that a
killed run resumes and a rerun only re-scores):

* ``scorecam full``: every channel of the target layer (1280 for Lite0) -- the fidelity
  reference; pytorch-grad-cam's ``ScoreCAM`` numbers (tests/test_cams_topk_scorecam.py), with the constant
  (dead) channels scored in one shared pass;
* ``scorecam k=K (variance|gradient)``: :class:`cam2seg_utils.cams.TopKScoreCAM`;
* ``ablationcam ratio=1``: :class:`cam2seg_utils.cams.FastAblationCAM` on every channel -- the
  AblationCAM reference (the full method's numbers); ``ratio=R``: upstream's channel subset;
* ``scorecam upstream`` / ``ablationcam upstream``: pytorch-grad-cam's own classes (a whole
  forward pass per channel), timed on the first ``--upstream-images`` images only (the slow
  paths being replaced; their maps are also compared with the references);
* ``gradcam``: for scale;
* ``scorecam k=K (variance) batch=B``: the default k at other ``--timing-batch-sizes`` (masked
  images per forward pass; the same heatmap, only the time changes), on the first
  ``--timing-images`` images.

Per variant: mean CPU seconds (process time; one torch thread, so that a shared machine's load
does not blur the ratios) and wall seconds per image, masked images scored per image (ScoreCAM),
the CPU-time speed-up over the upstream class (on the images it ran on) and over the reference,
the heatmap's Pearson correlation with the reference's (image resolution), the mean IoU of the
LiteMedSAM box mask against the ground truth, its difference to the reference's, and the IoU
between the variant's mask and the reference's mask. The GT-box and whole-image-box rows give
the same images' ceiling and floor.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def variants(ks: list[int], gradient_ks: list[int], ratios: list[float]) -> list[tuple[str, str, dict]]:
    """``(label, method, extractor kwargs)``; the two references first."""
    out = [("scorecam full", "scorecam", {"scorecam_channels": None}),
           ("ablationcam ratio=1", "ablationcam", {"ablation_channels": None})]
    out += [(f"scorecam k={k} (variance)", "scorecam", {"scorecam_channels": k, "scorecam_selection": "variance"})
            for k in ks]
    out += [(f"scorecam k={k} (gradient)", "scorecam", {"scorecam_channels": k, "scorecam_selection": "gradient"})
            for k in gradient_ks]
    out += [(f"ablationcam ratio={r:g}", "ablationcam", {"ablation_channels": r}) for r in ratios]
    out.append(("gradcam", "gradcam", {}))
    return out


def reference_of(label: str) -> str:
    return "ablationcam ratio=1" if label.startswith("ablationcam") else "scorecam full"


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "=.-" else "_" for c in label)


def _upstream(clf, image: np.ndarray, method: str, batch_size: int):
    """pytorch-grad-cam's own ScoreCAM / AblationCAM through the extractor's steps:
    ``(raw map, wall s, CPU s)``."""
    import pytorch_grad_cam.ablation_cam as abl
    import pytorch_grad_cam.score_cam as sc
    from pytorch_grad_cam import AblationCAM, ScoreCAM
    from pytorch_grad_cam.ablation_layer import AblationLayer

    from cam2seg_utils.cams import CamExtractor

    layers, reshape = clf.cam_target_layers(), clf.cam_reshape_transform()
    if method == "scorecam":
        cam = ScoreCAM(clf.model, layers, reshape)
        cam.batch_size = batch_size
    else:
        cam = AblationCAM(clf.model, layers, reshape_transform=reshape, ablation_layer=AblationLayer(),
                          batch_size=batch_size)
    bars = (abl.tqdm.tqdm, sc.tqdm.tqdm)
    abl.tqdm.tqdm = sc.tqdm.tqdm = lambda it, *a, **k: it  # upstream prints a bar per image otherwise
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        res = CamExtractor(clf, method)._compute(cam, clf.preprocess(image), None, None, None)
        return res.raw, time.perf_counter() - t0, time.process_time() - c0
    finally:
        abl.tqdm.tqdm, sc.tqdm.tqdm = bars
        cam.activations_and_grads.release()


def _target_channels(clf, image: np.ndarray) -> int:
    import torch

    seen = {}

    def keep(module, inputs, output) -> None:  # returns None: the output is not replaced
        seen["c"] = output.shape[1]

    handle = clf.cam_target_layers()[0].register_forward_hook(keep)
    try:
        with torch.no_grad():
            clf.model(clf.preprocess(image))
    finally:
        handle.remove()
    return int(seen["c"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isic-root", default="../shared/isic2017")
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--ks", type=int, nargs="+", default=[16, 32, 64, 128], help="ScoreCAM k, variance ranking")
    ap.add_argument("--gradient-ks", type=int, nargs="*", default=[32, 64], help="ScoreCAM k, gradient ranking")
    ap.add_argument("--ratios", type=float, nargs="*", default=[0.05, 0.1, 0.25])
    ap.add_argument("--upstream-images", type=int, default=2,
                    help="images on which pytorch-grad-cam's own ScoreCAM / AblationCAM are timed (slow)")
    ap.add_argument("--upstream", nargs="*", choices=["scorecam", "ablationcam"], default=["scorecam", "ablationcam"],
                    help="which of pytorch-grad-cam's own classes to time on the first --upstream-images images")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--split", choices=["official-validation", "local-isic-val"], default="official-validation")
    ap.add_argument("--timing-batch-sizes", type=int, nargs="*", default=[4, 8, 16, 32],
                    help="other batch sizes at which ScoreCAM (default k) is timed")
    ap.add_argument("--timing-images", type=int, default=3, help="images on which the batch sizes are timed")
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
    from cam2seg_utils.cams import DEFAULT_SCORECAM_CHANNELS, CamExtractor, normalize_heatmap
    from cam2seg_utils.experiments.datasets import resolve_splits
    from cam2seg_utils.experiments.baselines import gt_box
    from cam2seg_utils.metrics import segmentation_metrics
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.profiles import get_profile
    from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
    from cam2seg_utils.seeding import make_rng
    from cam2seg_utils.segmenters import build_segmenter

    if args.split == "official-validation":
        splits = resolve_splits(get_profile("isic-official", data_root=args.isic_root))
        ids, ds = splits.test_ids[: args.images], splits.test_dataset
    else:
        splits = resolve_splits(get_profile("local-isic", data_root=args.isic_root))
        ids, ds = splits.val_ids[: args.images], splits.train_dataset
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded", device=args.device)
    seg = build_segmenter("litemedsam", device=args.device)
    work = Path(args.workdir) / args.split
    channels = _target_channels(clf, ds.load(ids[0]).image)  # upstream ScoreCAM: one pass per channel
    table = variants(args.ks, args.gradient_ks, args.ratios)

    def raw_map(label: str, image_id: str, compute):
        """``(raw, wall s, CPU s, passes)`` from ``--workdir`` or computed and stored there."""
        path = work / _slug(label) / f"{image_id}.npz"
        if path.is_file():
            with np.load(path) as z:
                return z["raw"], float(z["seconds"]), float(z["cpu_seconds"]), int(z["passes"])
        raw, seconds, cpu_seconds, passes = compute()
        with atomic_open(path, "wb") as fh:
            np.savez(fh, raw=raw, seconds=np.float64(seconds), cpu_seconds=np.float64(cpu_seconds),
                     passes=np.int64(passes))
        return raw, seconds, cpu_seconds, passes

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
        if n < args.timing_images:
            todo += [(f"scorecam k={DEFAULT_SCORECAM_CHANNELS} (variance) batch={b}", "scorecam",
                      {"scorecam_channels": DEFAULT_SCORECAM_CHANNELS, "scorecam_selection": "variance",
                       "batch_size": b}) for b in args.timing_batch_sizes if b != args.batch_size]
        if n < args.upstream_images:
            todo += [(f"{m} upstream", m, None) for m in args.upstream]
        for label, method, kw in todo:
            if kw is None:
                def compute(method=method):
                    return (*_upstream(clf, image, method, args.batch_size), channels)
            else:
                def compute(method=method, kw=kw):
                    kw = {"batch_size": args.batch_size, **kw}
                    t0, c0 = time.perf_counter(), time.process_time()
                    with CamExtractor(clf, method, progress=False, **kw) as ex:
                        res = ex(image, target_class=target, resize=False)
                        passes = getattr(ex._cam, "last_passes", 0)
                    return res.raw, time.perf_counter() - t0, time.process_time() - c0, passes
            raw, sec, cpu, passes = raw_map(label, image_id, compute)
            heat = normalize_heatmap(raw, (H, W))
            prompts = generate_prompts(heat, PromptParams(), make_rng(0, image_id, label))
            mask = box_mask(prompts.box)
            heat_of[label], mask_of[label] = heat, mask
            records.append({"image_id": image_id, "variant": label, "seconds": sec, "cpu_seconds": cpu,
                            "passes": passes if method == "scorecam" else np.nan,
                            "iou_gt": segmentation_metrics(mask, gt)["iou"]})
        for rec in records[-len(todo):]:
            ref = reference_of(rec["variant"])
            a, b = heat_of[rec["variant"]].ravel(), heat_of[ref].ravel()
            rec["reference"] = ref
            rec["corr"] = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else np.nan
            rec["iou_vs_full"] = segmentation_metrics(mask_of[rec["variant"]], mask_of[ref])["iou"]

    df = pd.DataFrame(records)
    df.to_csv(work / "per_image.csv", index=False)
    cams = df[df["reference"].notna()] if "reference" in df else df.iloc[0:0]
    # the reference's mean on the same images as the row (the upstream rows run on fewer images)
    def ref_mean(ref: str, image_ids, column: str) -> float:
        r = cams[(cams["variant"] == ref) & cams["image_id"].isin(image_ids)]
        return r[column].mean()

    rows = []
    for label in list(dict.fromkeys([label for label, _, _ in table] + list(cams["variant"]))) + ["GT box", "whole-image box"]:
        g = df[df["variant"] == label]
        row = {"variant": label, "n images": len(g), "CPU s / image": g["cpu_seconds"].mean(),
               "wall s / image": g["seconds"].mean(), "passes / image": g["passes"].mean()}
        if label in set(cams["variant"]):
            ref = reference_of(label)
            up = cams[cams["variant"] == ref.split()[0] + " upstream"]
            same = g[g["image_id"].isin(up["image_id"])]
            row["speed-up vs upstream"] = up["cpu_seconds"].mean() / same["cpu_seconds"].mean() if len(up) else np.nan
            row["speed-up vs reference"] = ref_mean(ref, g["image_id"], "cpu_seconds") / g["cpu_seconds"].mean()
            row["heatmap corr."] = g["corr"].mean()
            row["mask IoU (GT)"] = g["iou_gt"].mean()
            row["Δ IoU vs reference"] = g["iou_gt"].mean() - ref_mean(ref, g["image_id"], "iou_gt")
            row["mask IoU vs reference's mask"] = g["iou_vs_full"].mean()
        else:
            row["mask IoU (GT)"] = g["iou_gt"].mean()
        rows.append(row)
    out = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(f"{len(ids)} images of {args.split} ({args.isic_root}), Lite0 embedded "
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

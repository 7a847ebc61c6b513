"""The method page (notebook 00): Algorithm 1 run once, stage by stage, on one synthetic image
with the offline models shipped on PyPI (ImageNet EfficientNet-Lite0 and LiteMedSAM).

:func:`run` computes every stage (and shows the provenance box); :func:`figure` draws them;
:func:`metrics_table` scores the noisy mask and both MedSAM masks against the exact outline;
:func:`prompts_text` prints the prompts in image pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import viz
from .notebook import Stopwatch
from .provenance import provenance

CLASSIFIER = "tf_efficientnet_lite0"
CAM = "gradcam"
SEGMENTER = "litemedsam"


@dataclass
class MethodRun:
    """Every stage of Algorithm 1 on one image: ``image`` (H, W, 3) uint8, ``gt`` (H, W) bool
    (the exact outline of the synthetic lesion), the classifier's ``prediction``, the CAM's
    ``heatmap`` (a :class:`~cam2seg_utils.cams.HeatmapResult`), the prompt ``params`` and
    ``prompts``, and the segmenter's ``mask_box`` (box prompt) and ``mask_box_points`` (box and
    points), both (H, W) bool."""

    image: np.ndarray
    gt: np.ndarray
    prediction: object
    heatmap: object
    params: object
    prompts: object
    mask_box: np.ndarray
    mask_box_points: np.ndarray


def run(config) -> MethodRun:
    """Run Algorithm 1 and the segmenter once on the book's synthetic image (seed ``config.seed``),
    with the config's first percentile / number of points / amplification, then show the
    provenance box with the wall time."""
    from ..cams import compute_heatmap
    from ..data.synthetic import render_dermoscopy
    from ..models import build_classifier
    from ..prompting.algorithm1 import PromptParams, generate_prompts
    from ..seeding import make_rng
    from ..segmenters import build_segmenter

    params = PromptParams(percentile=config.percentile[0], num_points=config.num_points[0],
                          amplification=config.amplification[0])
    with Stopwatch() as sw:
        image, gt, _ = render_dermoscopy(make_rng("book-method", config.seed), 300, 400, malignant_look=True)
        clf = build_classifier(CLASSIFIER, weights="embedded", device=config.device)
        hm = compute_heatmap(clf, image, CAM)
        prompts = generate_prompts(hm.heatmap, params, make_rng("book-method-prompts", config.seed))
        seg = build_segmenter(SEGMENTER, device=config.device)
        emb = seg.embed(image)
        out = MethodRun(image, gt, clf.predict(image), hm, params, prompts,
                        seg.segment(emb, box=prompts.box).mask,   # the headline prompt: MedSAM was trained on boxes
                        seg.segment(emb, box=prompts.box, points=prompts.points,
                                    point_labels=prompts.point_labels).mask)
    provenance(config, n_images=1, wall_time_s=sw.seconds, include_grid=False,
               classifier=f"{CLASSIFIER} (embedded, ImageNet)", cam=CAM, segmenter=SEGMENTER)
    return out


def figure(r: MethodRun):
    """The four stages on the image (2 x 3 panels): image and prediction, heatmap, noisy mask and
    its box, MedSAM from the box, MedSAM from the box and the points, the percentile threshold."""
    import matplotlib.pyplot as plt

    p, pr = r.prompts, r.params
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.6))
    axes = axes.ravel()
    axes[0].imshow(r.image)
    viz.draw_mask_contour(axes[0], r.gt, viz.GT_COLOR)
    axes[0].set_title(f"steps 1-4: image (ground truth in green)\npredicted ImageNet class "
                      f"'{r.prediction.class_name}' (p = {r.prediction.probability:.2f})", fontsize=10)
    axes[1].imshow(viz.overlay_heatmap(r.image, r.heatmap.heatmap))
    axes[1].set_title("steps 5-6: Grad-CAM heatmap of that class", fontsize=10)
    axes[2].imshow(r.image)
    axes[2].imshow(np.ma.masked_where(~p.noisy_mask, p.noisy_mask), cmap="autumn", alpha=0.55)
    viz.draw_prompts(axes[2], p.box)
    axes[2].set_title(f"steps 7-10: noisy mask (heatmap >= {pr.percentile:g}th percentile)\nand its bounding box",
                      fontsize=10)
    for ax, mask, pts, title in ((axes[3], r.mask_box, None, "MedSAM from the box"),
                                 (axes[4], r.mask_box_points, p.points,
                                  f"step 19 + MedSAM from the box and {len(p.points)} points (stars)")):
        ax.imshow(r.image)
        viz.draw_mask_contour(ax, mask, viz.PRED_COLOR)
        viz.draw_mask_contour(ax, r.gt, viz.GT_COLOR)
        viz.draw_prompts(ax, p.box, pts)
        ax.set_title(f"{title}:\nmask (blue) vs ground truth (green)", fontsize=10)
    axes[5].hist(r.heatmap.heatmap.ravel(), bins=50, color="#90a4ae")
    axes[5].axvline(p.threshold, color=viz.BOX_COLOR, lw=2, label=f"{pr.percentile:g}th percentile")
    axes[5].set_xlabel("heatmap value")
    axes[5].set_ylabel("pixels")
    axes[5].legend(fontsize=9)
    axes[5].set_title("step 7: the percentile threshold", fontsize=10)
    for ax in axes[:5]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def metrics_table(r: MethodRun) -> pd.DataFrame:
    """Precision, recall, IoU and Dice of the noisy mask and of both MedSAM masks against the
    ground truth (rounded to 3 digits)."""
    from ..metrics import segmentation_metrics

    masks = {"noisy mask (step 7)": r.prompts.noisy_mask, "MedSAM mask, box": r.mask_box,
             "MedSAM mask, box + points": r.mask_box_points}
    return pd.DataFrame({k: segmentation_metrics(m, r.gt) for k, m in masks.items()}).T[
        ["precision", "recall", "iou", "dice"]].round(3)


def prompts_text(r: MethodRun) -> str:
    """The box, the points and whether the fallback was used, one per line, in image pixels."""
    return "\n".join([f"box [x_min, y_min, x_max, y_max]: {np.round(r.prompts.box, 1).tolist()}",
                      f"points (x, y): {np.round(r.prompts.points, 1).tolist()}",
                      f"fallback used (fewer than 4 hot pixels): {r.prompts.used_fallback}"])


__all__ = ["CLASSIFIER", "CAM", "SEGMENTER", "MethodRun", "run", "figure", "metrics_table", "prompts_text"]

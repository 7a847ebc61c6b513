"""Table 1 with Fig. 2 (notebook 03): the CAM's own noisy mask (Algorithm 1 step 7) against the
ground truth, and the heatmap of every CAM method on one test image.

:func:`table` is Table 1 with 95 % CIs (the CLI's ``table1_cam_mask.csv``); :func:`paper_table`
the paper's; :func:`vs_randomcam` tests each CAM against RandomCAM; :func:`heatmaps_for_image`
recomputes Fig. 2's heatmaps, :func:`cam_heatmap_grid` draws them and :func:`show_fig2` puts the
figure (or the reason it cannot be drawn) on the page.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import paper, viz
from ..experiments import summary
from .notebook import markdown, show_figure, unavailable
from .provenance import FigureUnavailable
from .recompute import classifier_for, figure_samples, figure_setting
from .tables import CI_TEXT, cam_rows, paired_vs_reference, single_params, with_ci_text

NOISY_MASK = "cam-mask"     # the grid's prompt variant of the step-7 noisy mask


def table(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Table 1: per setting x model x CAM, ``n`` images, mean precision and recall, IoU and Dice
    with their 95 % CI; empty when the grid has no noisy-mask rows."""
    if cam_rows(grid, NOISY_MASK).empty:
        return pd.DataFrame()
    t = with_ci_text(summary.cam_mask_table(grid, ci=True, **single_params(config)))
    return t[["setting", "model", "cam", "n", "precision", "recall", CI_TEXT.format("iou"), CI_TEXT.format("dice")]]


def paper_table() -> pd.DataFrame:
    """The paper's Table 1 (fine-tuned Swin, ISIC 2017 test set); F1 equals Dice, left out."""
    return paper.table1()[["precision", "recall", "iou", "dice", "source"]]


def vs_randomcam(grid: pd.DataFrame) -> pd.DataFrame:
    """Each CAM's noisy-mask IoU against RandomCAM's on the same images (paired Wilcoxon)."""
    return paired_vs_reference(cam_rows(grid, NOISY_MASK), reference_cam="randomcam")


def heatmaps_for_image(config, grid: pd.DataFrame) -> dict[str, Any] | None:
    """Fig. 2: the heatmap of every CAM of ``config`` on the first test image, with the IoU of
    each CAM's noisy mask on that image (from the grid's ``cam-mask`` rows). ``None`` when the
    grid has no rows; :class:`~.provenance.FigureUnavailable` when the pixels or the classifier
    are not here."""
    from ..cams import compute_heatmap
    from ..seeding import make_rng

    rows = cam_rows(grid, NOISY_MASK)
    if rows.empty:
        rows = summary.ok_rows(grid)
    if rows.empty:
        return None
    setting, model = figure_setting(config, grid)
    image_id = sorted(rows["image_id"].unique())[0]
    sample = figure_samples(config)(image_id)
    clf = classifier_for(config, setting, model)
    cams = [c for c in config.cams if (rows["cam"] == c).any()] or list(config.cams)
    heatmaps, subtitles = {}, {}
    for cam in cams:
        res = compute_heatmap(clf, sample.image, cam, rng=make_rng(config.seed, image_id, model, "randomcam"),
                              **dataclasses.asdict(config.cam_options()))  # the grid's CAM parameters
        heatmaps[cam] = res.heatmap
        r = rows[(rows["image_id"] == image_id) & (rows["setting"] == setting) & (rows["model"] == model)
                 & (rows["cam"] == cam)]
        if len(r):
            subtitles[cam] = f"noisy-mask IoU {float(r['iou'].iloc[0]):.2f}"
    return {"image": sample.image, "mask": sample.mask, "heatmaps": heatmaps, "subtitles": subtitles,
            "image_id": image_id, "model": model, "setting": setting}


def cam_heatmap_grid(image: np.ndarray, heatmaps: Mapping[str, np.ndarray],
                     gt_mask: np.ndarray | None = None, alpha: float = 0.5,
                     subtitles: Mapping[str, str] | None = None) -> Figure:
    """Fig. 2: the image, then one heatmap overlay per CAM method (GT outline in green)."""
    if not heatmaps:
        raise ValueError("cam_heatmap_grid needs at least one heatmap")
    n = len(heatmaps) + 1
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 2.9), squeeze=False)
    axes = axes[0]
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=10)
    if gt_mask is not None:
        viz.draw_mask_contour(axes[0], gt_mask, viz.GT_COLOR)
    for ax, (name, hm) in zip(axes[1:], heatmaps.items()):
        ax.imshow(viz.overlay_heatmap(image, hm, alpha=alpha))
        if gt_mask is not None:
            viz.draw_mask_contour(ax, gt_mask, viz.GT_COLOR)
        title = name if subtitles is None or name not in subtitles else f"{name}\n{subtitles[name]}"
        ax.set_title(title, fontsize=10)
    for ax in axes:
        viz.clean_axes(ax)
    fig.tight_layout()
    return fig


def show_fig2(config, grid: pd.DataFrame) -> None:
    """Fig. 2 on the page with its image and classifier, or the sentence saying why not."""
    try:
        ex = heatmaps_for_image(config, grid)
    except FigureUnavailable as why:
        unavailable("Fig. 2", why)
        return
    if ex is None:
        markdown("*No test image to show.*")
        return
    show_figure(cam_heatmap_grid(ex["image"], ex["heatmaps"], gt_mask=ex["mask"], subtitles=ex["subtitles"]))
    markdown(f"Image `{ex['image_id']}`, {ex['model']} ({ex['setting']}).")


__all__ = ["NOISY_MASK", "table", "paper_table", "vs_randomcam", "heatmaps_for_image", "cam_heatmap_grid",
           "show_fig2"]

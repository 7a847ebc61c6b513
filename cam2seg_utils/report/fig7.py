"""Fig. 7 (notebook 07): a good, a median and a failed case of the best CAM per image (oracle),
recomputed from the prompts the grid stored (results never store pixels).

:func:`run` reads the grid, recomputes the cases (:func:`example_cases`) and shows the
provenance box; :func:`show` draws them (:func:`examples_figure`, one :func:`example_panel` row
per case) with the grid's and the recomputed IoU side by side, or says why it cannot.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import viz
from .notebook import Stopwatch, markdown, show_figure, show_table, unavailable
from .provenance import FigureUnavailable, provenance
from .recompute import classifier_for, figure_samples, figure_setting
from .steps import ensure_grid
from .tables import best_rows, n_test_images, split_label

CASE_COLUMNS = ("title", "image_id", "setting", "model", "cam", "iou_grid", "iou_recomputed")


@dataclasses.dataclass
class Cases:
    """The recomputed cases (:func:`example_cases`), or why there are none in this build."""

    cases: list[dict[str, Any]]
    why_unavailable: FigureUnavailable | None = None
    picked: pd.DataFrame | None = None      # the cases from the grid alone (shown when the pixels are not here)


PICK_COLUMNS = ("case", "image_id", "setting", "model", "cam", "prompt_variant", "iou", "seg_predicted_iou",
                "box_x0", "box_y0", "box_x1", "box_y1", "points")


def pick_cases(config, grid: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """The good / median / failed best-CAM (oracle) rows of the figure's setting x model, from
    the grid alone: ``(title, row)`` pairs, each image once."""
    best = best_rows(grid, config)
    if best.empty:
        return []
    setting, model = figure_setting(config, grid)
    b = best[(best["selection_key"] == "oracle") & (best["setting"] == setting) & (best["model"] == model)]
    if b.empty:
        return []
    b = b.sort_values(["iou", "image_id"], ascending=[False, True]).reset_index(drop=True)
    picks: list[tuple[str, int]] = [("good", 0), ("median", len(b) // 2), ("failed", len(b) - 1)]
    seen, chosen = set(), []
    for title, i in picks:
        if b.loc[i, "image_id"] not in seen:
            seen.add(b.loc[i, "image_id"])
            chosen.append((title, b.loc[i]))
    return chosen


def picked_table(chosen: Sequence[tuple[str, pd.Series]]) -> pd.DataFrame:
    """The picked cases as a table: id, CAM, the prompt sent (box in image pixels, points) and its IoU."""
    return pd.DataFrame([{"case": title, **{k: row.get(k) for k in PICK_COLUMNS[1:]}} for title, row in chosen])


def example_cases(config, grid: pd.DataFrame) -> list[dict[str, Any]]:
    """Fig. 7: good / median / failed best-CAM (oracle) cases, recomputed from the stored prompts:
    image, heatmap, box / points actually sent (image pixels), predicted and ground-truth masks,
    with the grid's IoU and the recomputed one."""
    from ..cams import compute_heatmap
    from ..metrics import segmentation_metrics
    from ..seeding import make_rng
    from ..segmenters import build_segmenter

    chosen = pick_cases(config, grid)
    if not chosen:
        return []
    setting, model = figure_setting(config, grid)
    load = figure_samples(config)
    clf = classifier_for(config, setting, model)
    seg = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    out = []
    for title, row in chosen:
        sample = load(row["image_id"])
        heat = compute_heatmap(clf, sample.image, row["cam"], rng=make_rng(config.seed, row["image_id"], model, "randomcam"),
                               **dataclasses.asdict(config.cam_options())).heatmap
        box = np.array([row["box_x0"], row["box_y0"], row["box_x1"], row["box_y1"]], dtype=float)
        pts = np.array(json.loads(row["points"]) or np.zeros((0, 2)), dtype=float).reshape(-1, 2)
        use_box = "box" in row["prompt_variant"]
        use_pts = "points" in row["prompt_variant"] and len(pts) > 0
        res = seg.segment(seg.embed(sample.image), box=box if use_box else None,
                          points=pts if use_pts else None,
                          point_labels=np.ones(len(pts), dtype=np.int64) if use_pts else None)
        iou = segmentation_metrics(res.mask, sample.mask)["iou"]
        out.append({"image": sample.image, "heatmap": heat, "box": box if use_box else None,
                    "points": pts if use_pts else None, "pred_mask": res.mask, "gt_mask": sample.mask,
                    "title": f"{title}: IoU {iou:.2f}\n{row['cam']}", "image_id": row["image_id"],
                    "setting": setting, "model": model, "cam": row["cam"], "iou_grid": float(row["iou"]),
                    "iou_recomputed": float(iou)})
    return out


def run(config) -> Cases:
    """The grid (computed or read back) and its Fig. 7 cases, after the provenance box with the
    wall time of both."""
    with Stopwatch() as sw:
        grid = ensure_grid(config)
        try:
            cases = Cases(example_cases(config, grid))
        except FigureUnavailable as why:
            try:
                picked = picked_table(pick_cases(config, grid))
            except FigureUnavailable:
                picked = None
            cases = Cases([], why, picked)
    provenance(config, n_images=n_test_images(grid), wall_time_s=sw.seconds, split=split_label(grid))
    return cases


def example_panel(image: np.ndarray, heatmap: np.ndarray, box: Sequence[float] | None,
                  points: np.ndarray | None, pred_mask: np.ndarray, gt_mask: np.ndarray,
                  title: str = "", axes: Sequence[plt.Axes] | None = None) -> Figure:
    """One row of Fig. 7: (a) heatmap overlay with prompts, (b) image with prompts,
    (c) predicted mask (blue) against ground truth (green)."""
    if pred_mask.shape != gt_mask.shape or pred_mask.shape != image.shape[:2]:
        raise ValueError(f"shape mismatch: image {image.shape[:2]}, pred {pred_mask.shape}, gt {gt_mask.shape}")
    if axes is None:
        fig, ax_arr = plt.subplots(1, 3, figsize=(9.0, 3.2))
        axes = list(ax_arr)
    else:
        fig = axes[0].figure
    a, b, c = axes
    a.imshow(viz.overlay_heatmap(image, heatmap))
    viz.draw_prompts(a, box, points)
    a.set_title("CAM + prompts", fontsize=9)
    b.imshow(image)
    viz.draw_prompts(b, box, points)
    b.set_title("prompts", fontsize=9)
    shown = image.astype(np.float64).copy()
    shown[pred_mask] = 0.55 * shown[pred_mask] + 0.45 * np.array([41, 98, 255])
    c.imshow(shown.astype(np.uint8))
    viz.draw_mask_contour(c, pred_mask, viz.PRED_COLOR)
    viz.draw_mask_contour(c, gt_mask, viz.GT_COLOR)
    c.set_title("mask (blue) vs GT (green)", fontsize=9)
    for ax in axes:
        viz.clean_axes(ax)
    if title:
        a.set_ylabel(title, fontsize=9)
    return fig


def examples_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Fig. 7: one :func:`example_panel` row per mapping with keys ``image``, ``heatmap``,
    ``box``, ``points``, ``pred_mask``, ``gt_mask``, ``title``."""
    if not rows:
        raise ValueError("examples_figure needs at least one row")
    fig, axes = plt.subplots(len(rows), 3, figsize=(9.0, 3.0 * len(rows)), squeeze=False)
    for r, ax_row in zip(rows, axes):
        example_panel(r["image"], r["heatmap"], r.get("box"), r.get("points"), r["pred_mask"],
                      r["gt_mask"], title=str(r.get("title", "")), axes=list(ax_row))
    fig.tight_layout()
    return fig


def show(cases: Cases) -> None:
    """Fig. 7 and the table of its cases, or the sentence saying why there is none."""
    if cases.why_unavailable is not None:
        unavailable("Fig. 7", cases.why_unavailable)
        if cases.picked is not None and not cases.picked.empty:
            markdown("The cases the figure would draw, from the grid's rows (prompts in image pixels):")
            show_table(cases.picked, empty="")
    elif not cases.cases:
        markdown("*No segmentation rows to draw examples from.*")
    else:
        show_figure(examples_figure(cases.cases))
        show_table(pd.DataFrame([{k: e[k] for k in CASE_COLUMNS} for e in cases.cases]), empty="")


__all__ = ["CASE_COLUMNS", "PICK_COLUMNS", "Cases", "pick_cases", "picked_table", "example_cases", "run", "example_panel", "examples_figure", "show"]

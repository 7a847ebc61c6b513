"""Fig. 7 (cam2seg_utils.report.fig7): one row of panels per case."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cam2seg_utils.report import fig7


def test_example_panel_and_shape_check(disk_image):
    img, mask = disk_image
    fig = fig7.examples_figure([
        {"image": img, "heatmap": mask.astype(float), "box": [95, 55, 205, 165],
         "points": np.array([[150.0, 110.0]]), "pred_mask": mask, "gt_mask": mask, "title": "good"},
    ])
    assert len(fig.axes) == 3
    assert fig.axes[0].get_ylabel() == "good"
    with pytest.raises(ValueError, match="shape mismatch"):
        fig7.example_panel(img, mask.astype(float), None, None, mask[:10], mask)
    plt.close("all")


def test_pick_cases_from_the_official_snapshot_without_pixels(repo_root):
    """The good / median / failed rows come from the grid alone (listed when the pixels are not
    here): the best, median and worst oracle best-CAM IoU of the official validation split."""
    from cam2seg_utils.publish import list_snapshots, load_snapshot
    from cam2seg_utils.report.provenance import published_config
    from cam2seg_utils.report.tables import best_rows

    folder = list_snapshots(repo_root / "results" / "published")["isic-official"]
    cfg, grid = published_config(folder), load_snapshot(folder).grid
    chosen = fig7.pick_cases(cfg, grid)
    table = fig7.picked_table(chosen)
    assert list(table["case"]) == ["good", "median", "failed"] and table["image_id"].is_unique
    setting, model = table["setting"].iloc[0], table["model"].iloc[0]
    best = best_rows(grid, cfg)
    oracle = best[(best["selection_key"] == "oracle") & (best["setting"] == setting) & (best["model"] == model)]
    ious = sorted(oracle["iou"], reverse=True)
    assert table["iou"].tolist() == pytest.approx([ious[0], ious[len(ious) // 2], ious[-1]])
    assert set(fig7.PICK_COLUMNS) == set(table.columns) and table["box_x1"].gt(table["box_x0"]).all()

"""Beyond the paper (cam2seg_utils.report.strategies): the strategies table and the verdict on
whether the CAM earns its keep, with the floors taken from the strategy registry."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.prompting import STRATEGIES
from cam2seg_utils.report import strategies


def _table(rows):
    return pd.DataFrame([{"setting": "zero-shot", "model": "m", "slice": sl, "strategy": st, "cam": cam,
                          "uses_ground_truth": st.startswith("oracle"), "iou": iou, "n": 10}
                         for sl, st, cam, iou in rows])


def _grid(baseline_strategy="whole-image"):
    return pd.DataFrame({"setting": ["whole-image-box", "gt-box", "zero-shot"], "strategy": [baseline_strategy,
                         "oracle-gt-box", "algorithm1"], "error": [None, None, None]})


def test_floors_come_from_the_registry_and_the_whole_image_baseline():
    registry_floors = {n for n in STRATEGIES.names() if not STRATEGIES.get(n).uses_classifier}
    assert registry_floors == {"whole-image", "centred-box", "image-prior"}
    assert strategies.floor_strategies(_grid()) == registry_floors
    # the whole-image baseline counts as a floor by the label the grid gives it
    assert strategies.floor_strategies(_grid("whole-image-v2")) == registry_floors | {"whole-image-v2"}


def test_verdict_hand_made():
    table = _table([("all", "algorithm1", "gradcam", 0.50), ("all", "candidates", "gradcam", 0.70),
                    ("all", "image-prior", "", 0.75), ("all", "oracle-gt-box", "", 0.90),
                    ("small", "algorithm1", "gradcam", 0.30), ("small", "centred-box", "", 0.20),
                    ("small", "whole-image", "", 0.10)])
    v = strategies.verdict(table, _grid())
    best = v.best.set_index(["slice", "uses_cam"])
    assert best.loc[("all", True), "strategy"] == "candidates" and best.loc[("all", False), "strategy"] == "image-prior"
    assert best.loc[("small", True), "iou"] == 0.30 and best.loc[("small", False), "strategy"] == "centred-box"
    assert "oracle-gt-box" not in set(v.best["strategy"])           # the oracle takes no part
    assert v.lines == [
        "- zero-shot · m · all: **a floor that ignores the classifier beats every CAM strategy** (0.750 vs 0.700).",
        "- zero-shot · m · small: a CAM strategy leads (0.300 vs floor 0.200)."]


def test_verdict_on_the_published_snapshot(local_isic_page):
    cfg, grid = local_isic_page
    table = strategies.summary_table(grid, cfg)
    assert {"algorithm1", "candidates", "image-prior", "whole-image", "oracle-gt-box"} <= set(table["strategy"])
    v = strategies.verdict(table, grid)
    # two settings x the slices that have images (no lesion of this split touches the border)
    assert len(v.lines) == 4 and len(v.best) == 8
    floors = v.best[~v.best["uses_cam"]]
    assert set(floors["strategy"]) <= strategies.floor_strategies(grid)
    all_zs = v.best[(v.best["setting"] == "zero-shot") & (v.best["slice"] == "all")].set_index("uses_cam")
    assert all_zs.loc[False, "strategy"] == "image-prior" and all_zs.loc[False, "iou"] == pytest.approx(0.796, abs=5e-4)
    assert v.lines[2] == ("- zero-shot · tf_efficientnet_lite0 · all: **a floor that ignores the classifier beats "
                          f"every CAM strategy** ({all_zs.loc[False, 'iou']:.3f} vs {all_zs.loc[True, 'iou']:.3f}).")


def test_strategy_figures(disk_image):
    img, mask = disk_image
    rows = pd.DataFrame({"setting": ["zero-shot"] * 4, "label": ["a", "a", "b", "b"], "iou": [0.2, 0.4, 0.9, 0.7]})
    fig = strategies.strategy_iou_plot(rows)
    means = fig.axes[0].collections[-1].get_offsets()
    assert np.allclose(np.asarray(means)[:, 0], [0.8, 0.3])           # ordered by mean IoU, best first
    case_row = pd.Series({"box_x0": 95.0, "box_y0": 55.0, "box_x1": 205.0, "box_y1": 165.0, "iou": 0.91})
    fig2 = strategies.strategy_examples_figure([{"title": "wins", "image": img, "gt_mask": mask, "masks": {"x": mask},
                                                 "rows": {"x": case_row, "y": case_row}}])
    assert [a.get_title() for a in fig2.axes] == ["wins: x\nIoU 0.91", "wins: y\nIoU 0.91"]
    plt.close("all")


def test_verdict_counts_randomcam_as_a_floor_and_says_tie():
    """RandomCAM is the paper's control: its Algorithm 1 row is no CAM strategy; equal bests tie."""
    table = _table([("border", "algorithm1", "randomcam", 0.797), ("border", "algorithm1", "gradcam", 0.60),
                    ("border", "whole-image", "", 0.797),
                    ("all", "candidates", "gradcam+gradcam++", 0.70), ("all", "image-prior", "", 0.70)])
    v = strategies.verdict(table, _grid())
    best = v.best.set_index(["slice", "uses_cam"])
    assert best.loc[("border", True), "strategy"] == "algorithm1" and best.loc[("border", True), "cam"] == "gradcam"
    assert v.lines == ["- zero-shot · m · all: a tie: the best CAM strategy equals the best floor (0.700).",
                       "- zero-shot · m · border: **a floor that ignores the classifier beats every CAM strategy** "
                       "(0.797 vs 0.600)."]

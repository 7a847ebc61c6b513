"""Generation vs selection, the CAM's contribution (cam2seg_utils.report.selection) and the
headline table (cam2seg_utils.report.headline) on a hand-made grid with hand-computed answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments.table import rows_to_frame
from cam2seg_utils.report import headline, selection

P = {"percentile": 50.0, "num_points": 3, "amplification": 2.0}
# image -> (lesion area fraction, border fraction): A, B small; D touches the border
IMAGES = {"A": (0.05, 0.0), "B": (0.05, 0.0), "C": (0.30, 0.0), "D": (0.30, 0.2)}
IOU = {  # (setting, strategy, cam) -> IoU of images A, B, C, D
    ("gt-box", "oracle-gt-box", ""): (0.9, 0.8, 0.9, 0.8),
    ("whole-image-box", "whole-image", ""): (0.1, 0.1, 0.3, 0.5),
    ("zero-shot", "oracle-candidates", "gradcam+gradcam++"): (0.8, 0.7, 0.9, 0.6),
    ("zero-shot", "candidates", "gradcam+gradcam++"): (0.8, 0.0, 0.9, 0.5),
    ("no-classifier", "image-prior", ""): (0.6, 0.0, 0.9, 0.7),
    ("zero-shot", "algorithm1", "gradcam"): (0.3, 0.2, 0.5, 0.6),
    ("zero-shot", "algorithm1", "randomcam"): (0.1, 0.1, 0.4, 0.5),
}


class _Cfg:
    percentile = [50.0]
    segmenter = "litemedsam"
    models = ["m"]
    cams = ["gradcam", "randomcam"]
    strategy_cams = ["gradcam", "gradcam++"]
    strategies = ["algorithm1", "candidates", "image-prior"]
    ranking_weights = "a-priori"


def _grid() -> pd.DataFrame:
    rows = []
    for (setting, strategy, cam), ious in IOU.items():
        for (image, (area, border)), iou in zip(IMAGES.items(), ious):
            row = {"image_id": image, "split": "Validation", "setting": setting, "strategy": strategy, "cam": cam,
                   "prompt_variant": "box", "segmenter": "litemedsam", "iou": iou, "dice": 2 * iou / (1 + iou),
                   "precision": iou, "recall": iou, "f1": 2 * iou / (1 + iou), "seg_predicted_iou": 1 - iou,
                   "gt_area_fraction": area, "gt_border_fraction": border, "num_points": 0}
            if setting == "zero-shot":
                row["model"] = "m"
            if strategy == "algorithm1":
                row.update(P)
            rows.append(row)
    return rows_to_frame(rows)


def test_selection_gap_hand_computed():
    gap = selection.selection_gap(_grid(), _Cfg()).set_index("slice")
    a = gap.loc["all"]
    assert (a["setting"], a["n"]) == ("zero-shot", 4)
    assert a["gt_box"] == pytest.approx(0.85) and a["best_candidate"] == pytest.approx(0.75)
    assert a["chosen"] == pytest.approx(0.55) and a["whole_image_box"] == pytest.approx(0.25)
    assert a["lost_in_generation"] == pytest.approx(0.10) and a["lost_in_selection"] == pytest.approx(0.20)
    assert (a["misses_chosen"], a["misses_best_candidate"]) == (1, 0)
    small = gap.loc["small lesion (<10 % of image)"]
    assert small["n"] == 2 and small["chosen"] == pytest.approx(0.4) and small["lost_in_selection"] == pytest.approx(0.35)
    assert gap.loc["touches border", "n"] == 1 and gap.loc["touches border", "chosen"] == pytest.approx(0.5)


def test_selection_gap_is_empty_without_oracle_rows():
    g = _grid()
    assert selection.selection_gap(g[g["strategy"] != "oracle-candidates"], _Cfg()).empty


def test_cam_contribution_hand_computed():
    c = selection.cam_contribution(_grid(), _Cfg()).set_index("slice")
    a = c.loc["all"]
    # candidates - image-prior per image: +0.2, 0, 0, -0.2
    assert a["delta"] == pytest.approx(0.0, abs=1e-12) and (a["cam_better"], a["cam_worse"]) == (1, 1)
    assert a["delta_ci_low"] <= 0 <= a["delta_ci_high"] and a["n"] == 4
    assert c.loc["small lesion (<10 % of image)", "delta"] == pytest.approx(0.1)
    assert selection.cam_verdict(c.reset_index()) == [
        "- zero-shot: 4 images, too few to test (mean difference +0.000 IoU)."]
    # with enough images the verdict reads the CI (a constructed row with n = 20)
    many = c.reset_index().assign(n=20, delta_ci_low=-0.05, delta_ci_high=0.05, p=0.9)
    assert selection.cam_verdict(many) == [
        "- zero-shot: **the CAM makes no measurable difference** (+0.000 IoU [-0.050, +0.050], p = 0.900 on 20 "
        "images; better on 1, worse on 1 by more than 0.05)."]


def test_headline_table_hand_computed():
    t = headline.headline_table(_grid(), _Cfg()).set_index("label")
    assert t.attrs["settings"] == ["zero-shot"] and (t.attrs["n_images"], t.attrs["n_small"], t.attrs["n_border"]) == (4, 2, 1)
    gt = t.loc["ground-truth tight box (the ceiling)"]
    assert gt["zero-shot iou"] == pytest.approx(0.85) and gt["zero-shot small"] == pytest.approx(0.85)
    assert gt["zero-shot border"] == pytest.approx(0.8) and gt["zero-shot misses"] == 0
    default = t.loc["`candidates` (the default)"]
    assert default["zero-shot iou"] == pytest.approx(0.55) and default["zero-shot misses"] == 1
    assert default["zero-shot iou_ci_low"] <= 0.55 <= default["zero-shot iou_ci_high"]
    assert default["tuned_on"].startswith("0 fitted")
    # Table 2's oracle: per image the better of Grad-CAM and RandomCAM by IoU
    oracle = t.loc["best CAM per image by ground truth (the paper's Table 2)"]
    assert oracle["zero-shot iou"] == pytest.approx(np.mean([0.3, 0.2, 0.5, 0.6]))
    # by predicted IoU (= 1 - IoU here): the worse one
    assert t.loc["best CAM per image by predicted IoU", "zero-shot iou"] == pytest.approx(np.mean([0.1, 0.1, 0.4, 0.5]))
    assert "Algorithm 1, ScoreCAM" not in t.index                      # absent rows are left out
    md = headline.headline_markdown(headline.headline_table(_grid(), _Cfg()))
    assert md.splitlines()[0].startswith("| prompt | zero-shot, mean IoU [95 % CI] |")
    assert "| `candidates` (the default) | 0.550 (n too small) |" in md       # no CI below 5 images
    t20 = headline.headline_table(_grid(), _Cfg())
    t20["zero-shot n"] = 20
    md20 = headline.headline_markdown(t20)
    assert f"| `candidates` (the default) | 0.550 [{default['zero-shot iou_ci_low']:.3f}, " in md20

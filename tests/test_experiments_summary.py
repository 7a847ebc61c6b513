"""Summary tables on a hand-made grid table with hand-computed expected values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments import summary
from cam2seg_utils.experiments.table import COLUMNS, rows_to_frame

P = {"percentile": 90.0, "num_points": 3, "amplification": 2.0}


def _row(image, cam, iou, pred_iou, variant="box", setting="fine-tuned", model="m", **kw):
    return {"image_id": image, "split": "Test", "setting": setting, "model": model, "cam": cam,
            "prompt_variant": variant, "segmenter": "litemedsam", "iou": iou, "dice": 2 * iou / (1 + iou),
            "precision": iou, "recall": iou, "f1": 2 * iou / (1 + iou), "seg_predicted_iou": pred_iou,
            **P, **kw}


@pytest.fixture
def table() -> pd.DataFrame:
    rows = [
        # image A: c1 is truly better (0.8) but the segmenter prefers c2 (0.9 > 0.5)
        _row("A", "c1", 0.8, 0.5), _row("A", "c2", 0.2, 0.9),
        # image B: c2 is truly better (0.6) but the segmenter prefers c1 (0.7 > 0.6)
        _row("B", "c1", 0.0, 0.7), _row("B", "c2", 0.6, 0.6),
        # Table 1 rows (no segmenter)
        _row("A", "c1", 0.3, np.nan, variant="cam-mask"), _row("B", "c1", 0.1, np.nan, variant="cam-mask"),
        # GT baselines
        {"image_id": "A", "setting": "gt-box", "prompt_variant": "box", "segmenter": "litemedsam", "iou": 0.9,
         "dice": 0.9, "precision": 0.9, "recall": 0.9, "f1": 0.9, "num_points": 0},
        {"image_id": "B", "setting": "gt-box", "prompt_variant": "box", "segmenter": "litemedsam", "iou": 0.7,
         "dice": 0.7, "precision": 0.7, "recall": 0.7, "f1": 0.7, "num_points": 0},
        # an error row is ignored everywhere
        _row("C", "c1", np.nan, np.nan, error="DataError: broken"),
    ]
    df = rows_to_frame(rows)
    assert list(df.columns) == COLUMNS
    return df


def test_best_method_oracle_vs_predicted_iou(table):
    t = summary.best_method_table(table, prompt_variant="box", **P).set_index("selection")
    oracle = t.loc[summary.ORACLE]
    clinic = t.loc[summary.PREDICTED_IOU]
    assert "oracle" in summary.ORACLE and "oracle" not in summary.PREDICTED_IOU
    assert oracle["iou"] == pytest.approx((0.8 + 0.6) / 2)      # A->c1, B->c2
    assert clinic["iou"] == pytest.approx((0.2 + 0.0) / 2)      # A->c2, B->c1
    assert (oracle["n"], clinic["n"]) == (2, 2)
    assert (oracle["n_zero_iou"], clinic["n_zero_iou"]) == (0, 1)
    chosen = summary.best_per_image(table, "box", "predicted-iou", **P)
    assert chosen.set_index("image_id")["cam"].to_dict() == {"A": "c2", "B": "c1"}


def test_individual_matrix_and_zero_counts(table):
    mat = summary.model_cam_matrix(table, "fine-tuned", prompt_variant="box", **P)
    assert mat.loc["m", "c1"] == pytest.approx(0.4) and mat.loc["m", "c2"] == pytest.approx(0.4)
    ind = summary.individual_table(table, prompt_variant="box", ci=True, n_boot=200, **P).set_index("cam")
    assert ind.loc["c1", "n_zero_iou"] == 1 and ind.loc["c2", "n_zero_iou"] == 0
    assert ind.loc["c1", "iou_ci_low"] <= 0.4 <= ind.loc["c1", "iou_ci_high"]
    z = summary.zero_iou_counts(table, prompt_variant="box", **P).set_index("method")
    assert z.loc["c1", "n_zero_iou"] == 1 and z.loc["c2", "n_zero_iou"] == 0
    assert z.loc["best: " + summary.ORACLE, "n_zero_iou"] == 0
    assert z.loc["best: " + summary.PREDICTED_IOU, "frac_zero_iou"] == pytest.approx(0.5)


def test_cam_mask_gt_baseline_and_errors(table):
    t1 = summary.cam_mask_table(table, **P)
    assert len(t1) == 1 and t1.loc[0, "iou"] == pytest.approx(0.2) and t1.loc[0, "n"] == 2
    gt = summary.gt_baseline_table(table)
    assert gt.loc[0, "setting"] == "gt-box" and gt.loc[0, "iou"] == pytest.approx(0.8)
    assert summary.error_counts(table)["n_errors"].sum() == 1


def test_swept_parameters_must_be_chosen(table):
    other = table[table["prompt_variant"] == "box"].assign(percentile=95.0, iou=0.0)
    swept = pd.concat([table, other], ignore_index=True)
    with pytest.raises(ValueError, match="percentile"):
        summary.model_cam_matrix(swept, "fine-tuned")
    mat = summary.model_cam_matrix(swept, "fine-tuned", percentile=95.0)
    assert (mat.to_numpy() == 0).all()


def test_cams_are_compared_on_their_common_images():
    """ScoreCAM on image A only, GradCAM on A-D: every comparison uses image A (n = 1) and
    reports the cells' own image counts (n_all); images="all" is the explicit opt-out."""
    grad = {"A": 0.4, "B": 0.8, "C": 0.8, "D": 0.8}
    rows = [_row(i, "gradcam", v, v) for i, v in grad.items()] + [_row("A", "scorecam", 0.6, 0.1)]
    rows += [_row(i, "gradcam", 0.2, np.nan, variant="cam-mask") for i in grad]
    rows += [_row("A", "scorecam", 0.5, np.nan, variant="cam-mask")]
    df = rows_to_frame(rows)
    ind = summary.individual_table(df, prompt_variant="box", **P).set_index("cam")
    assert ind.loc["gradcam", ["n", "n_all"]].tolist() == [1, 4] and ind.loc["gradcam", "iou"] == pytest.approx(0.4)
    assert ind.loc["scorecam", ["n", "n_all"]].tolist() == [1, 1] and ind.loc["scorecam", "iou"] == pytest.approx(0.6)
    assert list(ind.columns[:3]) == ["setting", "model", "n"] and ind.columns[3] == "n_all"
    everything = summary.individual_table(df, prompt_variant="box", images="all", **P).set_index("cam")
    assert everything.loc["gradcam", "n"] == 4 and everything.loc["gradcam", "iou"] == pytest.approx(0.7)
    mat = summary.model_cam_matrix(df, "fine-tuned", prompt_variant="box", **P)
    assert mat.loc["m", "gradcam"] == pytest.approx(0.4) and mat.loc["m", "scorecam"] == pytest.approx(0.6)
    best = summary.best_method_table(df, prompt_variant="box", **P).set_index("selection")
    assert best.loc[summary.ORACLE, "n"] == 1 and best.loc[summary.ORACLE, "iou"] == pytest.approx(0.6)
    assert best.loc[summary.PREDICTED_IOU, "iou"] == pytest.approx(0.4)  # GradCAM's 0.4 > ScoreCAM's 0.1
    z = summary.zero_iou_counts(df, prompt_variant="box", **P)
    assert (z["n"] == 1).all()
    t1 = summary.cam_mask_table(df, **P).set_index("cam")
    assert t1.loc["gradcam", ["n", "n_all"]].tolist() == [1, 4]
    with pytest.raises(ValueError, match="images must be one of"):
        summary.individual_table(df, images="some", **P)

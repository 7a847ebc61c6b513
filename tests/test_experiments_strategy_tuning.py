"""experiments/strategy_tuning.py: the softmax fit, the image-level choice and the label-efficiency curve."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments.strategy_tuning import choose, fit_weights, label_efficiency, slice_scores
from cam2seg_utils.prompting.weights import A_PRIORI


def _table(n_images=6, setting="zero-shot"):
    """Two candidates per image: the segmenter is surer of the wrong one (pred_iou .9 vs .8); only
    its stability (0.5 vs 0.95) tells them apart -- a feature the a-priori set does not weight."""
    rows = []
    for i in range(n_images):
        base = {"image_id": f"I{i}", "setting": setting, "gt_area_fraction": 0.05 if i % 2 else 0.2,
                "gt_border_fraction": 0.1 if i == 0 else 0.0}
        rows.append({**base, "candidate": 0, "pred_iou": 0.9, "stability": 0.5, "iou": 0.1})
        rows.append({**base, "candidate": 1, "pred_iou": 0.8, "stability": 0.95, "iou": 0.85})
    t = pd.DataFrame(rows)
    for f in ("contrast", "centrality", "border", "outside_fov", "artefact"):
        t[f] = 0.0
    return t


def test_choose_takes_the_first_maximum_in_candidate_order():
    t = _table(2)
    assert choose(t, {"pred_iou": 1.0})["candidate"].tolist() == [0, 0]
    assert choose(t, {"stability": 1.0})["candidate"].tolist() == [1, 1]
    tie = t.assign(pred_iou=0.5)
    assert choose(tie, {"pred_iou": 1.0})["candidate"].tolist() == [0, 0]


def test_fit_moves_the_weights_to_the_feature_that_ranks_right():
    t = _table()
    a_priori = {k: v for k, v in A_PRIORI.weights.items()}
    assert choose(t, a_priori)["iou"].mean() == pytest.approx(0.1)          # k = 0 picks wrong here
    w = fit_weights(t, features=("pred_iou", "stability"), tau=0.05, lam=0.001)
    assert w["stability"] > 0
    assert choose(t, w)["iou"].mean() == pytest.approx(0.85)
    # no images -> the a-priori weights, unchanged
    assert fit_weights(t.iloc[:0], features=("pred_iou", "contrast")) == {"pred_iou": 1.0, "contrast": 1.0}


def test_a_strong_pull_keeps_the_a_priori_weights():
    w = fit_weights(_table(), features=("pred_iou", "stability"), tau=0.05, lam=1e6)
    assert w["pred_iou"] == pytest.approx(1.0, abs=1e-3) and abs(w.get("stability", 0.0)) < 1e-3


def test_slice_scores_by_hand():
    chosen = pd.DataFrame({"iou": [0.0, 0.5, 1.0, 0.9], "gt_area_fraction": [0.05, 0.05, 0.3, 0.3],
                           "gt_border_fraction": [0.0, 0.2, 0.0, 0.0]})
    s = slice_scores(chosen)
    assert s["iou"] == pytest.approx(0.6) and s["iou_small"] == pytest.approx(0.25)
    assert s["iou_border"] == pytest.approx(0.5) and s["misses"] == 1 and s["n_small"] == 2


def test_label_efficiency_rows_draws_and_held_out_images():
    fit, ev = _table(10), _table(4)
    kw = dict(ks=(0, 2, None), draws=3, seed=0, tau=0.05, lam=0.001, features=("pred_iou", "stability"))
    curve, weights = label_efficiency(fit, ev, **kw)
    assert sorted(curve.groupby("k_masks").size().to_dict().items()) == [(0, 1), (2, 3), (10, 1)]
    assert curve.loc[curve.k_masks == 0, "eval_iou"].item() == pytest.approx(0.1)
    assert curve.loc[curve.k_masks == 10, "eval_iou"].item() == pytest.approx(0.85)
    assert curve.loc[curve.k_masks == 10, "heldout_iou"].isna().all()   # every image was fitted on
    assert (curve.loc[curve.k_masks == 2, "heldout_n_images"] == 8).all()
    again, _ = label_efficiency(fit, ev, **kw)
    pd.testing.assert_frame_equal(curve, again)                          # seeded draws
    assert set(weights) == {0, 2, 10}


def test_label_efficiency_skips_k_above_the_fitting_images():
    """A smoke run holds out fewer images than k = 8 or 32: those points would repeat k = all."""
    curve, weights = label_efficiency(_table(3), _table(2), ks=(0, 8, 32, None), draws=2, seed=0,
                                      features=("pred_iou", "stability"))
    assert sorted(curve["k_masks"].unique()) == [0, 3] and set(weights) == {0, 3}

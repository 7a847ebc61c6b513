"""The selection study: feature AUCs on hand-made candidate tables, GT-free pseudo-labels, the
logistic ranker (deterministic, blind to the IoU column), seeded folds, and no ranking reading
ground truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments import selection_study as ss
from cam2seg_utils.prompting.consensus_ranking import CONSENSUS
from cam2seg_utils.prompting.learned_ranking import LogisticRanking, design_matrix
from cam2seg_utils.prompting.scoring import FEATURES
from cam2seg_utils.prompting.weights import WEIGHT_SETS


def _table(n_images: int = 6, n_cand: int = 5, seed: int = 0) -> pd.DataFrame:
    """Candidates whose ``contrast`` tracks their IoU and whose ``edge`` is noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_images):
        iou = rng.uniform(0, 1, n_cand)
        for c in range(n_cand):
            f = dict.fromkeys(FEATURES, 0.0)
            f.update(contrast=iou[c] + 0.01 * rng.standard_normal(), edge=rng.uniform(), consensus=rng.uniform(),
                     stability=rng.uniform())
            rows.append({"setting": "zero-shot", "image_id": f"img{i}", "candidate": c, **f, "iou": iou[c],
                         "gt_area_fraction": 0.05 if i % 2 else 0.3, "gt_border_fraction": 0.0 if i % 3 else 0.2})
    return pd.DataFrame(rows)


def test_feature_table_by_hand():
    # two images, three candidates: `contrast` ranks the best first in both, `edge` the worst
    rows = []
    for img, ious in (("a", [0.9, 0.5, 0.1]), ("b", [0.2, 0.8, 0.4])):
        for c, iou in enumerate(ious):
            rows.append({"image_id": img, "candidate": c, "contrast": iou, "edge": -iou, "iou": iou,
                         "gt_area_fraction": 0.05, "gt_border_fraction": 0.0})
    ft = ss.feature_table(pd.DataFrame(rows), features=("contrast", "edge")).set_index("feature")
    assert ft.loc["contrast", "auc"] == pytest.approx(1.0) and ft.loc["contrast", "direction"] == 1
    assert ft.loc["edge", "auc"] == pytest.approx(0.0) and ft.loc["edge", "direction"] == -1
    # alone, in its direction, each picks the best candidate: (0.9 + 0.8) / 2
    assert ft.loc["contrast", "iou"] == pytest.approx(0.85) and ft.loc["edge", "iou"] == pytest.approx(0.85)
    assert ft.loc["contrast", "misses"] == 0 and ft.loc["contrast", "n_images"] == 2


def test_auc_counts_ties_half():
    assert ss._auc(np.array([1, 0]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert np.isnan(ss._auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_pseudo_labels_never_read_the_ground_truth():
    t = _table()
    shuffled = t.assign(iou=np.random.default_rng(1).permutation(t["iou"].to_numpy()))
    assert np.array_equal(ss.pseudo_labels(t), ss.pseudo_labels(shuffled))
    # the consensus ranking's own best of each image is labelled 1
    score = t["consensus"] + CONSENSUS.stability_weight * t["stability"]
    top = score.groupby(t["image_id"]).idxmax()
    assert ss.pseudo_labels(t)[top.to_numpy()].all()


def test_logistic_ranker_deterministic_and_blind_to_iou():
    t = _table(n_images=12)
    a = ss.fit_logistic(t, ss.best_labels(t), "r", 12, "test")
    b = ss.fit_logistic(t, ss.best_labels(t), "r", 12, "test")
    assert a == b
    # it learnt that contrast (which tracks IoU here) matters more than noise
    f = list(a.features)
    assert abs(a.coef[f.index("contrast")]) > abs(a.coef[f.index("edge")])
    chosen = ss.choose_with(t, a)
    blind = ss.choose_with(t.assign(iou=0.0), a)
    assert list(chosen["candidate"]) == list(blind["candidate"])
    assert ss.slice_scores(chosen)["iou"] >= t.groupby("image_id")["iou"].mean().mean()


def test_logistic_ranking_json_and_without():
    t = _table()
    r = ss.fit_logistic(t, ss.best_labels(t), "r", 6, "test")
    assert LogisticRanking.from_json(r.to_json()) == r
    no_cam = r.without(["contrast"])
    assert "contrast" not in no_cam.features and len(no_cam.coef) == 2 * len(no_cam.features)
    with pytest.raises(ValueError, match="not a logistic ranking"):
        LogisticRanking.from_json('{"kind": "linear"}', "x.json")


def test_design_matrix_relative_terms():
    x = design_matrix([{"a": 1.0}, {"a": 3.0}], ["a"])
    assert x.tolist() == [[1.0, -2.0], [3.0, 0.0]]


def test_folds_cover_and_are_disjoint_and_seeded():
    ids = [f"i{k}" for k in range(23)]
    folds = ss.folds_of(ids, 5, seed=3)
    assert sorted(sum(folds, [])) == sorted(ids) and len(folds) == 5
    assert folds == ss.folds_of(list(reversed(ids)), 5, seed=3)
    assert folds != ss.folds_of(ids, 5, seed=4)


def test_cross_validated_scores_each_image_with_a_fit_that_never_saw_it():
    t = _table(n_images=10)
    seen = []

    def fit(part):
        seen.append(set(part["image_id"]))
        return WEIGHT_SETS.get("a-priori")

    chosen = ss.cross_validated(t, fit, folds=5, seed=0)
    assert sorted(chosen["image_id"]) == sorted(t["image_id"].unique())
    for held, trained in zip(ss.folds_of(t["image_id"].unique(), 5, 0), seen):
        assert not set(held) & trained


def test_compare_selectors_rows():
    ev, fit = _table(n_images=10, seed=0), _table(n_images=12, seed=5)
    table = ss.compare_selectors(ev, fit, ks=(4,), draws=2, seed=0, folds=5)
    names = list(table["ranking"])
    for name in ("a-priori", "consensus", "self-trained", "logistic-k4", "linear-k4", "logistic-k12", "linear-k12",
                 "logistic-eval", "oracle (best candidate by ground truth)"):
        assert name in names
    row = table.set_index("ranking")
    assert row.loc["self-trained", "k_masks"] == 0
    oracle = row.loc["oracle (best candidate by ground truth)", "iou"]
    assert (table["iou"] <= oracle + 1e-12).all()


@pytest.mark.parametrize("name", WEIGHT_SETS.names())
def test_no_ranking_reads_the_ground_truth(name):
    ranking = WEIGHT_SETS.get(name)
    rng = np.random.default_rng(0)
    feats = [{k: float(v) for k, v in zip(FEATURES, rng.uniform(size=len(FEATURES)))} for _ in range(5)]
    with_gt = [{**f, "iou": float(rng.uniform()), "gt_area_fraction": 0.1} for f in feats]
    assert np.array_equal(ranking.scores(feats), ranking.scores(with_gt))


def test_consensus_ranking_by_hand():
    feats = [{"consensus": 0.5, "stability": 1.0}, {"consensus": 0.55, "stability": 0.0}]
    assert CONSENSUS.scores(feats).tolist() == pytest.approx([0.6, 0.55])
    assert "consensus" in WEIGHT_SETS.names()


def test_write_study_writes_both_tables(tmp_path):
    ev, fit = _table(n_images=10, seed=0), _table(n_images=12, seed=5)
    tables = ss.write_study(ev, fit, tmp_path, seed=0)
    back = pd.read_csv(tmp_path / ss.SELECTORS_FILE)
    assert list(back["ranking"]) == list(tables["selectors"]["ranking"])
    feats = pd.read_csv(tmp_path / ss.FEATURES_FILE)
    assert set(feats["setting"]) == {"zero-shot"} and "contrast" in set(feats["feature"])
    assert not list(tmp_path.glob("*.tmp*"))   # written atomically: no leftovers

"""prompting/scoring.py and prompting/weights.py: GT-free features by hand, named weight sets."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.prompting.scoring import CAM_FEATURES, FEATURES, centrality, stability_score
from cam2seg_utils.prompting.weights import A_PRIORI, DEFAULT_WEIGHTS, WEIGHT_SETS, RankingWeights, get_weights


def test_stability_score_by_hand():
    logits = np.full((4, 4), -5.0)
    logits[0, :] = 3.0        # 4 pixels above +1
    logits[1, :2] = 0.0       # 2 more above -1 only
    assert stability_score(logits) == pytest.approx(4 / 6)
    assert stability_score(np.full((4, 4), -5.0)) == 0.0
    assert stability_score(None) == 0.0


def test_centrality_by_hand():
    m = np.zeros((11, 11), dtype=bool)
    m[5, 5] = True
    assert centrality(m) == pytest.approx(1.0)
    m[:] = False
    m[0, 0] = True
    assert centrality(m) == pytest.approx(0.0)
    m[:] = False
    m[5, 10] = True           # middle of the right side: half-way along the half-diagonal's scale
    assert centrality(m) == pytest.approx(1 - 0.5 / np.hypot(0.5, 0.5))
    assert centrality(np.zeros((3, 3), dtype=bool)) == 0.0


def test_candidate_features_on_a_drawn_image():
    from cam2seg_utils.prompting.prior import compute_prior
    from cam2seg_utils.prompting.scoring import candidate_features
    from tests.conftest import synthetic_disk_image

    image, mask = synthetic_disk_image()
    prior = compute_prior(image)
    whole = np.ones_like(mask)
    feats = candidate_features([mask, whole], [np.array([95.0, 55, 205, 165]), np.array([0.0, 0, 319, 239])],
                               [0.9, 0.9], prior, {})
    lesion, skin = feats
    assert set(lesion) == set(FEATURES)
    assert lesion["contrast"] > 0.3 > skin["contrast"]
    assert lesion["sides"] == 0.0 and skin["sides"] == 1.0
    assert lesion["centrality"] > 0.8 and lesion["artefact"] == 0.0
    assert lesion["edge"] > skin["edge"]
    assert all(lesion[k] == 0.0 for k in CAM_FEATURES)   # no heatmaps: no CAM terms


def test_linear_score_and_the_a_priori_set():
    assert A_PRIORI.k_masks == 0 and A_PRIORI.fitted_on == ""
    f = dict.fromkeys(FEATURES, 0.0)
    f.update(pred_iou=0.9, contrast=0.2, centrality=0.5, border=0.1, artefact=1.0)
    assert A_PRIORI.scores([f])[0] == pytest.approx(0.9 + 0.2 + 0.5 - 0.1 - 1.0)
    assert not set(A_PRIORI.uses_features) & set(CAM_FEATURES)
    assert DEFAULT_WEIGHTS in WEIGHT_SETS and get_weights().name == DEFAULT_WEIGHTS


def test_weight_sets_round_trip_and_refuse_bad_files(tmp_path):
    w = RankingWeights("fit-k8", {"pred_iou": 1.2, "cam_mass": 0.3}, k_masks=8, fitted_on="Training hold-out")
    back = RankingWeights.from_json(w.to_json())
    assert back == w
    assert "cam_mass" not in w.without(CAM_FEATURES).weights and w.without(CAM_FEATURES).k_masks == 8
    with pytest.raises(ValueError, match="bad.json: not a ranking weight set"):
        RankingWeights.from_json('{"name": "x"}', "bad.json")
    with pytest.raises(KeyError, match="unknown ranking 'nope'"):
        get_weights("nope")

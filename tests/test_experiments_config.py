"""The experiment config's ranking_weights field (cam2seg_utils.experiments.config): validated
against the weight-set registry and handed by build_strategy to the ranked strategies only."""
from __future__ import annotations

import pytest

from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.prompting import build_strategy
from cam2seg_utils.prompting.weights import A_PRIORI, DEFAULT_WEIGHTS, WEIGHT_SETS, RankingWeights


def test_ranking_weights_default_and_unknown_name():
    assert ExperimentConfig().ranking_weights == DEFAULT_WEIGHTS == "a-priori"
    with pytest.raises(ValueError, match=r"ranking_weights must be one of .*a-priori.*, got 'no-such-set'"):
        ExperimentConfig(ranking_weights="no-such-set")


def test_build_strategy_hands_the_weight_set_to_ranked_strategies_only(monkeypatch):
    fitted = RankingWeights("fit-k8-test", {"pred_iou": 1.0, "border": -2.0}, k_masks=8, fitted_on="test")
    monkeypatch.setitem(WEIGHT_SETS._items, fitted.name, fitted)   # a fitted set, as fitted_weights/*.json adds
    s = build_strategy("candidates", fitted.name)
    assert s.weights == "fit-k8-test" and s.ranking().k_masks == 8 and s.ranking().weights["border"] == -2.0
    assert build_strategy("image-prior", fitted.name).ranking().weights == {"pred_iou": 1.0, "border": -2.0}
    # a strategy that ranks nothing ignores the value (one config value serves every strategy)
    assert build_strategy("algorithm1", fitted.name).params()["percentile"] == 50.0
    assert build_strategy("candidates").ranking() == A_PRIORI

"""Fig. 4 (cam2seg_utils.report.fig4): accuracy bars, fine-tuning curves, the accuracy drop."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cam2seg_utils.report import fig4


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_accuracy_bars_and_missing_column():
    df = pd.DataFrame({"model": ["a", "a", "b", "b"], "setting": ["zero-shot", "fine-tuned"] * 2,
                       "accuracy": [0.5, 0.8, 0.4, 0.9]})
    fig = fig4.accuracy_bars(df, paper={"paper: fine-tuned > 0.80": 0.8})
    labels = sorted(t.get_text() for t in fig.axes[0].texts)
    assert labels == ["0.40", "0.50", "0.80", "0.90"]
    with pytest.raises(KeyError, match="auc"):
        fig4.accuracy_bars(df, metric="auc")


def test_training_curves_lines_per_model():
    hist = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 2, "epoch": [1, 2, 3, 1, 2],
                         "train_loss": [1.0, 0.5, 0.3, 0.9, 0.4], "val_loss": [1.1, 0.7, 0.6, 1.0, 0.8]})
    fig = fig4.training_curves(hist)
    assert len(fig.axes) == 2
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [3, 2]


def test_accuracy_drop_table_hand_computed():
    clf = pd.DataFrame({"model": ["mobilenetv2_100"] * 2 + ["convnext_tiny"] * 2,
                        "setting": ["fine-tuned", "zero-shot (centroid)", "fine-tuned", "zero-shot"],
                        "accuracy": [0.8, 0.6, 0.5, 0.5]})
    t = fig4.accuracy_drop_table(clf).set_index("model")
    mob = t.loc["mobilenetv2_100"]
    assert mob["paper model"] == "MobileNet_v2" and mob["drop (points)"] == pytest.approx(0.2)
    assert mob["drop (relative)"] == pytest.approx(0.25) and mob["paper drop"] == 0.172
    assert pd.isna(t.loc["convnext_tiny", "paper model"]) and t.loc["convnext_tiny", "drop (points)"] == 0
    assert pd.isna(t.loc["convnext_tiny", "paper drop"])
    assert list(fig4.classification_table(clf).columns) == ["model", "setting", "accuracy"]

"""The label-efficiency page (cam2seg_utils.report.label_efficiency): draws summarised per k,
the figure's references, and the sentence when the run has no tune-strategies output."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cam2seg_utils.report import label_efficiency as le


def _curve():
    rows = []
    for k, draws in ((0, [0.70]), (8, [0.60, 0.70, 0.80]), (300, [0.75])):
        for d, v in enumerate(draws):
            rows.append({"k_masks": k, "draw": d, "setting": "zero-shot", "eval_iou": v, "eval_iou_small": v - 0.1,
                         "eval_iou_border": v - 0.2, "eval_misses": 2 * d, "eval_n_images": 150,
                         "heldout_iou": v + 0.05})
    return pd.DataFrame(rows)


def test_curve_table_summarises_the_draws():
    t = le.curve_table(_curve()).set_index("k_masks")
    assert t.loc[8, "draws"] == 3 and t.loc[8, "eval_iou"] == pytest.approx(0.70)
    assert (t.loc[8, "eval_iou_min"], t.loc[8, "eval_iou_max"]) == (pytest.approx(0.6), pytest.approx(0.8))
    assert t.loc[8, "eval_misses"] == pytest.approx(2.0) and t.loc[300, "heldout_iou"] == pytest.approx(0.80)
    assert t.loc[0, "n_eval"] == 150


def test_curve_figure_draws_the_references():
    fig = le.curve_figure(le.curve_table(_curve()), gt_box=0.82, whole_image=0.27)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("ground-truth box, same images (0.820)" in s for s in labels)
    assert any("whole-image box, same images (0.270)" in s for s in labels)
    assert sum("other data" in s or "official test" in s for s in labels) == len(le.SUPERVISED_REFERENCES)
    plt.close("all")


def test_load_curve_reads_the_run_folder(tmp_path):
    assert le.load_curve(tmp_path).empty
    (tmp_path / "strategy_tuning").mkdir()
    _curve().to_csv(tmp_path / "strategy_tuning" / "label_efficiency.csv", index=False)
    assert len(le.load_curve(tmp_path)) == 5

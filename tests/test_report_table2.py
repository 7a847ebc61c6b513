"""Table 2 with Fig. 6 (cam2seg_utils.report.table2)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cam2seg_utils.report import table2


def test_iou_histograms_fractions_sum_to_one():
    ious = np.array([0.0, 0.0, 0.5, 0.9])
    fig = table2.iou_histograms({"m": {"best": ious}}, bins=10)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert np.isclose(sum(heights), 1.0)
    assert np.isclose(heights[0], 0.5)  # two of four IoUs are zero
    plt.close(fig)


def test_paper_table_has_both_settings_and_the_ablation_rows():
    t = table2.paper_table()
    assert len(t) == 12 and set(t["setting"]) == {"ablation", "zero-shot", "fine-tuned"}

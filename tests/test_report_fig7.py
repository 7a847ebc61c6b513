"""Fig. 7 (cam2seg_utils.report.fig7): one row of panels per case."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from cam2seg_utils.report import fig7


def test_example_panel_and_shape_check(disk_image):
    img, mask = disk_image
    fig = fig7.examples_figure([
        {"image": img, "heatmap": mask.astype(float), "box": [95, 55, 205, 165],
         "points": np.array([[150.0, 110.0]]), "pred_mask": mask, "gt_mask": mask, "title": "good"},
    ])
    assert len(fig.axes) == 3
    assert fig.axes[0].get_ylabel() == "good"
    with pytest.raises(ValueError, match="shape mismatch"):
        fig7.example_panel(img, mask.astype(float), None, None, mask[:10], mask)
    plt.close("all")

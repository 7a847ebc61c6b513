"""Fig. 5 (cam2seg_utils.report.fig5): the model x CAM matrices and the prompt-variant table."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.report import fig5


def test_iou_matrix_heatmaps_annotates_values():
    mat = pd.DataFrame([[0.1, 0.25], [0.3, np.nan]], index=["resnet50", "mobilenetv2_100"],
                       columns=["gradcam", "scorecam"])
    fig = fig5.iou_matrix_heatmaps({"zero-shot": mat, "fine-tuned": mat * 2})
    heat_axes = [a for a in fig.axes if a.get_title()]
    assert [a.get_title() for a in heat_axes] == ["zero-shot", "fine-tuned"]
    texts = sorted(t.get_text() for t in heat_axes[1].texts)
    assert texts == ["0.200", "0.500", "0.600"]
    plt.close(fig)


def test_prompt_variant_table_pairs_by_image_and_cam():
    base = {"setting": "zero-shot", "model": "m", "percentile": 50.0, "num_points": 3, "amplification": 1.0,
            "error": None}
    rows = [dict(base, image_id=i, cam="gradcam", prompt_variant=v, iou=iou)
            for i, v, iou in (("1", "box", 0.6), ("2", "box", 0.8), ("1", "box+points", 0.4), ("2", "box+points", 0.5))]
    t = fig5.prompt_variant_table(pd.DataFrame(rows)).set_index("prompt variant")
    assert t.loc["box", "mean IoU"] == pytest.approx(0.7) and t.loc["box", "n"] == 2
    assert t.loc["box", "vs box+points: mean diff"] == pytest.approx(0.25)
    assert np.isnan(t.loc["box+points", "vs box+points: mean diff"])

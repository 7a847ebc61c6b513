"""Table 2 with Fig. 6 (cam2seg_utils.report.table2)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cam2seg_utils.report import table2


def test_fig6_ecdf_small_multiples_hand_computed():
    ious = np.array([0.0, 0.0, 0.5, 0.9])
    fig = table2.iou_ecdfs({"m · zero-shot": {"best": ious, "all": np.array([0.2, 0.4])},
                            "m · fine-tuned": {"best": ious[2:]}})
    panels = [a for a in fig.axes if a.axison]
    assert len(panels) == 2                                   # one panel per model x setting, no overlay
    x, y = panels[0].lines[0].get_data()
    # F(x) = fraction of images with IoU <= x: 0.5 at 0 (two complete failures), 0.75 at 0.5, 1 at 0.9
    assert np.allclose(x, [0.0, 0.0, 0.0, 0.5, 0.9, 1.0]) and np.allclose(y, [0.0, 0.25, 0.5, 0.75, 1.0, 1.0])
    assert panels[0].lines[1].get_data()[1][0] == 0.5         # the marker: share at IoU 0
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["best", "all"]
    assert not panels[0].get_legend()                        # the legend is off the panels
    plt.close(fig)


def test_randomcam_in_selection_counts_its_picks_and_the_mean_without_it():
    import pandas as pd

    from cam2seg_utils.profiles import get_profile

    cfg = get_profile("smoke")
    base = {"setting": "fine-tuned", "model": "m", "prompt_variant": cfg.main_prompt_variant, "strategy": "algorithm1",
            "percentile": cfg.percentile[0], "num_points": cfg.num_points[0], "amplification": cfg.amplification[0],
            "error": None}
    rows = []
    #          image: (gradcam iou, pred), (randomcam iou, pred)
    for img, (g, gp), (r, rp) in (("1", (0.8, 0.9), (0.2, 0.95)), ("2", (0.6, 0.7), (0.1, 0.5)),
                                  ("3", (0.4, 0.6), (0.5, 0.8))):
        rows.append(dict(base, image_id=img, cam="gradcam", iou=g, seg_predicted_iou=gp))
        rows.append(dict(base, image_id=img, cam="randomcam", iou=r, seg_predicted_iou=rp))
    t = table2.randomcam_in_selection(pd.DataFrame(rows), cfg).set_index("selection")
    pred = t.loc[table2.SELECTION_LABELS["predicted-iou"]]
    assert pred["RandomCAM picked"] == 2 and pred["n"] == 3                 # images 1 and 3
    assert np.isclose(pred["mean IoU, RandomCAM among the candidates"], (0.2 + 0.6 + 0.5) / 3)
    assert np.isclose(pred["mean IoU, real CAMs only"], (0.8 + 0.6 + 0.4) / 3)
    oracle = t.loc[table2.SELECTION_LABELS["oracle"]]
    assert oracle["RandomCAM picked"] == 1 and np.isclose(oracle["mean IoU, RandomCAM among the candidates"], 1.9 / 3)


def test_paper_table_has_both_settings_and_the_ablation_rows():
    t = table2.paper_table()
    assert len(t) == 12 and set(t["setting"]) == {"ablation", "zero-shot", "fine-tuned"}

"""The hitl experiment's tables (cam2seg_utils.experiments.hitl_tables) on a hand-made table:
NoC, never-reached shares, worse clicks, mean falls and slices computed by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments.hitl import coerce_table
from cam2seg_utils.experiments.hitl_tables import noc, summary_tables, verdict


def _rows(image, start, mode, ious, made, area, border):
    out = []
    for k, v in enumerate(ious):
        out.append({"image_id": image, "split": "Validation", "start": start, "start_detail": "", "mode": mode,
                    "click": k, "iou": v, "dice": 2 * v / (1 + v), "click_x": 1.0 if k and made[k - 1] else np.nan,
                    "click_y": 1.0 if k and made[k - 1] else np.nan,
                    "click_positive": (True if (k and made[k - 1]) else None),
                    "action": "start" if k == 0 else ("local" if made[k - 1] else "none"), "t_step_s": 0.0,
                    "gt_area_fraction": area, "gt_border_fraction": border, "error": None})
    return out


@pytest.fixture
def table():
    rows = []
    # image A: small lesion; image B touches the border; image C never reaches 0.85 (one "none" step)
    rows += _rows("A", "s", "m", [0.5, 0.86, 0.80, 0.95], [1, 1, 1], 0.05, 0.0)
    rows += _rows("B", "s", "m", [0.7, 0.60, 0.88, 0.91], [1, 1, 1], 0.20, 0.1)
    rows += _rows("C", "s", "m", [0.2, 0.30, 0.30, 0.40], [1, 0, 1], 0.30, 0.0)
    # another start whose mean falls at click 2
    rows += _rows("A", "w", "m", [0.1, 0.50, 0.20, 0.90], [1, 1, 1], 0.05, 0.0)
    rows += _rows("B", "w", "m", [0.1, 0.50, 0.40, 0.40], [1, 1, 1], 0.20, 0.1)
    rows += _rows("C", "w", "m", [0.1, 0.10, 0.10, 0.10], [1, 1, 1], 0.30, 0.0)
    return coerce_table(pd.DataFrame(rows))


def test_noc_counts_the_first_click_reaching_the_threshold():
    ious = np.array([[0.5, 0.86, 0.8, 0.95], [0.9, 0.9, 0.9, 0.9], [0.2, 0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(noc(ious, 0.85, 3), [1, 0, 3])      # never reached -> max_clicks
    np.testing.assert_array_equal(noc(ious, 0.90, 3), [3, 0, 3])


def test_summary_tables_by_hand(table):
    t = summary_tables(table, max_clicks=3, n_boot=200)
    n = t["noc"].set_index(["start", "slice"])
    s_all = n.loc[("s", "all")]
    assert s_all["n"] == 3
    assert s_all["miou@0"] == pytest.approx((0.5 + 0.7 + 0.2) / 3)
    assert s_all["miou@3"] == pytest.approx((0.95 + 0.91 + 0.40) / 3)
    assert s_all["noc@85"] == pytest.approx((1 + 2 + 3) / 3)
    assert s_all["noc@90"] == pytest.approx((3 + 3 + 3) / 3)
    assert s_all["never@85"] == pytest.approx(1 / 3) and s_all["never@90"] == pytest.approx(1 / 3)
    # clicks made: 3 + 3 + 2 = 8; worse: A at click 2, B at click 1
    assert s_all["clicks_made"] == 8 and s_all["worse_clicks"] == pytest.approx(2 / 8)
    assert s_all["mean_falls"] == 0
    w_all = n.loc[("w", "all")]
    assert w_all["mean_falls"] == 1 and w_all["worse_clicks"] == pytest.approx(2 / 9)
    # slices: A is the only small lesion, B the only one touching the border
    small = n.loc[("s", "small lesion (<10 % of image)")]
    assert small["n"] == 1 and small["noc@85"] == 1 and small["miou@1"] == pytest.approx(0.86)
    border = n.loc[("s", "touches border")]
    assert border["n"] == 1 and border["noc@85"] == 2
    c = t["curves"]
    row = c[(c["start"] == "s") & (c["slice"] == "all") & (c["click"] == 1)].iloc[0]
    assert row["miou"] == pytest.approx((0.86 + 0.6 + 0.3) / 3) and row["ci_low"] <= row["miou"] <= row["ci_high"]
    v = verdict(t["noc"], "m", start="s", reference="w")
    assert v["clicks_saved"] == pytest.approx((3 + 3 + 3) / 3 - 2.0) and v["n"] == 3


def test_error_rows_are_left_out(table):
    bad = table.iloc[:1].copy()
    bad["image_id"], bad["click"], bad["error"] = "D", -1, "DataError: broken file"
    t = summary_tables(pd.concat([table, bad], ignore_index=True), max_clicks=3, n_boot=50)
    assert t["noc"].set_index(["start", "slice"]).loc[("s", "all"), "n"] == 3

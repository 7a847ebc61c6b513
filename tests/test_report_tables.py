"""The rows and CIs every book page shares (cam2seg_utils.report.tables), and that each page
shows the very cells of the CLI's CSV tables."""
from __future__ import annotations

import pandas as pd
import pytest

from cam2seg_utils.report import baselines, fig5, strategies, table1, table2, tables
from cam2seg_utils.viz import format_ci


def test_ci_table_hand_computed():
    df = pd.DataFrame({"setting": ["a"] * 3 + ["b"] * 2, "iou": [0.5, 0.5, 0.5, 0.0, 1.0], "dice": [0.6] * 3 + [0.0, 1.0]})
    t = tables.ci_table(df, ["setting"]).set_index("setting")
    assert t.loc["a", "n"] == 3 and t.loc["a", "iou"] == 0.5
    assert t.loc["a", "iou_ci_low"] == 0.5 == t.loc["a", "iou_ci_high"]      # no spread -> zero-width CI
    assert t.loc["a", "iou [95% CI]"] == "0.500 [0.500, 0.500]"
    assert t.loc["b", "iou"] == 0.5 and t.loc["b", "iou_ci_low"] == 0.0 and t.loc["b", "iou_ci_high"] == 1.0


def test_paired_vs_reference_hand_computed():
    rows = pd.DataFrame({"setting": ["s"] * 6, "model": ["m"] * 6, "image_id": ["1", "2", "3"] * 2,
                         "cam": ["randomcam"] * 3 + ["gradcam"] * 3, "iou": [0.1, 0.2, 0.3, 0.4, 0.4, 0.7]})
    t = tables.paired_vs_reference(rows).iloc[0]
    assert (t["A"], t["B"], t["n pairs"]) == ("gradcam", "randomcam", 3)
    assert t["mean A-B"] == pytest.approx((0.3 + 0.2 + 0.4) / 3)
    assert "note" in tables.paired_vs_reference(rows[rows["cam"] == "gradcam"]).columns


@pytest.fixture(scope="module")
def published(local_isic_page, local_isic_snapshot):
    return (*local_isic_page, local_isic_snapshot / "tables")


def _csv_text(csv: pd.DataFrame, metric: str) -> list[str]:
    return [format_ci(r[metric], r[f"{metric}_ci_low"], r[f"{metric}_ci_high"]) for _, r in csv.iterrows()]


@pytest.mark.parametrize("page,csv_name", [
    (lambda g, c: table1.table(g, c), "table1_cam_mask"),
    (lambda g, c: fig5.pair_table(g, c), "individual"),
    (lambda g, c: table2.table(g, c), "best_method"),
    (lambda g, c: baselines.table(g), "gt_baselines"),
    (lambda g, c: strategies.summary_table(g, c), "strategies"),
], ids=["table1", "fig5", "table2", "baselines", "strategies"])
def test_each_page_shows_the_cli_tables_cells(published, page, csv_name):
    cfg, grid, folder = published
    shown = page(grid, cfg)
    csv = pd.read_csv(folder / f"{csv_name}.csv")
    assert len(shown) == len(csv) > 0
    for metric in ("iou", "dice"):
        assert list(shown[f"{metric} [95% CI]"]) == _csv_text(csv, metric), (csv_name, metric)


def test_baselines_beside_are_the_baselines_cells(published):
    cfg, grid, folder = published
    beside = baselines.beside(grid).set_index("baseline (same images)")
    csv = pd.read_csv(folder / "gt_baselines.csv").set_index("setting")
    assert list(beside.index) == ["gt-box", "gt-point", "whole-image-box"]
    assert list(beside["iou [95% CI]"]) == _csv_text(csv.loc[beside.index], "iou")

"""Our numbers beside the paper's (cam2seg_utils.report.comparison): every row of ours names its
data and carries the baselines of the same images; nothing is called better on other data."""
from __future__ import annotations

import pandas as pd
import pytest

from cam2seg_utils.report import baselines, comparison, table1, table2


@pytest.fixture(scope="module")
def published(local_isic_page):
    return local_isic_page


def test_paper_comparison_rows_name_their_data_and_carry_the_baselines(published):
    cfg, grid = published
    t2 = comparison.table2_comparison(grid, cfg)
    ours = t2[t2["our IoU [95% CI]"].notna()]
    assert len(ours) >= 3                       # the two ablation rows and at least one CAM row
    assert set(ours["comparison"]) == {"different data"} and not comparison.same_data_as_paper(cfg, grid)
    assert not any("better" in str(v) for v in t2.to_numpy().ravel())
    ids = set(grid["image_id"])
    gt = grid[(grid["setting"] == "gt-box") & grid["image_id"].isin(ids)]["iou"].mean()
    whole = grid[(grid["setting"] == "whole-image-box") & grid["image_id"].isin(ids)]["iou"].mean()
    assert ours["GT box IoU, same images"].to_numpy() == pytest.approx(gt)
    assert ours["whole-image box IoU, same images"].to_numpy() == pytest.approx(whole)
    n = grid["image_id"].nunique()
    assert set(ours["our data"]) == {f"ISIC 2017, Training (held-out test), {n} images"}
    base = baselines.beside(grid).set_index("baseline (same images)")
    assert list(base.index) == ["gt-box", "gt-point", "whole-image-box"]
    assert set(base["split"]) == {"Training (held-out test)"} and (base["n"] == n).all()
    t1 = comparison.table1_comparison(grid, cfg)
    assert set(t1.dropna(subset=["our IoU [95% CI]"])["comparison"]) == {"different data"}


def test_our_cis_are_those_of_the_table_pages(published):
    """A row of ours is the same cell as on the Table 1 / Table 2 pages: the same CI text."""
    cfg, grid = published
    t2 = table2.table(grid, cfg)
    oracle = t2[t2["selection"].str.startswith("oracle")].set_index(["setting", "model"])["iou [95% CI]"]
    rows = comparison.table2_comparison(grid, cfg)
    cam_rows = rows[rows["setting"] != "ablation"].dropna(subset=["our IoU [95% CI]"])
    assert len(cam_rows) == 2
    for _, r in cam_rows.iterrows():
        assert r["our IoU [95% CI]"] == oracle[(r["setting"], r["our model"])]
    gt = rows[(rows["setting"] == "ablation")]["our IoU [95% CI]"].dropna()
    assert set(gt) == {baselines.beside(grid).set_index("baseline (same images)").loc["gt-box", "iou [95% CI]"]}
    t1 = table1.table(grid, cfg)
    c1 = comparison.table1_comparison(grid, cfg).dropna(subset=["our IoU [95% CI]"])
    model, setting = c1["ours"].iloc[0].rstrip(")").split(" (")
    page = t1[(t1["setting"] == setting) & (t1["model"] == model)].set_index("cam")["iou [95% CI]"]
    assert list(c1["our IoU [95% CI]"]) == list(page.loc[c1["CAM"]])


def test_difference_reasons_say_what_differs():
    from cam2seg_utils.profiles import get_profile

    cfg = get_profile("smoke")
    grid = pd.DataFrame({"image_id": ["a", "b"], "split": ["Test", "Test"]})
    reasons = comparison.difference_reasons(cfg, grid)
    assert "the images are synthetic, not ISIC 2017" in reasons
    assert "2 test images instead of the paper's 600" in reasons
    assert any(r.startswith("models not run here: ") for r in reasons)
    assert any(r.startswith("the segmenter is litemedsam") for r in reasons)
    assert comparison.our_data(cfg, grid) == "synthetic, Test, 2 images"

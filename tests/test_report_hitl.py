"""The chapter "The human in the loop, measured" (cam2seg_utils.report.hitl): the notebook's
path end to end on a tiny synthetic run (real LiteMedSAM and EfficientNet-Lite0 weights), and
the page's numbers on a hand-made table."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cam2seg_utils.report import hitl as rh  # noqa: E402
from cam2seg_utils.report.notebook import notebook_config  # noqa: E402


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hitl-page")
    cfg = notebook_config({"profile": "smoke", "data_root": str(tmp / "data"), "output_dir": str(tmp / "out"),
                           "n_images": 2})
    return rh.hitl_page(cfg, max_clicks=3)


def test_the_notebook_path_runs_and_draws(page):
    import matplotlib.pyplot as plt

    assert page.n_images == 2 and page.max_clicks == 3
    noc = page.noc_table()
    assert {"default-strategy", "algorithm1", "whole-image", "gt-box"} == set(noc["start"])
    assert list(noc["start"].drop_duplicates()) == ["default-strategy", "algorithm1", "whole-image", "gt-box"]
    assert page.best_mode() in set(noc["mode"])
    fig = page.curves_figure("all")
    assert len(fig.axes) == 4
    plt.close(fig)
    assert "target | measured" in page.bars() and "clicks saved" in page.verdict()
    assert "synthetic" in page.provenance().lower()
    # the worked example replays the recorded clicks and checks them against the recorded IoU
    fig = page.example_figure(start="gt-box", image_id=sorted(page.table["image_id"].unique())[0],
                              shown=(0, 1, 2, 3))
    assert len(fig.axes) == 4
    plt.close(fig)


def test_a_second_page_reads_the_finished_run_back(page):
    again = rh.hitl_page(page.config, max_clicks=3)
    pd.testing.assert_frame_equal(again.tables["noc"], page.tables["noc"])
    assert again.summary["max_clicks"] == 3
    assert again.summary["this_invocation"]["units_computed"] == 0
    assert again.summary["this_invocation"]["encoder_calls"] == 0


def test_best_mode_and_verdict_on_a_hand_made_table():
    from cam2seg_utils.experiments.hitl import coerce_table
    from cam2seg_utils.experiments.hitl_tables import summary_tables

    rows = []
    curves = {("default-strategy", "a"): [0.5, 0.9], ("default-strategy", "b"): [0.5, 0.6],
              ("whole-image", "a"): [0.1, 0.2], ("whole-image", "b"): [0.1, 0.1]}
    for (start, mode), ious in curves.items():
        for k, v in enumerate(ious):
            rows.append({"image_id": "A", "split": "x", "start": start, "start_detail": "", "mode": mode, "click": k,
                         "iou": v, "dice": v, "click_x": 1.0 if k else np.nan, "click_y": 1.0 if k else np.nan,
                         "click_positive": True if k else None, "action": "local", "t_step_s": 0.0,
                         "gt_area_fraction": 0.5, "gt_border_fraction": 0.0, "error": None})
    table = coerce_table(pd.DataFrame(rows))
    p = rh.HitlPage(None, None, table, summary_tables(table, max_clicks=1, n_boot=20), {})
    assert p.best_mode() == "a"
    text = p.verdict()
    assert "1.00 clicks to 85 %" in text and "against 1.00 from the whole-image box" in text   # both: 1 = never (max 1)


def test_the_falls_bar_is_on_the_default_strategys_mask_and_the_other_starts_are_shown_beside_it():
    from cam2seg_utils.experiments.hitl import coerce_table
    from cam2seg_utils.experiments.hitl_tables import summary_tables

    def page_of(curves):
        rows = [{"image_id": "A", "split": "x", "start": start, "start_detail": "", "mode": mode, "click": k,
                 "iou": v, "dice": v, "click_x": 1.0 if k else np.nan, "click_y": 1.0 if k else np.nan,
                 "click_positive": True if k else None, "action": "local", "t_step_s": 0.0,
                 "gt_area_fraction": 0.5, "gt_border_fraction": 0.0, "error": None}
                for (start, mode), ious in curves.items() for k, v in enumerate(ious)]
        table = coerce_table(pd.DataFrame(rows))
        return rh.HitlPage(None, None, table, summary_tables(table, max_clicks=2, n_boot=20), {})

    # the default strategy's mask rises in both modes; the whole-image box falls once at click 1 in "a"
    bars = page_of({("default-strategy", "a"): [0.5, 0.7, 0.9], ("default-strategy", "b"): [0.5, 0.5, 0.6],
                    ("whole-image", "a"): [0.3, 0.0, 0.6], ("whole-image", "b"): [0.1, 0.2, 0.3]}).bars("a")
    fall_row = next(line for line in bars.splitlines() if "never falls" in line)
    assert "0 in every mode (a, b)" in fall_row and fall_row.endswith("| met |")
    other_row = next(line for line in bars.splitlines() if "other starts" in line)
    assert "whole-image x a: 1" in other_row and "not met" not in other_row
    # a fall of the default strategy's mean IoU in any mode, even one that is not the best, fails the bar
    bars = page_of({("default-strategy", "a"): [0.5, 0.7, 0.9], ("default-strategy", "b"): [0.5, 0.4, 0.6]}).bars("a")
    fall_row = next(line for line in bars.splitlines() if "never falls" in line)
    assert "b: 1" in fall_row and "**not met**" in fall_row and "other starts" not in bars


def test_a_published_snapshot_without_hitl_results_says_so(repo_root, monkeypatch):
    import IPython.display

    folder = repo_root / "results" / "published" / "local-isic"
    if not (folder / "run_summary.json").is_file():
        pytest.skip("no committed local-isic snapshot")
    page = rh.hitl_page(notebook_config({"profile": "local-isic", "published": str(folder)}))
    assert not page.available and "holds no results of the `hitl` experiment" in page.missing
    assert "cam2seg_utils hitl --profile local-isic" in page.missing
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    page.show_curves()
    page.show_verdict()
    assert len(shown) == 2 and all("holds no results of the `hitl` experiment" in obj.data for obj in shown)


def test_a_published_snapshot_with_hitl_results_is_rendered(repo_root, tmp_path):
    """A snapshot whose ``hitl/`` holds results (a hand-made table on two of its images) gives a
    page with those numbers, recomputed from the committed table, and the snapshot's config."""
    import shutil

    from cam2seg_utils.experiments.hitl import coerce_table

    folder = repo_root / "results" / "published" / "local-isic"
    if not (folder / "run_summary.json").is_file():
        pytest.skip("no committed local-isic snapshot")
    snap = tmp_path / "local-isic"
    shutil.copytree(folder, snap)
    ids = sorted(pd.read_csv(snap / "images.csv", dtype={"image_id": str})["image_id"])[:2]
    rows = [{"image_id": i, "split": "Training (held-out test)", "start": start, "start_detail": "", "mode": "box-edit",
             "click": k, "iou": iou, "dice": iou, "click_x": 5.0 if k else np.nan, "click_y": 5.0 if k else np.nan,
             "click_positive": True if k else None, "action": "local", "t_step_s": 0.0, "gt_area_fraction": 0.3,
             "gt_border_fraction": 0.0, "error": None}
            for i, base in zip(ids, (0.5, 0.8)) for start, lift in (("default-strategy", 0.2), ("whole-image", 0.0))
            for k, iou in enumerate((base, base + lift))]
    (snap / "hitl").mkdir()
    coerce_table(pd.DataFrame(rows)).to_parquet(snap / "hitl" / "hitl.parquet", index=False)
    page = rh.hitl_page(notebook_config({"profile": "local-isic", "published": str(snap)}))
    assert page.available and page.n_images == 2 and page.max_clicks == 1
    row = page.noc_table().set_index(["slice", "start", "mode"]).loc[("all", "default-strategy", "box-edit")]
    assert row["miou@0"] == pytest.approx(0.65) and row["miou@1"] == pytest.approx(0.85)
    assert row["noc@85"] == pytest.approx(1.0) and row["never@85"] == pytest.approx(0.5)   # 0.5 -> 0.7 never
    # (counts max_clicks = 1); 0.8 -> 1.0 at click 1
    assert page.config.name == "local-isic" and str(snap) in page.config.output_dir

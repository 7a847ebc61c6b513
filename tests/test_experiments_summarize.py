"""The summary tables (cam2seg_utils.experiments.summarize): the committed snapshot's tables are
what the code computes from its committed grid, and a cell has one CI in every table."""
from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments import summary
from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.experiments.summarize import summary_tables, write_tables
from cam2seg_utils.publish import load_snapshot
CI_COLUMNS = ["iou_ci_low", "iou_ci_high", "dice_ci_low", "dice_ci_high"]


@pytest.fixture(scope="module")
def snapshot(local_isic_snapshot):
    return load_snapshot(local_isic_snapshot)


@pytest.fixture(scope="module")
def tables(snapshot):
    return summary_tables(snapshot.grid, ExperimentConfig.from_dict(snapshot.summary["config"]))


def test_published_tables_regenerate_byte_for_byte_from_the_committed_grid(snapshot, tables, tmp_path):
    write_tables(tables, tmp_path)
    committed = sorted(p.name for p in (snapshot.folder / "tables").glob("*.csv"))
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == committed and len(committed) == 9
    for name in committed:
        assert (tmp_path / name).read_bytes() == (snapshot.folder / "tables" / name).read_bytes(), name
    # and the snapshot records those very files
    files = snapshot.published["files"]
    assert {k for k in files if k.startswith("tables/")} == {f"tables/{n}" for n in committed}


def test_every_table_with_a_mean_has_its_ci(tables):
    for name in ("table1_cam_mask", "individual", "best_method", "gt_baselines", "strategies"):
        t = tables[name]
        assert set(CI_COLUMNS) <= set(t.columns), name
        assert ((t["iou_ci_low"] <= t["iou"] + 1e-12) & (t["iou"] <= t["iou_ci_high"] + 1e-12)).all(), name


def test_a_cell_has_the_same_ci_in_every_table(tables):
    st, ind, gt = tables["strategies"], tables["individual"], tables["gt_baselines"]
    every = st[st["slice"] == "all"]
    # Algorithm 1 in the strategies table is the individual pair of the same cell
    alg = every[every["strategy"] == "algorithm1"].merge(ind, on=["setting", "model", "cam"], suffixes=("", "_ind"))
    assert len(alg) == len(ind) == 10
    for c in ("n", *CI_COLUMNS):
        assert (alg[c] == alg[f"{c}_ind"]).all(), c
    assert np.allclose(alg["iou"], alg["iou_ind"], rtol=0, atol=1e-12)   # the same mean, summed in another order
    # the ground-truth box and the whole-image box beside the strategies are the baselines' rows,
    # the same interval in each setting
    for strategy, setting in (("oracle-gt-box", "gt-box"), ("whole-image", "whole-image-box")):
        copies = every[every["strategy"] == strategy]
        base = gt[gt["setting"] == setting].iloc[0]
        assert len(copies) == 2 and np.allclose(copies["iou"], base["iou"], rtol=0, atol=1e-12)
        for c in CI_COLUMNS:
            assert (copies[c] == base[c]).all(), (strategy, c)
    # a floor without classifier: one interval, whatever setting it is shown in
    floor = every[every["strategy"] == "image-prior"]
    assert len(floor) == 2 and floor[CI_COLUMNS].nunique().max() == 1


def test_summary_ci_is_the_cell_ci():
    from cam2seg_utils.experiments.stats import cell_ci

    df = pd.DataFrame({"setting": ["a"] * 4 + ["b"] * 3, "segmenter": ["s"] * 7,
                       "iou": [0.1, 0.5, 0.2, 0.9, 0.3, 0.3, 0.6], "dice": [0.2, 0.6, 0.3, 0.95, 0.4, 0.4, 0.7]})
    t = summary.ci_table(df, ["setting", "segmenter"]).set_index("setting")
    r = cell_ci(df["iou"][:4].to_numpy(), ("a", "s"), "iou")
    assert (t.loc["a", "iou"], t.loc["a", "iou_ci_low"], t.loc["a", "iou_ci_high"]) == (r.mean, r.low, r.high)
    # adding a cell to the table does not move another cell's interval
    more = pd.concat([df, df.assign(setting="c")])
    assert summary.ci_table(more, ["setting", "segmenter"]).set_index("setting").loc["a"].equals(t.loc["a"])
    assert np.isclose(t.loc["b", "iou"], 0.4)


def test_regenerated_snapshot_records_its_tables(snapshot):
    """``publish --tables-only`` left the grid, images and history as published."""
    regen = snapshot.published.get("tables_regenerated")
    assert regen is not None and regen["from"].startswith("grid.parquet")
    readme = (snapshot.folder / "README.md").read_text(encoding="utf-8")
    assert "tables recomputed" in readme and regen["by_commit"] in readme
    assert json.loads((snapshot.folder / "run_summary.json").read_text())["n_rows"] == len(snapshot.grid)

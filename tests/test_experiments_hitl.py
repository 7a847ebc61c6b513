"""The hitl experiment runner (cam2seg_utils.experiments.hitl): one embedding per image,
per-unit resume (a killed run, a changed start recomputes only that start), determinism, the
CLI. Synthetic images (offline), the real LiteMedSAM and EfficientNet-Lite0 weights."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.experiments import hitl
from cam2seg_utils.experiments.hitl import STARTS, StartMaker, run_hitl
from cam2seg_utils.refinement import REFINEMENT_MODES


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from cam2seg_utils.data import generate_synthetic
    from cam2seg_utils.data.isic import ISICDataset

    root = tmp_path_factory.mktemp("hitl-data")
    generate_synthetic(root, n_images=2, seed=3, split="Test", size_range=(96, 128), progress=False)
    return ISICDataset(root, split="Test")


def _config(tmp_path, data_root):
    from cam2seg_utils.profiles import get_profile

    return get_profile("smoke", data_root=str(data_root), output_dir=str(tmp_path / "out"), progress=False)


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["t_step_s"]).reset_index(drop=True)


def test_run_resume_and_per_start_recompute(tmp_path, synthetic, litemedsam, monkeypatch):
    cfg = _config(tmp_path, synthetic.root)
    kw = dict(starts=["gt-box", "whole-image"], max_clicks=3, segmenter=litemedsam, dataset=synthetic, progress=False)
    calls = litemedsam.encoder_calls
    res = run_hitl(cfg, **kw)
    n_modes = len(REFINEMENT_MODES)
    assert res.counters.encoder_calls == 2 == litemedsam.encoder_calls - calls       # one embedding per image
    assert res.counters.units_computed == 2 * 2 * n_modes and res.summary["n_errors"] == 0
    t = res.table
    assert len(t) == 2 * 2 * n_modes * 4 and list(t.columns) == hitl.COLUMNS
    assert set(t["click"]) == {0, 1, 2, 3} and t["iou"].between(0, 1).all()
    # the ground-truth box start is far better than the whole image on these disks
    k0 = t[t["click"] == 0].groupby("start")["iou"].mean()
    assert k0["gt-box"] > k0["whole-image"]
    root = tmp_path / "out" / "hitl"
    assert (root / "hitl.parquet").is_file() and (root / "tables" / "noc.csv").is_file()
    assert (root / "tables" / "curves.csv").is_file() and (root / "hitl_summary.json").is_file()

    # a rerun computes nothing and encodes nothing
    again = run_hitl(cfg, **kw)
    assert again.counters.units_computed == 0 and again.counters.encoder_calls == 0
    pd.testing.assert_frame_equal(_numbers(again.table), _numbers(t))

    # a killed run: one unit's shard is missing -> only that unit is recomputed
    shard = hitl._unit_store(root, "whole-image", "box-edit").shard_path(synthetic.ids[0])
    shard.unlink()
    part = run_hitl(cfg, **kw)
    assert part.counters.units_computed == 1 and part.counters.encoder_calls == 1
    pd.testing.assert_frame_equal(_numbers(part.table), _numbers(t))

    # a start whose identity changes (as the default strategy will) is recomputed alone
    original = StartMaker.identity

    def changed(self, start):
        ident = original(self, start)
        return {**ident, "changed": True} if start == "whole-image" else ident

    monkeypatch.setattr(StartMaker, "identity", changed)
    redo = run_hitl(cfg, **kw)
    assert redo.counters.units_computed == 2 * n_modes and redo.counters.units_resumed == 2 * n_modes
    pd.testing.assert_frame_equal(_numbers(redo.table), _numbers(t))      # deterministic


def test_default_strategy_start_follows_the_default_strategy(tmp_path, synthetic, litemedsam, monkeypatch):
    import cam2seg_utils.prompting as prompting

    cfg = _config(tmp_path, synthetic.root)
    kw = dict(starts=["default-strategy", "algorithm1"], modes=["box-edit"], max_clicks=2, segmenter=litemedsam,
              dataset=synthetic, image_ids=synthetic.ids[:1], progress=False)
    res = run_hitl(cfg, **kw)
    t = res.table
    assert res.summary["n_errors"] == 0 and len(t) == 2 * 3
    detail = t.loc[t["start"] == "default-strategy", "start_detail"].iloc[0]
    assert detail.startswith(prompting.DEFAULT_STRATEGY)
    assert t.loc[t["start"] == "algorithm1", "start_detail"].iloc[0] == "gradcam p50"
    # the default strategy changes: only its start is recomputed
    other = next(n for n in ("prior-cam", "image-prior") if n != prompting.DEFAULT_STRATEGY)
    monkeypatch.setattr(prompting, "DEFAULT_STRATEGY", other)
    res2 = run_hitl(cfg, **kw)
    assert res2.counters.units_computed == 1 and res2.counters.units_resumed == 1
    t2 = res2.table
    assert t2.loc[t2["start"] == "default-strategy", "start_detail"].iloc[0].startswith(other)
    pd.testing.assert_frame_equal(_numbers(t2[t2["start"] == "algorithm1"]), _numbers(t[t["start"] == "algorithm1"]))


def test_default_strategy_start_uses_the_configs_ranking_weights(tmp_path, synthetic, litemedsam, monkeypatch):
    """The start is the default strategy built as the grid builds it: with the config's
    ``ranking_weights``, recorded in the unit identity; another weight set recomputes the
    ``default-strategy`` unit alone, on the image's one embedding."""
    from cam2seg_utils.prompting import DEFAULT_STRATEGY
    from cam2seg_utils.prompting.weights import A_PRIORI, WEIGHT_SETS, RankingWeights

    cfg = _config(tmp_path, synthetic.root)
    maker = StartMaker(cfg, litemedsam, "Test")
    assert maker.strategy().name == DEFAULT_STRATEGY and cfg.ranking_weights == A_PRIORI.name
    assert maker.strategy().params()["weights"] == A_PRIORI.name
    assert maker.identity("default-strategy")["ranking_weights"] == A_PRIORI.summary()
    monkeypatch.setitem(WEIGHT_SETS._items, "test-pred-iou-only", RankingWeights("test-pred-iou-only", {"pred_iou": 1.0}))
    other = cfg.replace(ranking_weights="test-pred-iou-only")
    assert StartMaker(other, litemedsam, "Test").strategy().params()["weights"] == "test-pred-iou-only"
    kw = dict(starts=["default-strategy", "gt-box"], modes=["box-edit"], max_clicks=1, segmenter=litemedsam,
              dataset=synthetic, image_ids=synthetic.ids[:1], progress=False)
    first = run_hitl(cfg, **kw)
    assert first.counters.encoder_calls == 1 and first.counters.units_computed == 2    # both starts, one embedding
    second = run_hitl(other, **kw)
    assert second.counters.units_computed == 1 and second.counters.units_resumed == 1
    assert second.counters.encoder_calls == 1
    ident = second.summary["start_identities"]["default-strategy"]
    assert ident["ranking_weights"]["name"] == "test-pred-iou-only" and ident["strategy"] == DEFAULT_STRATEGY


def test_unknown_names_are_refused_before_any_work(tmp_path, capsys):
    from cam2seg_utils.cli import main

    assert main(["hitl", "--profile", "smoke", "--output-dir", str(tmp_path), "--starts", "gt-box", "oracle"]) == 2
    err = capsys.readouterr().err
    assert "unknown start(s) ['oracle']" in err and "default-strategy" in err
    assert main(["hitl", "--profile", "smoke", "--output-dir", str(tmp_path), "--modes", "brush"]) == 2
    assert "unknown refinement mode(s) ['brush']" in capsys.readouterr().err
    assert not (tmp_path / "hitl").exists()
    assert tuple(STARTS) == ("default-strategy", "algorithm1", "whole-image", "gt-box")


def test_cli_hitl_runs_and_prints_the_noc_table(tmp_path, capsys):
    """``cam2seg hitl`` end to end on the smoke profile's first synthetic image (one start, one
    mode, one click): the results folder is written and the NoC table printed."""
    from cam2seg_utils.cli import main

    data = tmp_path / "data"
    assert main(["generate-data", "--profile", "smoke", "--data-root", str(data), "--quiet"]) == 0
    out = tmp_path / "hitl"
    assert main(["hitl", "--profile", "smoke", "--data-root", str(data), "--output-dir", str(tmp_path / "run"),
                 "--max-images", "1", "--starts", "gt-box", "--modes", "box-edit", "--max-clicks", "1",
                 "--hitl-dir", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "noc@85" in printed and "gt-box" in printed and str(out / "hitl.parquet") in printed
    table = hitl.load_table(out)
    assert list(table["click"]) == [0, 1] and set(table["start"]) == {"gt-box"} and table["error"].isna().all()


def test_hitl_max_images_runs_the_first_evaluated_images_and_leaves_the_grid_alone(tmp_path):
    """``hitl_max_images`` (the embedded profile's smaller click run): the first N evaluated
    images, not the others; the grid's identity does not depend on it; 0 is refused."""
    from cam2seg_utils.cli import main
    from cam2seg_utils.experiments.datasets import evaluation_ids
    from cam2seg_utils.profiles import get_profile

    data = tmp_path / "data"
    assert main(["generate-data", "--profile", "smoke", "--data-root", str(data), "--quiet"]) == 0
    cfg = get_profile("smoke", data_root=str(data), output_dir=str(tmp_path / "run"), progress=False,
                      hitl_max_images=2)
    _, ids, _ = evaluation_ids(cfg)
    assert len(ids) == 4
    res = run_hitl(cfg, starts=["gt-box"], modes=["box-edit"], max_clicks=1)
    assert sorted(res.table["image_id"].unique()) == sorted(ids[:2]) and res.summary["n_images"] == 2
    assert cfg.fingerprint() == cfg.replace(hitl_max_images=None).fingerprint()
    with pytest.raises(ValueError, match="hitl_max_images"):
        cfg.replace(hitl_max_images=0)

"""The grid's per-image engine (experiments/engine.py) through run_grid, on the real embedded stack
(EfficientNet-Lite0 ImageNet weights + LiteMedSAM) and tiny synthetic images: one encoder pass per
image, error rows, heatmap cache, slow-CAM limit, the baselines' rows, a row per strategy.
Determinism (same seed -> same table, RandomCAM and point sampling included) is
tested in tests/test_cli.py, where a killed-and-resumed CLI run is compared with a fresh run."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.data.isic import ISICDataset
from cam2seg_utils.data.synthetic import generate_synthetic
from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.experiments.engine import LoadedClassifier
from cam2seg_utils.experiments.run import run_grid

LITE0 = "tf_efficientnet_lite0"


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    """3 synthetic test images (96-128 px); the 2nd image file is corrupted."""
    root = tmp_path_factory.mktemp("syn")
    generate_synthetic(root, n_images=3, seed=3, split="Test", size_range=(96, 128))
    ds = ISICDataset(root, "Test")
    bad = ds.ids[1]
    ds.image_path(bad).write_bytes(b"this is not a jpeg")
    return root, ds, bad


def _config(tmp, name, **kw) -> ExperimentConfig:
    # the Algorithm 1 engine alone (the prompting strategies have their own test below)
    base = dict(name=name, settings=["zero-shot"], models=[LITE0], cams=["gradcam", "randomcam"],
                strategies=["algorithm1"], prompt_variants=["box", "box+points", "points"], output_dir=str(tmp / name),
                cache_dir=str(tmp / f"cache-{name}"), progress=False, seed=7)
    base.update(kw)
    return ExperimentConfig(**base)


def _clf(embedded_classifier):
    return [LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")]


@pytest.fixture(scope="module")
def base_run(syn, embedded_classifier, litemedsam, tmp_path_factory):
    root, ds, bad = syn
    tmp = tmp_path_factory.mktemp("grid")
    before = litemedsam.encoder_calls
    cfg = _config(tmp, "a")
    res = run_grid(cfg, segmenter=litemedsam, classifiers=_clf(embedded_classifier), dataset=ds)
    return tmp, cfg, res, litemedsam.encoder_calls - before


def test_one_encoder_pass_per_image_and_call_counts(base_run, syn):
    tmp, cfg, res, seg_delta = base_run
    s = res.summary
    n_ok = 2                                      # 3 images, one corrupt
    assert s["encoder_calls"] == n_ok == seg_delta
    assert s["classifier_calls"] == n_ok          # one prediction per image x model x setting
    assert s["cam_calls"] == 2 * n_ok and s["cam_cache_hits"] == 0
    # the image pass's plan: box / box+points (3) / points (3); the baselines: box (gt-box,
    # whole-image-box) / point (gt-point)
    assert s["decoder_calls"] == 5 * n_ok
    assert s["decoder_prompts"] == 6 * n_ok and s["duplicate_prompts"] == 0   # 2 CAMs x 3 variants
    # rows: per image 2 CAMs x (cam-mask + 3 variants) + gt-box + gt-point + whole-image-box; + 1 error row
    assert s["n_rows"] == n_ok * 11 + 1 == len(res.table)
    on_disk = json.loads((tmp / "a" / "run_summary.json").read_text())
    assert on_disk["encoder_calls"] == n_ok and on_disk["git_commit"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp / "a" / "grid.parquet"), res.table)


def test_corrupt_image_gives_one_error_row(base_run, syn):
    _, _, res, _ = base_run
    _, ds, bad = syn
    t = res.table
    err = t[t["error"].notna()]
    assert list(err["image_id"]) == [bad]
    assert str(ds.image_path(bad)) in err["error"].iloc[0]
    ok = t[t["error"].isna()]
    assert ok["iou"].notna().all() and set(ok["image_id"]) == set(ds.ids) - {bad}
    assert res.summary["n_errors"] == 1


def test_rows_are_consistent(base_run):
    _, _, res, _ = base_run
    t = res.table[res.table["error"].isna()]
    cam = t[t["setting"] == "zero-shot"]
    # Algorithm 1's box and points are shared by the three variants of one (image, CAM)
    for (_, _), g in cam.groupby(["image_id", "cam"]):
        v = g.set_index("prompt_variant")
        assert v.loc["box", "box_x0"] == v.loc["box+points", "box_x0"] == v.loc["cam-mask", "box_x0"]
        assert v.loc["points", "points"] == v.loc["box+points", "points"]
        assert np.isnan(v.loc["points", "box_x0"]) and v.loc["box", "points"] == "[]"
        assert len(json.loads(v.loc["points", "points"])) == 3
        assert np.isnan(v.loc["cam-mask", "seg_predicted_iou"]) and v.loc["cam-mask", "segmenter"] == ""
    assert (cam["predicted_class"].between(0, 999)).all()
    # LiteMedSAM with the tight ground-truth box segments the synthetic lesions well
    assert t[t["setting"] == "gt-box"]["iou"].mean() > 0.7


def test_whole_image_box_baseline(base_run, syn):
    _, _, res, _ = base_run
    _, ds, bad = syn
    t = res.table[res.table["error"].isna()]
    whole = t[t["setting"] == "whole-image-box"].set_index("image_id")
    assert sorted(whole.index) == sorted(i for i in ds.ids if i != bad)
    for image_id, row in whole.iterrows():
        h, w = ds.load(image_id).mask.shape
        assert [row["box_x0"], row["box_y0"], row["box_x1"], row["box_y1"]] == [0.0, 0.0, w - 1.0, h - 1.0]
        assert row["prompt_variant"] == "box" and row["points"] == "[]" and 0.0 <= row["iou"] <= 1.0
    gt = t[t["setting"] == "gt-box"].set_index("image_id")["iou"]
    assert gt.mean() > whole["iou"].mean()       # the tight box beats knowing nothing about the lesion


def test_second_run_with_other_percentile_hits_the_heatmap_cache(base_run, embedded_classifier, litemedsam, syn):
    tmp, cfg, _, _ = base_run
    cfg2 = dataclasses.replace(cfg, output_dir=str(tmp / "b"), percentile=[75.0])
    res = run_grid(cfg2, segmenter=litemedsam, classifiers=_clf(embedded_classifier), dataset=syn[1])
    assert res.summary["cam_calls"] == 0 and res.summary["cam_cache_hits"] == 4
    ok = res.table[res.table["error"].isna() & (res.table["setting"] == "zero-shot")]
    assert (ok["percentile"] == 75.0).all()


def test_resume_refuses_another_config(base_run, embedded_classifier, litemedsam, syn):
    tmp, cfg, _, _ = base_run
    with pytest.raises(ValueError, match="different grid configuration"):
        run_grid(dataclasses.replace(cfg, seed=8), segmenter=litemedsam,
                 classifiers=_clf(embedded_classifier), dataset=syn[1])


def test_slow_cams_only_on_first_images(syn, embedded_classifier, litemedsam, tmp_path):
    _, ds, bad = syn
    small = dataclasses.replace(embedded_classifier, input_size=(32, 32))  # same weights, cheap ScoreCAM
    lc = [LoadedClassifier("zero-shot", LITE0, small, "embedded", "embedded")]
    ids = [i for i in ds.ids if i != bad][:2]
    cfg = _config(tmp_path, "slow", cams=["gradcam", "scorecam"], slow_cams_max_images=1,
                  prompt_variants=["box"], gt_baselines=[], cam_batch_size=128)
    res = run_grid(cfg, segmenter=litemedsam, classifiers=lc, dataset=ds, image_ids=ids)
    t = res.table
    assert set(t[t["cam"] == "scorecam"]["image_id"]) == {ids[0]}
    assert set(t[t["cam"] == "gradcam"]["image_id"]) == set(ids)
    assert t["error"].isna().all() and res.summary["cam_calls"] == 3
    assert "first 1 of 2 images" in res.summary["slow_cams_note"]


def test_strategy_axis_one_embedding_and_a_row_per_strategy(syn, embedded_classifier, litemedsam, tmp_path):
    from cam2seg_utils.experiments.config import DEFAULT_STRATEGIES
    from cam2seg_utils.experiments.summary import SLICES, strategy_table
    from cam2seg_utils.prompting import STRATEGIES

    _, ds, bad = syn
    cfg = _config(tmp_path, "s", cams=["gradcam", "gradcam++"], strategies=list(DEFAULT_STRATEGIES),
                  prompt_variants=["box"])
    before = litemedsam.encoder_calls
    res = run_grid(cfg, segmenter=litemedsam, classifiers=_clf(embedded_classifier), dataset=ds)
    assert litemedsam.encoder_calls - before == 2 == res.summary["encoder_calls"]   # 2 readable images
    t = res.table[res.table["error"].isna()]
    ranked = [n for n in DEFAULT_STRATEGIES if getattr(STRATEGIES.get(n), "takes_ranking_weights", False)]
    assert ranked == ["candidates", "prior-cam", "image-prior"]
    assert set(t["strategy"]) == (set(DEFAULT_STRATEGIES) | {"oracle-gt-box", "oracle-gt-point", "whole-image"}
                                  | {f"oracle-{n}" for n in ranked})
    assert res.summary["ranking_weights"]["name"] == "a-priori" and res.summary["ranking_weights"]["k_masks"] == 0
    # the selection oracles: the best of each ranked strategy's own candidates by ground truth,
    # from the decode cache (no decoder call of their own), never below the strategy's choice
    for name in ranked:
        for (image_id, setting), g in t[t["strategy"].isin([name, f"oracle-{name}"])].groupby(["image_id", "setting"]):
            chosen, best = (g.set_index("strategy").loc[n] for n in (name, f"oracle-{name}"))
            assert best["iou"] >= chosen["iou"] - 1e-9
            details = json.loads(best["strategy_details"])
            assert details["reads_ground_truth"] and details["decoder_calls"] == 0 and details["of"] == name
            assert json.loads(chosen["strategy_details"])["k_masks"] == 0
    for image_id, g in t.groupby("image_id"):
        for name in DEFAULT_STRATEGIES:
            rows = g[g["strategy"] == name]
            if name == "algorithm1":
                assert set(rows["cam"]) == {"gradcam", "gradcam++"}
                continue
            strategy = STRATEGIES.get(name)()
            if not strategy.uses_classifier:
                assert list(rows["setting"]) == ["no-classifier"] and list(rows["cam"]) == [""]
            elif strategy.per_cam:
                assert sorted(rows["cam"]) == ["gradcam", "gradcam++"]
            else:
                assert list(rows["cam"]) == ["gradcam+gradcam++"]
            assert rows["iou"].between(0, 1).all() and rows["seg_predicted_iou"].notna().all()
            assert all(isinstance(json.loads(d)["params"], dict) for d in rows["strategy_details"])
        # oracles are named as such; the slices' descriptors are on every row
        assert (g[g["setting"] == "gt-box"]["strategy"] == "oracle-gt-box").all()
        assert g["gt_area_fraction"].nunique() == 1 and 0 < g["gt_area_fraction"].iloc[0] < 1
    table = strategy_table(res.table, n_boot=200)
    assert set(table["slice"]) <= set(SLICES) and "all" in set(table["slice"])
    ref = table[(table["slice"] == "all") & (table["strategy"] == "algorithm1") & (table["cam"] == "gradcam")]
    assert ref["n"].iloc[0] == 2 and ref["p_vs_reference"].iloc[0] == 1.0      # itself
    gt = table[(table["slice"] == "all") & (table["strategy"] == "oracle-gt-box")]
    assert bool(gt["uses_ground_truth"].iloc[0]) and gt["n"].iloc[0] == 2

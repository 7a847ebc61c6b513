"""The CLI: config layering, generate-data, and a grid killed with SIGKILL then resumed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from cam2seg_utils.cli import build_config, main, make_parser
from cam2seg_utils.experiments.engine import LoadedClassifier
from cam2seg_utils.experiments.run import run_grid
from cam2seg_utils.experiments.table import TIMING_COLUMNS
from cam2seg_utils.profiles import get_profile, list_profiles
from conftest import smoke_config_file

LITE0 = "tf_efficientnet_lite0"


def test_config_layers_profile_file_flags(tmp_path):
    cfg_file = tmp_path / "exp.yaml"
    cfg_file.write_text("profile: smoke\npercentile: [80, 95]\ncams: [gradcam]\nseed: 3\n")
    args = make_parser().parse_args(["grid", "--config", str(cfg_file), "--seed", "4", "--quiet",
                                     "--set", "slow_cams_max_images=2", "--device", "cpu"])
    cfg = build_config(args)
    assert cfg.name == "smoke" and cfg.percentile == [80.0, 95.0] and cfg.cams == ["gradcam"]
    assert cfg.seed == 4 and cfg.slow_cams_max_images == 2 and cfg.progress is False
    with pytest.raises(ValueError, match="unknown config field"):
        build_config(make_parser().parse_args(["grid", "--set", "percentil=3"]))


def test_profiles():
    assert set(list_profiles()) == {"smoke", "embedded", "paper", "local-isic", "isic-official"}
    paper = get_profile("paper")
    assert (paper.epochs, paper.patience, paper.segmenter, paper.device) == (500, 20, "medsam_vit_b", "cuda")
    from cam2seg_utils.models import PAPER_CLASSIFIERS

    assert paper.models == list(PAPER_CLASSIFIERS) and paper.slow_cams_max_images is None
    assert get_profile("local-isic").test_holdout_fraction == 0.2
    assert get_profile("embedded", seed=9).seed == 9
    with pytest.raises(KeyError, match="smoke"):
        get_profile("nope")


def test_bad_config_values_and_unknown_cams_stop_before_any_work(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["grid", "--profile", "smoke", "--output-dir", str(out), "--quiet",
                 "--set", "percentile=[150]"]) == 2
    assert "percentile 150.0 outside [0, 100]" in capsys.readouterr().err
    # a typo in a CAM name is refused up front (not one error row per image), naming the choices
    assert main(["grid", "--profile", "smoke", "--output-dir", str(out), "--quiet", "--data-root",
                 str(tmp_path / "no-data"), "--cams", "gradcam", "gradcamx"]) == 2
    err = capsys.readouterr().err
    assert "unknown CAM method(s) ['gradcamx']" in err and "gradcam@aug" in err
    assert not out.exists()


def test_generate_data(tmp_path, capsys):
    root = tmp_path / "d"
    assert main(["generate-data", "--profile", "smoke", "--data-root", str(root), "--quiet",
                 "--set", "synthetic_train_images=3", "--set", "synthetic_test_images=2"]) == 0
    assert len(list((root / "ISIC-2017_Training_Data").glob("*.jpg"))) == 3
    assert len(list((root / "ISIC-2017_Test_v2_Data").glob("*.jpg")) +
               list((root / "ISIC-2017_Test_Data").glob("*.jpg"))) == 2
    assert "synthetic data ready" in capsys.readouterr().out


def test_grid_killed_with_sigkill_resumes_to_the_same_table_as_a_fresh_run(tmp_path, embedded_classifier, litemedsam):
    data = tmp_path / "data"
    overrides = dict(data_root=str(data), synthetic_train_images=3, synthetic_test_images=3,
                     settings=["zero-shot"], cams=["gradcam", "randomcam"], prompt_variants=["box+points"],
                     strategies=["algorithm1"], gt_baselines=["gt-box"], cache_dir=str(tmp_path / "cache-cli"),
                     seed=11)
    cfg_file = tmp_path / "exp.json"
    cfg_file.write_text(json.dumps({"profile": "smoke", **overrides}))
    assert main(["generate-data", "--config", str(cfg_file), "--quiet"]) == 0

    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "cam2seg_utils", "grid", "--config", str(cfg_file), "--output-dir",
           str(out), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not list((out / "shards").glob("*.parquet")):
        time.sleep(0.05)
    finished_early = proc.poll() is not None
    if not finished_early:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    n_shards = len(list((out / "shards").glob("*.parquet")))
    assert n_shards >= 1, proc.stderr.read().decode()[-2000:]
    if not finished_early:
        assert proc.returncode == -signal.SIGKILL
        assert not (out / "grid.parquet").exists() or n_shards == 3

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["images_resumed"] == n_shards and summary["n_images"] == 3
    assert summary["encoder_calls"] == 3 - n_shards
    resumed = pd.read_parquet(out / "grid.parquet")

    # the same grid, uninterrupted, from scratch (fresh heatmap cache) in this process: same seed
    # -> identical table (RandomCAM maps and sampled points included), timings aside
    cfg = get_profile("smoke", **overrides, output_dir=str(tmp_path / "straight"),
                      progress=False).replace(cache_dir=str(tmp_path / "cache-straight"))
    ref = run_grid(cfg, segmenter=litemedsam,
                   classifiers=[LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")])
    pd.testing.assert_frame_equal(resumed.drop(columns=TIMING_COLUMNS),
                                  ref.table.drop(columns=TIMING_COLUMNS))
    # per image: 2 CAMs x (cam-mask + box+points) + gt-box
    assert len(ref.table) == 3 * 2 * 2 + 3 and ref.table["error"].isna().all()
    assert not list(out.rglob(".tmp-*"))


@pytest.mark.slow
def test_summarize_refuses_parameters_the_grid_never_ran(tmp_path, embedded_classifier, litemedsam, capsys):
    cfg_file, overrides = smoke_config_file(tmp_path, settings=["zero-shot"], synthetic_test_images=2)
    out = tmp_path / "results"
    cfg = get_profile("smoke", **overrides, output_dir=str(out), progress=False)
    run_grid(cfg, segmenter=litemedsam,
             classifiers=[LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")])
    summarize = ["summarize", "--config", str(cfg_file), "--output-dir", str(out), "--quiet"]
    assert main(summarize) == 0
    tables = {p.name: p.read_bytes() for p in (out / "tables").glob("*.csv")}
    assert len(tables) >= 6
    assert all(len(v.splitlines()) > 1 for k, v in tables.items() if k != "errors.csv")   # no error rows
    capsys.readouterr()

    assert main(summarize + ["--percentile", "70"]) == 2
    err = capsys.readouterr().err
    assert "the grid was not run with percentile 70 (the grid has percentile [50])" in err
    assert main(summarize + ["--set", "main_prompt_variant=points", "--set", "prompt_variants=[points]"]) == 2
    assert "prompt variant 'points' (the grid has ['box'])" in capsys.readouterr().err
    assert main(summarize + ["--set", "settings=[zero-shot, fine-tuned]"]) == 2
    assert "setting 'fine-tuned' (the grid has ['zero-shot'])" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (out / "tables").glob("*.csv")} == tables   # untouched


@pytest.mark.slow
def test_tune_strategies_fits_on_the_training_hold_out_and_reports_on_the_evaluation_split(tmp_path, capsys):
    """The subcommand runs ``strategy_tuning.run`` into ``<output_dir>/strategy_tuning``: candidates
    harvested on the images fine-tuning holds out (fit) and on the evaluation ids (report), the
    k = 0 weight set is the a-priori one, and what it prints is what it wrote."""
    from cam2seg_utils.experiments.datasets import evaluation_ids, resolve_splits
    from cam2seg_utils.prompting.weights import A_PRIORI, RankingWeights

    cfg_file, overrides = smoke_config_file(tmp_path, synthetic_train_images=6, strategy_cams=["gradcam"],
                                            settings=["zero-shot"])
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["tune-strategies", "--config", str(cfg_file), "--output-dir", str(out), "--max-images", "2",
                 "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    tuning = out / "strategy_tuning"
    assert printed == json.loads((tuning / "strategy_tuning.json").read_text())
    cfg = get_profile("smoke", **overrides, max_images=2)
    fit_ids = resolve_splits(cfg).val_ids
    _, eval_ids, eval_split = evaluation_ids(cfg)
    assert (printed["n_fit_images"], printed["n_eval_images"], printed["eval_split"]) == (len(fit_ids), 2, eval_split)

    def harvested(part):
        return sorted(p.stem for p in (tuning / "harvest" / part / "zero-shot").glob("*.parquet"))

    assert harvested("fit") == sorted(fit_ids) and harvested("eval") == sorted(eval_ids)
    k0 = RankingWeights.from_json((tuning / "weights_k0.json").read_text())
    assert k0.k_masks == 0 and dict(k0.weights) == dict(A_PRIORI.weights)
    curve = pd.read_csv(tuning / "label_efficiency.csv")
    assert set(curve["setting"]) == {"zero-shot"} and set(curve["eval_n_images"]) == {2}
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
    assert set(list_profiles()) == {"smoke", "embedded", "paper", "local-isic", "isic-official", "ph2"}
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
    assert "every percentile value must be a number in [0, 100], got 150" in capsys.readouterr().err
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
    # the selection study on the same harvest: each feature alone and every ranking side by side
    assert printed["selection_study"]["files"] == ["features.csv", "selectors.csv"]
    assert "a-priori" in set(pd.read_csv(tuning / "selectors.csv")["ranking"])
    assert (tuning / "features.csv").is_file()
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


# ------------------------------------------------------------------------------ help and errors
def _subparsers(parser):
    import argparse

    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_option_of_every_command_has_help():
    """Every flag of every subcommand (whatever commands exist) says what it does."""
    parser = make_parser()
    commands = _subparsers(parser)
    assert {"generate-data", "download", "finetune", "grid", "summarize", "publish", "tune-strategies"} <= set(commands)
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}"
               for name, sub in [("cam2seg", parser), *commands.items()]
               for a in sub._actions
               if a.option_strings and not (a.help and a.help.strip() and a.help != "==SUPPRESS==")]
    assert missing == []
    for name in ("grid", "finetune", "summarize", "publish", "tune-strategies"):
        sub = commands[name]
        assert sub.epilog and f"cam2seg {name} --profile" in sub.epilog, name
        assert f"cam2seg {name}" in sub.format_help()


def test_help_names_the_valid_choices_and_the_aug_syntax():
    from cam2seg_utils.cams import CAM_METHODS
    from cam2seg_utils.models import list_classifiers
    from cam2seg_utils.prompting import STRATEGIES
    from cam2seg_utils.segmenters import SEGMENTERS

    grid = _subparsers(make_parser())["grid"]
    helps = {a.dest: grid._get_formatter()._expand_help(a) for a in grid._actions}   # %(default)s filled in
    assert all(m in helps["models"] for m in list_classifiers())
    assert all(c.split("@")[0] in helps["cams"] for c in CAM_METHODS.names())
    assert "NAME@aug" in helps["cams"] and "NAME@aug-eigen" in helps["cams"] and "gradcam@aug" in helps["cams"]
    assert all(s in helps["strategies"] for s in STRATEGIES.names())
    assert all(s in helps["segmenter"] for s in SEGMENTERS.names())
    assert all(p in helps["profile"] for p in list_profiles()) and "default: embedded" in helps["profile"]
    assert "ph2" in helps["dataset"] and "default 1" in helps["workers"]
    assert "(default: 50)" in helps["percentile"] and "(default: 3)" in helps["num_points"]


UNKNOWN_NAMES = [
    (["--models", "resnet5"], "cam2seg: error: models: unknown classifier(s) ['resnet5']; registered: resnet50, "
                              "mobilenetv2_100, efficientnet_b0, vit_base_patch16_224, swin_base_patch4_window7_224, "
                              "tf_efficientnet_lite0 (or any timm architecture name, see timm.list_models())"),
    (["--profile", "foo"], "cam2seg: error: unknown profile 'foo'; known: smoke, embedded, paper, local-isic, "
                           "isic-official, ph2"),
    (["--cams", "gradcam", "gradcamx"], "cam2seg: error: cams / strategy_cams: unknown CAM method(s) ['gradcamx']; "
                                        "known: gradcam, gradcam++, ablationcam, scorecam, randomcam"),
    (["--strategies", "algorithm1", "candidate"], "cam2seg: error: strategies ['candidate'] unknown; choose from "
                                                  "['algorithm1', 'cam-ensemble', 'refine', 'image-prior'"),
    (["--segmenter", "medsam"], "cam2seg: error: segmenter: unknown segmenter 'medsam'; known: litemedsam, "
                                "medsam_vit_b, sam_vit_b, sam_vit_l, sam_vit_h"),
    (["--prompt-variants", "boxes"], "cam2seg: error: prompt_variants ['boxes'] unknown; choose from "
                                     "('box', 'box+points', 'points')"),
]
# fine-tuning uses neither CAMs nor prompts: only the names it reads are tried on it
FINETUNE_FLAGS = ("--models", "--profile", "--segmenter")


@pytest.mark.parametrize("command, flags, expected",
                         [("grid", f, e) for f, e in UNKNOWN_NAMES] +
                         [("finetune", f, e) for f, e in UNKNOWN_NAMES if f[0] in FINETUNE_FLAGS])
def test_unknown_names_are_one_line_errors_naming_the_choices(tmp_path, capsys, command, flags, expected):
    out = tmp_path / "run"
    assert main([command, "--profile", "smoke", "--output-dir", str(out), "--data-root", str(tmp_path / "none"),
                 "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1, err
    assert not out.exists()


def test_tune_strategies_refuses_ph2_in_one_line(tmp_path, capsys):
    """The weights are fitted on training masks: PH2 has none (evaluation only)."""
    out = tmp_path / "run"
    assert main(["tune-strategies", "--profile", "ph2", "--data-root", str(tmp_path / "none"), "--output-dir", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cam2seg: error: dataset 'ph2' is for evaluation only") and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.slow
def test_summarize_of_a_truncated_grid_parquet_says_how_to_rebuild_it(tmp_path, capsys):
    data, out = tmp_path / "data", tmp_path / "run"
    common = ["--profile", "smoke", "--data-root", str(data), "--output-dir", str(out), "--quiet",
              "--set", "synthetic_train_images=2", "--set", "synthetic_test_images=2", "--set", "settings=[zero-shot]",
              "--set", "cams=[gradcam]", "--set", "prompt_variants=[box]", "--set", "strategies=[algorithm1]",
              "--set", "gt_baselines=[gt-box]", "--set", f"cache_dir={tmp_path / 'cache'}"]
    assert main(["generate-data", *common]) == 0
    assert main(["grid", *common]) == 0
    assert main(["summarize", *common]) == 0
    table = out / "grid.parquet"
    intact = pd.read_parquet(table)
    data_bytes = table.read_bytes()
    table.write_bytes(data_bytes[: len(data_bytes) // 2])          # a copy cut short (a full disk)
    capsys.readouterr()
    assert main(["summarize", *common]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cam2seg: error: {table}: cannot be read (") and err.count("\n") == 1, err
    assert "`cam2seg grid --merge` with the same config rebuilds it" in err and str(out / "shards") in err
    # ... and it does: the shards were intact
    assert main(["grid", "--merge", *common]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(table), intact)
    assert main(["summarize", *common]) == 0

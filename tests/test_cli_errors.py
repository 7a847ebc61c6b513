"""Bad input to every CLI command (cam2seg_utils/cli.py): one line ``cam2seg: error: ...`` naming
the value, field or file, exit status 2, nothing on stdout and nothing written; the config's
fields (cam2seg_utils/experiments/config.py) each refused by type and range before any image is
read."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from cam2seg_utils.cli import COMMANDS, main
from cam2seg_utils.experiments.config import FIELD_RULES, ExperimentConfig

# (command, flags, what the one line must say); {missing} is a folder that does not exist,
# {empty} an empty results folder, {file} a file where a folder is expected. Every run gets
# --output-dir <tmp>/out (unless the row names one) and runs in a temporary working directory,
# so that the profiles' relative defaults (checkpoints/..., results/...) resolve there.
BAD_INPUT = [
    ("generate-data", ["--profile", "isic-official"], "generate-data only writes synthetic data"),
    ("generate-data", ["--set", "synthetic_train_images=0"], "synthetic_train_images must be an integer >= 1, got 0"),
    ("generate-data", ["--set", "synthetic_size_range=[128, 96]"], "synthetic_size_range must be [low, high]"),
    ("generate-data", ["--data-root", "{file}"], "data_root {file}: is a file, not a folder"),
    ("generate-data", ["--set", "percentile"], "--set expects field=value, got 'percentile'"),
    ("download", ["--profile", "ph2"], "download fetches ISIC 2017 only"),
    ("download", ["--splits", "Tests"], "unknown ISIC 2017 split 'Tests'"),
    ("download", ["--set", "download_splits=[Training2018]"], "every download_splits value must be an ISIC 2017 split"),
    ("finetune", ["--profile", "ph2"], "dataset 'ph2' is for evaluation only"),
    ("finetune", ["--profile", "isic-official", "--data-root", "{missing}"], "data_root {missing}: folder not found"),
    ("finetune", ["--epochs", "0"], "epochs must be an integer >= 1, got 0"),
    ("finetune", ["--set", "lr=-0.1"], "lr must be a number > 0, got -0.1"),
    ("grid", ["--profile", "local-isic", "--set", "max_images=-3"], "max_images must be an integer >= 1 or null, got -3"),
    ("grid", ["--profile", "local-isic", "--max-images", "-3"], "max_images must be an integer >= 1 or null, got -3"),
    # the fine-tuned checkpoint is missing too: the data folder is named, the first thing wrong
    ("grid", ["--profile", "local-isic", "--data-root", "{missing}"], "data_root {missing}: folder not found"),
    ("grid", ["--profile", "smoke", "--data-root", "{missing}"], "`cam2seg generate-data` with this config writes it"),
    ("grid", ["--max-images", "three"], "argument --max-images: invalid int value: 'three'"),
    ("grid", ["--shard", "5/3"], "shard 5/3: need 0 <= K < N"),
    ("grid", ["--workers", "0"], "--workers must be >= 1, got 0"),
    ("grid", ["--allow-missing"], "--allow-missing only applies to --merge"),
    ("grid", ["--merge", "--output-dir", "{empty}"], "grid_config.json not found"),
    ("grid", ["--config", "{missing}/exp.yaml"], "config file {missing}/exp.yaml does not exist"),
    ("summarize", ["--profile", "isic-official", "--output-dir", "{empty}"],
     "{empty}/grid_config.json not found (or from an older cam2seg): no grid was started in {empty}; run `cam2seg "
     "grid` first"),
    ("summarize", ["--percentile", "150"], "every percentile value must be a number in [0, 100], got 150"),
    ("publish", ["--profile", "isic-official", "--output-dir", "{empty}", "--dest", "{missing}"],
     "{empty}/grid.parquet: not found; run `python -m cam2seg_utils grid --profile isic-official` first"),
    ("publish", ["--tables-only", "--dest", "{missing}"], "{missing}: snapshot folder not found"),
    ("tune-strategies", ["--profile", "ph2"], "dataset 'ph2' is for evaluation only"),
    ("tune-strategies", ["--data-root", "{missing}"], "data_root {missing}: folder not found"),
    ("tune-strategies", ["--max-images", "0"], "max_images must be an integer >= 1 or null, got 0"),
    ("hitl", ["--profile", "smoke", "--max-clicks", "0"], "--max-clicks must be >= 1, got 0"),
    ("hitl", ["--profile", "smoke", "--starts", "gt-boxx"], "gt-boxx"),
    ("hitl", ["--profile", "smoke", "--data-root", "{missing}"], "data_root {missing}: folder not found"),
]


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("not a folder\n")
    return {"missing": str(tmp_path / "missing"), "empty": str(tmp_path / "empty"), "file": str(tmp_path / "a-file")}


def _one_line_error(capsys, argv) -> str:
    try:
        status = main(argv)
    except SystemExit as exc:          # argparse's own errors (a flag's type) exit from parse_args
        status = exc.code
    assert status == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("cam2seg: error: ") and err.count("\n") == 1, err
    return err


def test_every_command_has_bad_input_rows():
    assert {cmd for cmd, _, _ in BAD_INPUT} == set(COMMANDS)


@pytest.mark.parametrize("command, flags, expected", BAD_INPUT,
                         ids=[f"{c} {' '.join(f)}" for c, f, _ in BAD_INPUT])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(command, flags, expected, places, tmp_path, capsys):
    flags = [f.format(**places) for f in flags]
    if "--output-dir" not in flags:
        flags += ["--output-dir", str(tmp_path / "out")]
    before = _files(tmp_path)
    err = _one_line_error(capsys, [command, *flags, "--quiet"])
    assert expected.format(**places) in err
    assert _files(tmp_path) == before          # no results folder, no tables, no snapshot, no data


def test_an_error_from_a_fresh_process_has_no_traceback(places, tmp_path):
    """The same line from ``python -m cam2seg_utils``, as a user sees it."""
    proc = subprocess.run([sys.executable, "-m", "cam2seg_utils", "summarize", "--profile", "isic-official",
                           "--output-dir", places["empty"], "--quiet"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [f"cam2seg: error: {places['empty']}/grid_config.json not found (or from an "
                                        f"older cam2seg): no grid was started in {places['empty']}; run `cam2seg "
                                        "grid` first"]


# ------------------------------------------------------------------------------ every config field
# An out-of-range (or wrongly typed) value for every field of ExperimentConfig. A field added
# without an entry here fails test_every_field_out_of_range_is_refused_before_any_work: give it
# one, and a rule in FIELD_RULES.
OUT_OF_RANGE = {
    "name": "", "description": ["not", "text"], "dataset": "ham", "data_root": "", "train_split": "Training2018",
    "test_split": "Tset", "test_holdout_fraction": 1.5, "val_fraction": 0, "synthetic_train_images": 0,
    "synthetic_test_images": -1, "synthetic_size_range": [128, 96], "synthetic_melanoma_fraction": 1.2,
    "download_splits": ["Training2018"], "max_images": -3, "max_side": 8, "evaluate_on": "train", "models": [],
    "zero_shot_weights": "", "finetune_init_weights": 3, "finetuned_checkpoints": ["best.pt"], "epochs": 0,
    "patience": -1, "batch_size": 0, "lr": -0.1, "weight_decay": -1, "finetune_input_size": 0, "monitor": "loss",
    "amp": "yes", "num_workers": -1, "settings": ["few-shot"], "cams": ["gradcamx"], "slow_cams": [3],
    "slow_cams_max_images": -1, "cam_batch_size": 0, "scorecam_channels": 0, "scorecam_selection": "random",
    "ablation_ratio": 0, "segmenter": "medsam", "segmenter_checkpoint": "", "prompt_variants": ["boxes"],
    "main_prompt_variant": "boxes", "percentile": [150], "num_points": [0], "amplification": [-1],
    "cam_mask_rows": "no", "strategies": ["candidate"], "strategy_cams": ["gradcamx"], "ranking_weights": "nope",
    "selection_oracles": 2, "gt_baselines": ["gt"], "seed": -1, "device": "gpu", "output_dir": "",
    "cache_dir": "", "checkpoint_dir": "", "progress": "yes",
}
FIELDS = [f.name for f in dataclasses.fields(ExperimentConfig)]


def test_every_field_has_a_rule():
    assert set(FIELD_RULES) == set(FIELDS)


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_out_of_range_is_refused_before_any_work(field, places, tmp_path, capsys):
    """``grid --set FIELD=VALUE`` on a missing data folder: the error names the field (so it came
    before the data folder is even looked at) in one line, and nothing is written."""
    assert field in OUT_OF_RANGE, f"new config field {field!r}: add an out-of-range value above and validate it"
    before = _files(tmp_path)
    # no --quiet: it would set `progress` after --set
    err = _one_line_error(capsys, ["grid", "--profile", "smoke", "--data-root", places["missing"], "--output-dir",
                                   str(tmp_path / "out"), "--set", f"{field}={json.dumps(OUT_OF_RANGE[field])}"])
    assert field in err and places["missing"] not in err, err
    assert _files(tmp_path) == before


def test_fields_are_checked_in_declaration_order():
    """Two bad values: the one a user meets first (data before fine-tuning before the grid) is named."""
    with pytest.raises(ValueError, match="^max_images must"):
        ExperimentConfig(max_images=-3, epochs=0, percentile=[150])
    with pytest.raises(ValueError, match="^epochs must"):
        ExperimentConfig(epochs=0, percentile=[150])
    # valid values are kept with their field's types (YAML writes 80 for 80.0)
    cfg = ExperimentConfig(percentile=80, num_points=[2], synthetic_size_range=[96, 128])
    assert cfg.percentile == [80.0] and isinstance(cfg.percentile[0], float) and cfg.synthetic_size_range == (96, 128)

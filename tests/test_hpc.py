"""The SLURM scripts in hpc/: they parse (``bash -n``), and their dry runs print the exact sbatch
chain (fine-tune array over models -> grid array over image shards -> merge -> book, each
``afterok`` on the previous job) and the exact cam2seg command of every stage. The grid and merge
stages also run for real in tests/test_experiments_shards.py."""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = ["hpc/pipeline.sh", "hpc/stage.sbatch"]


def _run(args, **env):
    return subprocess.run(args, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_parse(script):
    assert _run(["bash", "-n", script]).returncode == 0


def _sbatch_lines(stdout: str) -> list[list[str]]:
    return [shlex.split(line) for line in stdout.splitlines() if " sbatch " in line]


def test_pipeline_dry_run_prints_the_dependency_chain():
    logs_before = (REPO / "logs").exists()
    res = _run(["hpc/pipeline.sh", "--dry-run", "--profile", "paper", "--shards", "20",
                "--sbatch-args", "--account=lab --partition=gpu"])
    assert res.returncode == 0, res.stderr
    jobs = _sbatch_lines(res.stdout)
    assert len(jobs) == 4
    finetune, grid, merge, book = jobs
    for cmd in jobs:
        assert cmd[0] == "env" and cmd[-1] == "hpc/stage.sbatch" and "--parsable" in cmd
        assert "--account=lab" in cmd and "--partition=gpu" in cmd and "PROFILE=paper" in cmd
    assert "STAGE=finetune" in finetune and "--array=0-4" in finetune and "--gres=gpu:1" in finetune
    assert ("MODELS=resnet50 mobilenetv2_100 efficientnet_b0 vit_base_patch16_224 "
            "swin_base_patch4_window7_224") in finetune
    assert "STAGE=grid" in grid and "NUM_SHARDS=20" in grid and "--array=0-19" in grid
    assert "--dependency=afterok:1001" in grid
    assert "STAGE=merge" in merge and "--dependency=afterok:1002" in merge and not any("gres" in a for a in merge)
    assert "STAGE=book" in book and "--dependency=afterok:1003" in book
    assert "grid: job 1002 (20 image shards)" in res.stdout
    assert (REPO / "logs").exists() == logs_before               # a dry run creates nothing


def test_pipeline_options():
    res = _run(["hpc/pipeline.sh", "--dry-run", "--profile", "smoke", "--shards", "3", "--no-finetune",
                "--no-book", "--gres", "", "--workers", "2"])
    assert res.returncode == 0, res.stderr
    grid, merge = _sbatch_lines(res.stdout)
    assert "STAGE=grid" in grid and "WORKERS=2" in grid and "--array=0-2" in grid
    assert not any(a.startswith("--dependency") or a.startswith("--gres") for a in grid)
    assert "--dependency=afterok:1001" in merge
    for bad in (["--shards", "0"], ["--frobnicate"]):
        out = _run(["hpc/pipeline.sh", "--dry-run", *bad])
        assert out.returncode == 2 and "pipeline.sh:" in out.stderr


@pytest.mark.parametrize("stage, env, expected", [
    ("finetune", {"MODELS": "resnet50 vit_base_patch16_224", "SLURM_ARRAY_TASK_ID": "1"},
     ["python -m cam2seg_utils finetune --profile paper --models vit_base_patch16_224 "
      "--output-dir results/paper-finetune/vit_base_patch16_224 --quiet --device cuda"]),
    ("grid", {"NUM_SHARDS": "20", "SLURM_ARRAY_TASK_ID": "7", "WORKERS": "2"},
     ["python -m cam2seg_utils grid --profile paper --shard 7/20 --workers 2 --quiet --device cuda"]),
    ("merge", {},
     ["python -m cam2seg_utils grid --profile paper --merge --quiet --device cuda",
      "python -m cam2seg_utils summarize --profile paper --quiet --device cuda"]),
    ("book", {"BOOK_ARGS": "--only 05"}, ["python book/build.py --profile paper --only 05"]),
])
def test_stage_dry_run_prints_the_command(stage, env, expected):
    res = _run(["bash", "hpc/stage.sbatch"], STAGE=stage, DRY_RUN="1", PROFILE="paper",
               CAM2SEG_ARGS="--device cuda", **env)
    assert res.returncode == 0, res.stderr
    assert [line.strip() for line in res.stdout.splitlines()] == expected


def test_stage_errors_are_named():
    res = _run(["bash", "hpc/stage.sbatch"], STAGE="nope", DRY_RUN="1")
    assert res.returncode == 2 and "STAGE must be finetune, grid, merge or book" in res.stderr
    res = _run(["bash", "hpc/stage.sbatch"], STAGE="finetune", MODELS="a b", SLURM_ARRAY_TASK_ID="2", DRY_RUN="1")
    assert res.returncode == 2 and "only 2 models" in res.stderr
    env = {k: v for k, v in os.environ.items() if k != "NUM_SHARDS"}
    res = subprocess.run(["bash", "hpc/stage.sbatch"], cwd=REPO, env={**env, "STAGE": "grid", "DRY_RUN": "1"},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "NUM_SHARDS" in res.stderr

"""The SLURM scripts in hpc/: they parse (``bash -n``), and their dry runs print the exact sbatch
chain (fine-tune array over models -> grid array over image shards -> merge, tune, hitl -> book,
each ``afterok`` on the jobs before it), the per-stage resources, what ``--resume`` leaves out, and
the exact cam2seg command of every stage. The chain runs on a real SLURM in
tests/test_hpc_slurm.py; the grid and merge stages also in-process in
tests/test_experiments_shards.py."""
from __future__ import annotations

import json
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


def _flag(cmd: list[str], name: str) -> str | None:
    """The value of ``--name=value`` in one sbatch command (None when absent)."""
    return next((a.split("=", 1)[1] for a in cmd if a.startswith(f"--{name}=")), None)


def test_pipeline_dry_run_prints_the_dependency_chain():
    logs_before = (REPO / "logs").exists()
    res = _run(["hpc/pipeline.sh", "--dry-run", "--profile", "paper", "--shards", "20",
                "--sbatch-args", "--qos=normal", "--account", "lab", "--partition", "gpu"])
    assert res.returncode == 0, res.stderr
    jobs = _sbatch_lines(res.stdout)
    assert len(jobs) == 6
    finetune, grid, merge, tune, hitl, book = jobs
    for cmd in jobs:
        assert cmd[0] == "env" and cmd[-1] == "hpc/stage.sbatch" and "--parsable" in cmd
        assert "--qos=normal" in cmd and "--account=lab" in cmd and "--partition=gpu" in cmd and "PROFILE=paper" in cmd
    assert "STAGE=finetune" in finetune and "--array=0-4" in finetune and "--gres=gpu:1" in finetune
    assert ("MODELS=resnet50 mobilenetv2_100 efficientnet_b0 vit_base_patch16_224 "
            "swin_base_patch4_window7_224") in finetune
    assert "STAGE=grid" in grid and "NUM_SHARDS=20" in grid and "--array=0-19" in grid
    assert _flag(grid, "output") == "logs/%x-%A_%a.out" and _flag(merge, "output") == "logs/%x-%j.out"
    assert _flag(grid, "dependency") == "afterok:1001" and "--kill-on-invalid-dep=yes" in grid
    assert "STAGE=merge" in merge and _flag(merge, "dependency") == "afterok:1002" and _flag(merge, "gres") is None
    assert "STAGE=tune" in tune and _flag(tune, "dependency") == "afterok:1001" and _flag(tune, "gres") == "gpu:1"
    assert "STAGE=hitl" in hitl and _flag(hitl, "dependency") == "afterok:1002" and _flag(hitl, "gres") == "gpu:1"
    # the book reads results back: no GPU, after the merge, the strategy tuning and the hitl runs;
    # the paper profile's device is cuda, so the book's example pages run on the CPU
    assert "STAGE=book" in book and _flag(book, "dependency") == "afterok:1003:1004:1005"
    assert _flag(book, "gres") is None and "BOOK_ARGS=--param device=cpu" in book
    assert "grid: job 1002 (20 image shards)" in res.stdout and "book: job 1006" in res.stdout
    assert (REPO / "logs").exists() == logs_before               # a dry run creates nothing


def test_pipeline_options():
    res = _run(["hpc/pipeline.sh", "--dry-run", "--profile", "smoke", "--shards", "3", "--no-finetune",
                "--no-book", "--no-tune", "--no-hitl", "--gres", "", "--workers", "2"])
    assert res.returncode == 0, res.stderr
    grid, merge = _sbatch_lines(res.stdout)
    assert "STAGE=grid" in grid and "WORKERS=2" in grid and "--array=0-2" in grid
    assert not any(a.startswith("--dependency") or a.startswith("--gres") for a in grid)
    assert "--dependency=afterok:1001" in merge
    for bad in (["--shards", "0"], ["--frobnicate"], ["--grid-frobnicate", "1"], ["--grid-time"]):
        out = _run(["hpc/pipeline.sh", "--dry-run", *bad])
        assert out.returncode == 2 and "pipeline.sh:" in out.stderr


def test_per_stage_resources():
    res = _run(["hpc/pipeline.sh", "--dry-run", "--profile", "paper", "--shards", "4", "--gres", "gpu:2",
                "--cpus-per-task", "4", "--mem", "16G", "--time", "04:00:00", "--partition", "gpu",
                "--grid-time", "01:00:00", "--book-partition", "cpu", "--book-mem", "8G", "--hitl-gres", "",
                "--finetune-cpus-per-task", "16", "--log-dir", "/scratch/me/logs"])
    assert res.returncode == 0, res.stderr
    finetune, grid, merge, tune, hitl, book = _sbatch_lines(res.stdout)
    want = {"finetune": (finetune, "gpu:2", "16", "16G", "04:00:00", "gpu"),
            "grid": (grid, "gpu:2", "4", "16G", "01:00:00", "gpu"),
            "merge": (merge, None, "4", "16G", "04:00:00", "gpu"),
            "tune": (tune, "gpu:2", "4", "16G", "04:00:00", "gpu"),
            "hitl": (hitl, None, "4", "16G", "04:00:00", "gpu"),      # --hitl-gres "": no GPU for that stage
            "book": (book, None, "4", "8G", "04:00:00", "cpu")}
    for stage, (cmd, *values) in want.items():
        got = [_flag(cmd, k) for k in ("gres", "cpus-per-task", "mem", "time", "partition")]
        assert got == values, stage
        assert _flag(cmd, "account") is None
    assert _flag(grid, "output") == "/scratch/me/logs/%x-%A_%a.out"
    assert "BOOK_ARGS=--param device=cpu" in book


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def test_resume_submits_only_what_is_missing(tmp_path):
    """--resume reads the results folder the stages write (CAM2SEG_ARGS: the smoke profile zero-shot
    only, so no fine-tuning, into tmp_path): a missing shard task, then a merge that is not done."""
    out = tmp_path / "out"
    args = dict(CAM2SEG_ARGS=f"--set settings=[zero-shot] --output-dir {out}")
    cmd = ["hpc/pipeline.sh", "--dry-run", "--resume", "--profile", "smoke", "--shards", "3", "--no-book"]
    for k in (0, 2):
        _write_json(out / "tasks" / f"shard-{k}-of-3.json", {"shard_index": k})
    _write_json(out / "strategy_tuning" / "strategy_tuning.json", {})
    res = _run(cmd, **args)
    assert res.returncode == 0, res.stderr
    grid, merge, hitl = _sbatch_lines(res.stdout)
    assert "STAGE=grid" in grid and "--array=1" in grid and "NUM_SHARDS=3" in grid
    assert "grid: job 1001 (image shards 1 of 3)" in res.stdout
    assert "STAGE=merge" in merge and _flag(merge, "dependency") == "afterok:1001"
    assert "STAGE=hitl" in hitl                  # after new grid work the hitl run is redone too
    # every shard task done: only the merge (and hitl, never run) is left
    _write_json(out / "tasks" / "shard-1-of-3.json", {"shard_index": 1})
    merge, hitl = _sbatch_lines(_run(cmd, **args).stdout)
    assert "STAGE=merge" in merge and _flag(merge, "dependency") is None
    # a merge of another sharding, or one older than a task, is not done
    (out / "tables").mkdir()
    (out / "tables" / "individual.csv").write_text("x\n")
    (out / "grid.parquet").write_bytes(b"")
    _write_json(out / "hitl" / "hitl_summary.json", {})
    _write_json(out / "run_summary.json", {"complete": True, "num_shards": 4})
    assert [c[1] for c in _sbatch_lines(_run(cmd, **args).stdout)] == ["STAGE=merge"]
    _write_json(out / "run_summary.json", {"complete": True, "num_shards": 3})
    os.utime(out / "grid.parquet", (0, 0))
    assert [c[1] for c in _sbatch_lines(_run(cmd, **args).stdout)] == ["STAGE=merge"]
    os.utime(out / "grid.parquet")
    res = _run(cmd, **args)
    assert res.returncode == 0 and _sbatch_lines(res.stdout) == []
    assert "nothing to submit" in res.stdout
    # a stage left out (--no-hitl, --no-tune) is not waited for and triggers nothing
    (out / "hitl" / "hitl_summary.json").unlink()
    (out / "strategy_tuning" / "strategy_tuning.json").unlink()
    res = _run([*cmd, "--no-hitl", "--no-tune"], **args)
    assert res.returncode == 0 and "nothing to submit" in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("stage, env, expected", [
    ("finetune", {"MODELS": "resnet50 vit_base_patch16_224", "SLURM_ARRAY_TASK_ID": "1"},
     ["python -m cam2seg_utils finetune --profile paper --models vit_base_patch16_224 --quiet --device cuda "
      "--output-dir results/paper-finetune/vit_base_patch16_224"]),
    ("grid", {"NUM_SHARDS": "20", "SLURM_ARRAY_TASK_ID": "7", "WORKERS": "2"},
     ["python -m cam2seg_utils grid --profile paper --shard 7/20 --workers 2 --quiet --device cuda"]),
    ("merge", {},
     ["python -m cam2seg_utils grid --profile paper --merge --quiet --device cuda",
      "python -m cam2seg_utils summarize --profile paper --quiet --device cuda"]),
    ("tune", {}, ["python -m cam2seg_utils tune-strategies --profile paper --quiet --device cuda"]),
    ("hitl", {}, ["python -m cam2seg_utils hitl --profile paper --quiet --device cuda"]),
    ("book", {"BOOK_ARGS": "--only 05"}, ["python book/build.py --profile paper --only 05"]),
])
def test_stage_dry_run_prints_the_command(stage, env, expected):
    res = _run(["bash", "hpc/stage.sbatch"], STAGE=stage, DRY_RUN="1", PROFILE="paper",
               CAM2SEG_ARGS="--device cuda", **env)
    assert res.returncode == 0, res.stderr
    assert [line.strip() for line in res.stdout.splitlines()] == expected


def test_stage_errors_are_named():
    res = _run(["bash", "hpc/stage.sbatch"], STAGE="nope", DRY_RUN="1")
    assert res.returncode == 2 and "STAGE must be finetune, grid, merge, tune, hitl or book" in res.stderr
    res = _run(["bash", "hpc/stage.sbatch"], STAGE="finetune", MODELS="a b", SLURM_ARRAY_TASK_ID="2", DRY_RUN="1")
    assert res.returncode == 2 and "only 2 models" in res.stderr
    env = {k: v for k, v in os.environ.items() if k != "NUM_SHARDS"}
    res = subprocess.run(["bash", "hpc/stage.sbatch"], cwd=REPO, env={**env, "STAGE": "grid", "DRY_RUN": "1"},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "NUM_SHARDS" in res.stderr

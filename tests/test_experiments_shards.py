"""Image shards on one results folder (issue 10, part 2), on the real embedded stack and tiny
synthetic images: three shard tasks run as separate processes through ``hpc/stage.sbatch`` (the
SLURM array's job script) give the single-process table; a task killed with SIGKILL resumes; a
merge with a missing image names it; a worker pool gives the single-process table; the folder's
identity file is written once when tasks start together."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from cam2seg_utils.experiments.engine import LoadedClassifier
from cam2seg_utils.experiments.merge import load_table, merge_grid
from cam2seg_utils.experiments.run import run_grid
from cam2seg_utils.experiments.table import TIMING_COLUMNS
from cam2seg_utils.experiments.identity import ResultsMismatchError
from cam2seg_utils.experiments.shards import (IncompleteGridError, ShardSpec, ShardStore, shard_indices,
                                              shard_name)
from cam2seg_utils.profiles import get_profile

LITE0 = "tf_efficientnet_lite0"
REPO = Path(__file__).resolve().parents[1]
N_TEST = 5
# columns that are exact by construction (ids, prompts, predicted classes): equal bit for bit
EXACT = ["image_id", "setting", "model", "cam", "prompt_variant", "predicted_class", "box_x0", "box_y0",
         "box_x1", "box_y1", "points", "used_fallback", "error"]


def _overrides(tmp: Path) -> dict:
    return dict(data_root=str(tmp / "data"), synthetic_train_images=3, synthetic_test_images=N_TEST,
                settings=["zero-shot"], cams=["gradcam"], prompt_variants=["box"], strategies=["algorithm1"],
                gt_baselines=["gt-box"], seed=5)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, embedded_classifier, litemedsam):
    """The data, the config file of the shard tasks, and the single-process reference table."""
    from cam2seg_utils.cli import main

    tmp = tmp_path_factory.mktemp("shards")
    cfg_file = tmp / "exp.json"
    cfg_file.write_text(json.dumps({"profile": "smoke", **_overrides(tmp)}))
    assert main(["generate-data", "--config", str(cfg_file), "--quiet"]) == 0
    cfg = get_profile("smoke", **_overrides(tmp), output_dir=str(tmp / "reference"),
                      cache_dir=str(tmp / "cache-reference"), progress=False)
    ref = run_grid(cfg, segmenter=litemedsam,
                   classifiers=[LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")])
    assert len(ref.table) == N_TEST * 3 and ref.table["error"].isna().all()
    return tmp, cfg_file, cfg, ref


def _stage(stage: str, cfg_file: Path, out: Path, index: int = 0, **env) -> dict:
    """Environment of one ``hpc/stage.sbatch`` job as SLURM would start it."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "STAGE": stage, "PROFILE": "smoke", "NUM_SHARDS": "3",
            "SLURM_ARRAY_TASK_ID": str(index),
            "CAM2SEG_ARGS": f"--config {cfg_file} --output-dir {out} --set cache_dir={out.parent / 'cache-tasks'}",
            **env}


def _compare(table: pd.DataFrame, ref: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(table.drop(columns=TIMING_COLUMNS), ref.drop(columns=TIMING_COLUMNS))
    pd.testing.assert_frame_equal(table[EXACT], ref[EXACT], check_exact=True)


@pytest.fixture(scope="module")
def sharded(setup):
    """Three shard tasks started together; task 1 is killed with SIGKILL after its first image,
    merged (refused: images missing), resubmitted, merged again."""
    tmp, cfg_file, _, ref = setup
    out = tmp / "sharded"
    procs = {k: subprocess.Popen(["bash", "hpc/stage.sbatch"], cwd=REPO, env=_stage("grid", cfg_file, out, k),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k in range(3)}
    ids = list(ref.table["image_id"].drop_duplicates())
    task1 = [ids[i] for i in shard_indices(len(ids), ShardSpec(1, 3))]
    deadline = time.time() + 600
    while time.time() < deadline and procs[1].poll() is None and not (out / "shards" / shard_name(task1[0])).is_file():
        time.sleep(0.05)
    killed = procs[1].poll() is None
    if killed:
        os.kill(procs[1].pid, signal.SIGKILL)
    for k, p in procs.items():
        _, err = p.communicate(timeout=900)
        if k != 1 or not killed:
            assert p.returncode == 0, err.decode()[-3000:]
    first_merge = subprocess.run(["bash", "hpc/stage.sbatch"], cwd=REPO, env=_stage("merge", cfg_file, out),
                                 capture_output=True, text=True, timeout=600)
    done_before = [i for i in task1 if (out / "shards" / shard_name(i)).is_file()]
    rerun = subprocess.run(["bash", "hpc/stage.sbatch"], cwd=REPO, env=_stage("grid", cfg_file, out, 1),
                           capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    merge = subprocess.run(["bash", "hpc/stage.sbatch"], cwd=REPO, env=_stage("merge", cfg_file, out),
                           capture_output=True, text=True, timeout=600)
    assert merge.returncode == 0, merge.stderr[-3000:]
    return dict(out=out, killed=killed, first_merge=first_merge, task1=task1, done_before=done_before)


@pytest.mark.slow
def test_three_shard_tasks_give_the_single_process_table(setup, sharded):
    _, _, _, ref = setup
    out = sharded["out"]
    _compare(load_table(out), ref.table)
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["complete"] and summary["num_shards"] == 3 and summary["n_images"] == N_TEST
    assert [t["shard"] for t in summary["tasks"]] == ["0/3", "1/3", "2/3"]
    # the tasks' counts add up: every image encoded exactly once across the three tasks
    assert summary["encoder_calls"] + summary["images_resumed"] == N_TEST
    assert summary["images_processed"] + summary["images_resumed"] == N_TEST
    assert (out / "tables" / "individual.csv").is_file()           # the merge stage summarised too
    assert not list(out.rglob(".tmp-*"))


@pytest.mark.slow
def test_a_killed_shard_task_resumes(sharded):
    out = sharded["out"]
    if not sharded["killed"]:
        pytest.skip("task 1 finished before it could be killed (a very fast machine)")
    task = json.loads((out / "tasks" / "shard-1-of-3.json").read_text())
    n_done = len(sharded["done_before"])
    assert n_done >= 1
    assert task["images_resumed"] == n_done and task["encoder_calls"] == len(sharded["task1"]) - n_done
    if n_done < len(sharded["task1"]):      # the merge in between named what task 1 had not done
        first = sharded["first_merge"]
        assert first.returncode == 2
        missing = [i for i in sharded["task1"] if i not in sharded["done_before"]]
        assert all(i in first.stderr for i in missing) and "shard task(s) 1/3" in first.stderr


@pytest.mark.slow
def test_merge_with_a_missing_shard_names_the_missing_images(setup, sharded, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(sharded["out"], folder)
    gone = sharded["task1"][-1]
    (folder / "shards" / shard_name(gone)).unlink()
    with pytest.raises(IncompleteGridError, match=rf"1 of {N_TEST} images have no result yet: {gone} "
                                                  r"\(shard task\(s\) 1/3\)") as err:
        merge_grid(folder)
    assert err.value.missing == [gone]
    # summarize merges by itself when the shards changed since grid.parquet: refused the same way
    from cam2seg_utils.cli import main

    summarize = ["summarize", "--config", str(setup[1]), "--output-dir", str(folder), "--quiet"]
    assert main(summarize) == 2
    assert f"no result yet: {gone}" in capsys.readouterr().err
    partial = merge_grid(folder, allow_missing=True)
    assert partial.summary["complete"] is False and partial.summary["missing_images"] == [gone]
    assert gone not in set(partial.table["image_id"])
    assert main(summarize) == 2                     # a partial table is never summarised
    assert "grid.parquet is partial" in capsys.readouterr().err


@pytest.mark.slow
def test_worker_pool_gives_the_single_process_table(setup):
    tmp, _, cfg, ref = setup
    pooled = cfg.replace(output_dir=str(tmp / "pooled"), cache_dir=str(tmp / "cache-pooled"))
    res = run_grid(pooled, workers=2)
    _compare(res.table, ref.table)
    s = res.summary
    assert s["encoder_calls"] == N_TEST and s["images_processed"] == N_TEST and s["tasks"][0]["workers"] == 2
    with pytest.raises(ValueError, match="workers > 1"):
        run_grid(pooled, workers=2, segmenter=object())


def test_shard_spec_and_indices():
    assert ShardSpec.parse("2/8") == ShardSpec(2, 8) and str(ShardSpec.parse(None)) == "0/1"
    for bad in ("8/8", "-1/3", "1/0", "a/b", "3"):
        with pytest.raises(ValueError, match="K/N"):
            ShardSpec.parse(bad)
    shares = [shard_indices(10, ShardSpec(k, 3)) for k in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert sorted(sum(shares, [])) == list(range(10))


def _identity(seed: int) -> dict:
    return {"format": "cam2seg-grid-identity/1", "results_version": 2, "config": {"seed": seed},
            "weights": {"zero-shot/m": "embedded sha256:aa"}, "segmenter": {"name": "s", "checkpoint": "sha256:bb"},
            "images": {"split": "Test", "ids": ["a", "b"]}}


def test_tasks_starting_together_write_the_identity_once(tmp_path):
    store = ShardStore(tmp_path / "out")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def claim(seed: int) -> None:
        barrier.wait()
        try:
            store.claim(_identity(seed), {})
        except ResultsMismatchError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(1 if k < 4 else 2,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winner = json.loads(store.identity_path.read_text())["identity"]["config"]["seed"]
    assert len(errors) == 4                                   # the four tasks of the other config
    assert all("config field seed differs" in str(e) for e in errors)
    assert sorted(p.name for p in store.root.iterdir()) == ["grid_config.json"]   # no temporary file left
    store.claim(_identity(winner), {})                          # the same identity resumes

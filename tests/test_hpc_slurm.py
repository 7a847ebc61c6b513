"""hpc/pipeline.sh on a real SLURM: a throwaway one-node cluster (tests/slurm_cluster.py: munged,
slurmctld and slurmd started as root from a generated slurm.conf) runs the chain on a copy of the
checkout.

The chain is the smoke profile (its 1-epoch fine-tuning, its 4 synthetic test images) with the grid
cut to Grad-CAM, box prompts, Algorithm 1 and the ground-truth box, in 2 image shards; one test
image is corrupted once the fine-tuning is done, and the book job renders one page (``--only 00``, the
method page: a partial book). What happens, in the order a user would meet it:

1. ``pipeline.sh`` submits finetune -> grid[0-1] -> merge -> book (held: the test releases the
   fine-tuning, corrupts the image, releases the rest); grid task 1 is killed with
   ``scancel --signal=KILL`` after its first image: SLURM cancels merge and book (their
   ``afterok`` can never be met).
2. ``pipeline.sh --resume`` submits only grid task 1, the merge and the book; the merge job's
   process is killed with SIGKILL while it runs (a node failure, as the job sees it).
3. ``pipeline.sh --resume`` submits the merge and the book again; everything completes.

No accounting database: states come from ``scontrol show job`` and the jobs' own logs. Skipped,
with the reason, where the daemons cannot run (not root, not Debian, slurm-wlm/munge missing;
``make test`` installs them as root)."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from slurm_cluster import FINAL_STATES, SlurmCluster, cannot_start

REPO = Path(__file__).resolve().parents[1]
SHARDS = 2
OUT = "results/slurm"                                 # the chain's results folder, in the copy
CAM2SEG_ARGS = ("--cams gradcam --prompt-variants box --strategies algorithm1 --set gt_baselines=[gt-box] "
                f"--output-dir {OUT}")
BOOK_ARGS = "--only 00"     # the method page: its own synthetic image, not the corrupted data
LOGS = "logs/slurm"
#: per-stage resources as a user on a CPU cluster sets them (the node has 2 CPUs and 4000 MB)
RESOURCES = ["--gres", "", "--cpus-per-task", "1", "--mem", "1G", "--time", "00:30:00", "--partition", "debug",
             "--account", "ci", "--merge-time", "00:10:00", "--no-tune", "--no-hitl", "--log-dir", LOGS]
WAIT = 1800          # seconds a chain may take on a loaded machine (typically a minute or two)
# columns exact by construction (ids, prompts, predicted classes): equal bit for bit
EXACT = ["image_id", "setting", "model", "cam", "prompt_variant", "predicted_class", "box_x0", "box_y0",
         "box_x1", "box_y1", "points", "used_fallback", "error"]
KEY = ["image_id", "setting", "model", "cam", "prompt_variant", "strategy"]

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = cannot_start()
    if reason:
        pytest.skip(reason)
    c = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _copy_checkout(dest: Path) -> None:
    """The checkout's files (tracked and new, not ignored) without the published snapshots (the
    book job renders only its own run), so the chain writes nothing into the real checkout."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True)
    if listed.returncode == 0:
        names = [n for n in listed.stdout.decode().split("\0") if n and not n.startswith("results/published/")]
        for name in names:
            src = REPO / name
            if src.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    else:       # not a git checkout (an unpacked archive): the sources without what builds write
        shutil.copytree(REPO, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", "_build", "generated", "results", "checkpoints", "data", "logs", ".cache", "__pycache__",
            "test-artifacts", "*.ipynb"))


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    dest = tmp_path_factory.mktemp("checkout")
    _copy_checkout(dest)
    return dest


def _env(cluster: SlurmCluster, checkout: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "CAM2SEG_ARGS": CAM2SEG_ARGS, "BOOK_ARGS": BOOK_ARGS}


def _submit(cluster: SlurmCluster, checkout: Path, *flags: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """Run pipeline.sh; returns (its output, {stage: (job id, array tasks)}) from jobs.txt."""
    res = cluster.run("hpc/pipeline.sh", "--profile", "smoke", "--shards", str(SHARDS), *RESOURCES, *flags,
                      cwd=checkout, env=_env(cluster, checkout), check=False, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    jobs = {}
    for line in (checkout / LOGS / "jobs.txt").read_text().splitlines():
        stage, job, *array = line.split()
        jobs[stage] = (job, array[0] if array else "")
    return res.stdout, jobs


def _logs(checkout: Path) -> str:
    """The tails of the jobs' logs (for a failure message)."""
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                     for p in sorted((checkout / LOGS).glob("*.out")))


def _task(records: list[dict], index: int) -> dict:
    """The record of array task ``index`` ({} while SLURM still lists it in a pending range)."""
    return next((r for r in records if r.get("ArrayTaskId") == str(index)), {})


def _kill_when(cluster: SlurmCluster, job: str, ready, what: str) -> bool:
    """Wait until ``ready()`` while ``job`` runs, then SIGKILL its python processes (found with
    ``scontrol listpids``); False when the job ended first."""
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        recs = cluster.jobs(job)
        state = recs[0].get("JobState") if recs else ""
        if state not in ("PENDING", "RUNNING", "CONFIGURING"):
            return False
        if state == "RUNNING" and ready():
            pids = []
            for line in cluster.scontrol("listpids", job).stdout.splitlines()[1:]:
                fields = line.split()
                if fields and fields[0].isdigit():
                    try:
                        cmd = Path(f"/proc/{fields[0]}/cmdline").read_bytes()
                    except OSError:
                        continue
                    if b"cam2seg_utils" in cmd:
                        pids.append(int(fields[0]))
            if pids:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                return True
        time.sleep(0.1)
    raise TimeoutError(f"{what}: job {job} did not get there within {WAIT} s")


@pytest.fixture(scope="module")
def chain(cluster, checkout):
    """The three submissions of the module docstring, and what each left."""
    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.experiments.datasets import generate_synthetic_data
    from cam2seg_utils.experiments.shards import shard_name
    from cam2seg_utils.profiles import get_profile

    data = get_profile("smoke", data_root=str(checkout / "data" / "smoke"), progress=False)
    generate_synthetic_data(data)
    test = ISICDataset(data.data_root, data.test_split)
    ids = sorted(test.ids)
    assert len(ids) == 4
    bad = ids[2]                                                   # the second image of task 0
    task1 = ids[1::SHARDS]
    out = checkout / OUT

    # 1. the chain, submitted held; the fine-tuning released first (it reads every test image and
    # refuses a corrupt one), then the image corrupted and the rest released; grid task 1 is
    # killed after its first image
    first_out, first = _submit(cluster, checkout, "--sbatch-args", "--hold")
    cluster.run("scontrol", "release", first["finetune"][0])
    cluster.wait([first["finetune"][0]], WAIT)
    test.image_path(bad).write_bytes(b"this is not an image")
    cluster.run("scontrol", "release", ",".join(first[s][0] for s in ("grid", "merge", "book")))
    grid = first["grid"][0]
    end = time.monotonic() + WAIT
    first_shard = out / "shards" / shard_name(task1[0])
    while not first_shard.is_file() and time.monotonic() < end:
        recs = cluster.jobs(grid)
        if recs and all(r.get("JobState") in FINAL_STATES for r in recs) or any(
                r.get("JobState") in FINAL_STATES for r in cluster.jobs(first["finetune"][0])
                if r.get("JobState") != "COMPLETED"):
            break
        time.sleep(0.1)
    killed = _task(cluster.jobs(grid), 1).get("JobState") == "RUNNING" and not (
        out / "shards" / shard_name(task1[1])).is_file()
    if killed:
        cluster.run("scancel", "--signal=KILL", "--full", f"{grid}_1")
    first_records = cluster.wait([j for j, _ in first.values()], WAIT)
    for stage in ("finetune", "grid"):
        for rec in first_records[first[stage][0]]:
            assert rec["JobState"] in ("COMPLETED", "CANCELLED"), _logs(checkout)
    done_before = [i for i in task1 if (out / "shards" / shard_name(i)).is_file()]

    # 2. resubmitted: only what is missing; the merge killed while it runs
    second_out, second = _submit(cluster, checkout, "--resume")
    merge_killed = _kill_when(cluster, second["merge"][0], lambda: True, "the merge job") \
        if "merge" in second else False
    second_records = cluster.wait([j for j, _ in second.values()], WAIT)

    # 3. resubmitted again: the merge and the book
    third_out, third = _submit(cluster, checkout, "--resume")
    third_records = cluster.wait([j for j, _ in third.values()], WAIT)
    after_out = cluster.run("hpc/pipeline.sh", "--profile", "smoke", "--shards", str(SHARDS), *RESOURCES,
                            "--resume", cwd=checkout, env=_env(cluster, checkout), timeout=600).stdout
    return dict(ids=ids, bad=bad, task1=task1, out=out, killed=killed, done_before=done_before,
                first=first, first_out=first_out, first_records=first_records,
                second=second, second_out=second_out, second_records=second_records, merge_killed=merge_killed,
                third=third, third_out=third_out, third_records=third_records, after_out=after_out)


@pytest.fixture(scope="module")
def reference(chain, checkout, tmp_path_factory, litemedsam):
    """The same configuration in one process (its own folder and heatmap cache; the chain's
    fine-tuned checkpoint and data, by the same relative paths: run from the copy, as the jobs
    are, so that the error row names the bad file as theirs does)."""
    from cam2seg_utils.cli import build_config, make_parser
    from cam2seg_utils.experiments.run import run_grid

    tmp = tmp_path_factory.mktemp("reference")
    args = make_parser().parse_args(["grid", "--profile", "smoke", *shlex.split(CAM2SEG_ARGS)])
    cfg = build_config(args).replace(output_dir=str(tmp / "out"), cache_dir=str(tmp / "cache"), progress=False)
    cwd = os.getcwd()
    os.chdir(checkout)
    try:
        return run_grid(cfg, segmenter=litemedsam).table
    finally:
        os.chdir(cwd)


def _start(r: dict) -> str:
    return r["StartTime"]


def _end(r: dict) -> str:
    return r["EndTime"]


# ------------------------------------------------------------------------------ the chain
def test_the_chain_completes_in_order(chain):
    first, second, third = chain["first"], chain["second"], chain["third"]
    fr, sr, tr = chain["first_records"], chain["second_records"], chain["third_records"]
    assert set(first) == {"finetune", "grid", "merge", "book"}, chain["first_out"]
    assert first["grid"][1] == "0-1" and first["finetune"][1] == "0"
    (finetune,) = fr[first["finetune"][0]]
    grid0 = _task(fr[first["grid"][0]], 0)
    assert finetune["JobState"] == "COMPLETED" and grid0["JobState"] == "COMPLETED"
    assert _start(grid0) >= _end(finetune)                          # afterok: the grid waited
    # the first chain's merge and book were cancelled by SLURM when task 1 died, not left pending
    if chain["killed"]:
        assert _task(fr[first["grid"][0]], 1)["JobState"] == "CANCELLED"
        for stage in ("merge", "book"):
            (rec,) = fr[first[stage][0]]
            assert rec["JobState"] == "CANCELLED" and "Dependency" in rec.get("Reason", ""), rec
        # --resume: only task 1 of the grid, then merge and book; no fine-tuning
        assert set(second) == {"grid", "merge", "book"} and second["grid"][1] == "1", chain["second_out"]
        assert "grid: job" in chain["second_out"] and "image shards 1 of 2" in chain["second_out"]
        (grid1,) = sr[second["grid"][0]]
        assert grid1["JobState"] == "COMPLETED" and grid1["ArrayTaskId"] == "1"
    else:
        assert _task(fr[first["grid"][0]], 1)["JobState"] == "COMPLETED"
    # the last submission: everything left to do, each after the one before
    (merge,) = tr[third["merge"][0]]
    (book,) = tr[third["book"][0]]
    assert merge["JobState"] == "COMPLETED" and book["JobState"] == "COMPLETED"
    assert _start(book) >= _end(merge)
    assert "nothing to submit" in chain["after_out"]                # a --resume now has nothing to do


def test_per_stage_resources_reach_the_jobs(chain):
    fr, first = chain["first_records"], chain["first"]
    for rec in fr[first["grid"][0]] + fr[first["finetune"][0]]:
        assert (rec["NumCPUs"], rec["MinMemoryNode"], rec["TimeLimit"], rec["Partition"], rec["Account"]) == \
            ("1", "1G", "00:30:00", "debug", "ci"), rec
    (merge,) = fr[first["merge"][0]]
    assert merge["TimeLimit"] == "00:10:00"                         # --merge-time: that stage only
    for stage in ("merge", "book"):
        assert "gres" not in fr[first[stage][0]][0].get("TRES", "")


def test_each_array_task_ran_its_own_shard(chain, checkout):
    out, ids = chain["out"], chain["ids"]
    grid = chain["first"]["grid"][0]
    for k in range(SHARDS):
        task = json.loads((out / "tasks" / f"shard-{k}-of-{SHARDS}.json").read_text())
        assert task["shard_index"] == k and task["num_shards"] == SHARDS
        assert task["n_images_in_task"] == len(ids[k::SHARDS])
        log = (checkout / LOGS / f"cam2seg-grid-{grid}_{k}.out").read_text()
        assert f"stage grid job" in log and f"array {grid}_{k} " in log
        if k == 0 or not chain["killed"]:
            assert f'"shard": "{k}/{SHARDS}"' in log
    # logs: one file per job and task under one folder; the job ids printed and written down
    names = {p.name for p in (checkout / LOGS).iterdir()}
    assert {f"cam2seg-grid-{grid}_0.out", f"cam2seg-grid-{grid}_1.out", "jobs.txt"} <= names
    assert f"cam2seg-book-{chain['third']['book'][0]}.out" in names
    assert f"grid: job {grid} (2 image shards)" in chain["first_out"] and "squeue --jobs=" in chain["first_out"]


def test_the_merged_table_equals_the_single_process_run(chain, reference):
    from cam2seg_utils.experiments.merge import load_table
    from cam2seg_utils.experiments.table import TIMING_COLUMNS

    table = load_table(chain["out"])
    assert not table.duplicated(subset=[c for c in KEY if c in table.columns]).any()
    assert sorted(table["image_id"].unique()) == chain["ids"]
    pd.testing.assert_frame_equal(table.drop(columns=TIMING_COLUMNS), reference.drop(columns=TIMING_COLUMNS))
    pd.testing.assert_frame_equal(table[EXACT], reference[EXACT], check_exact=True)
    summary = json.loads((chain["out"] / "run_summary.json").read_text())
    assert summary["complete"] and summary["num_shards"] == SHARDS and summary["n_images"] == 4
    assert (chain["out"] / "tables" / "individual.csv").is_file()


def test_the_bad_image_is_an_error_row_and_the_chain_went_on(chain):
    from cam2seg_utils.experiments.merge import load_table

    table = load_table(chain["out"])
    errors = table[table["error"].notna()]
    assert list(errors["image_id"].unique()) == [chain["bad"]]
    assert chain["bad"] in errors["error"].iloc[0]
    assert table[table["error"].isna()]["iou"].notna().all()


def test_the_killed_task_reran_only_what_was_missing(chain):
    if not chain["killed"]:
        pytest.skip("grid task 1 finished before it could be killed (a very fast machine)")
    task = json.loads((chain["out"] / "tasks" / f"shard-1-of-{SHARDS}.json").read_text())
    n_done = len(chain["done_before"])
    assert n_done >= 1                                              # killed after its first image
    assert task["images_resumed"] == n_done and task["encoder_calls"] == len(chain["task1"]) - n_done


def test_a_killed_merge_is_rerun_to_the_same_table(chain):
    if not chain["merge_killed"]:
        pytest.skip("the merge job finished before it could be killed (a very fast machine)")
    (merge,) = chain["second_records"][chain["second"]["merge"][0]]
    assert merge["JobState"] == "FAILED", merge
    (book,) = chain["second_records"][chain["second"]["book"][0]]
    assert book["JobState"] == "CANCELLED"
    assert set(chain["third"]) == {"merge", "book"}, chain["third_out"]   # the grid is not run again
    # the table the re-run merge wrote is the chain's table (checked against the reference above)


def test_the_book_job_ran_papermill_and_wrote_the_html(chain, checkout):
    book = chain["third"]["book"][0]
    log = (checkout / LOGS / f"cam2seg-book-{book}.out").read_text()
    assert "[book] executing 00_method" in log and "partial book (--only)" in log
    assert (checkout / "book" / "generated" / "00_method.ipynb").is_file()
    html = checkout / "_build" / "html" / "book" / "generated" / "00_method.html"
    assert html.is_file() and "Algorithm 1" in html.read_text(errors="replace")
    info = json.loads((checkout / "book" / "generated" / "build_info.json").read_text())
    assert info["parameters"]["profile"] == "smoke" and "00_method" in info["notebook_wall_time_s"]


def test_nothing_of_the_cluster_is_left_running(cluster, chain):
    pids = cluster.pids()
    cluster.stop()
    assert cluster.leftovers() == []
    for name, pid in pids.items():               # ended and reaped: no such process any more
        assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) still exists"

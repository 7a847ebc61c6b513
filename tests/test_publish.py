"""Published results snapshots (cam2seg_utils.publish): a real grid run (embedded EfficientNet-Lite0
+ LiteMedSAM on two tiny synthetic images) is published and read back; pixel data, foreign files
and unfinished runs are refused; a failed publish keeps the previous snapshot; the recorded
commands rebuild the run's exact config; the committed snapshots are valid and tracked by git.
The tests on the published run are slow (one real grid run, ~1-2 min on 2 busy cores)."""
from __future__ import annotations

import base64
import json
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cam2seg_utils import publish as pub
from cam2seg_utils.file_digest import file_sha256
from cam2seg_utils.experiments.engine import LoadedClassifier
from cam2seg_utils.experiments.merge import load_table
from cam2seg_utils.experiments.run import run_grid
from cam2seg_utils.profiles import get_profile

REPO = Path(__file__).resolve().parents[1]
LITE0 = "tf_efficientnet_lite0"


@pytest.fixture(scope="module")
def run(tmp_path_factory, embedded_classifier, litemedsam):
    """A finished zero-shot grid of the smoke profile on 2 synthetic test images (96-128 px)."""
    from cam2seg_utils.report.steps import ensure_data

    tmp = tmp_path_factory.mktemp("publish")
    cfg = get_profile("smoke", data_root=str(tmp / "data"), output_dir=str(tmp / "results" / "smoke"),
                      cache_dir=str(tmp / "cache"), checkpoint_dir=str(tmp / "ckpt"), max_images=2,
                      settings=["zero-shot"], cams=["gradcam"], prompt_variants=["box"],
                      gt_baselines=["gt-box", "whole-image-box"], progress=False)
    splits = ensure_data(cfg)
    lc = [LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")]
    run_grid(cfg, segmenter=litemedsam, classifiers=lc)
    return tmp, cfg, splits


@pytest.fixture(scope="module")
def snapshot(run):
    tmp, cfg, _ = run
    return pub.publish("smoke", source_dir=cfg.output_dir, dest=tmp / "published" / "smoke")


@pytest.mark.slow
def test_snapshot_holds_the_runs_tables_and_no_pixels(run, snapshot):
    tmp, cfg, splits = run
    files = sorted(p.relative_to(snapshot.folder).as_posix() for p in snapshot.folder.rglob("*") if p.is_file())
    assert {"grid.parquet", "images.csv", "run_summary.json", "README.md"} <= set(files)
    assert all(f in pub.TOP_FILES or f.startswith("tables/") for f in files)   # zero-shot run: no history
    assert "classification.csv" not in files
    pd.testing.assert_frame_equal(snapshot.grid, load_table(cfg.output_dir))
    assert sum(p.stat().st_size for p in snapshot.folder.rglob("*") if p.is_file()) < 100_000
    # dataset identity: every image and mask file digested, ids equal to the grid's
    ds = splits.test_dataset
    images = snapshot.images.set_index("image_id")
    assert sorted(images.index) == sorted(snapshot.grid["image_id"].unique()) == splits.test_ids
    for image_id, row in images.iterrows():
        assert row["image_sha256"] == file_sha256(ds.image_path(image_id))
        assert row["mask_sha256"] == file_sha256(ds.mask_path(image_id))
        assert row["melanoma"] == int(ds.labels.at[image_id, "melanoma"]) and row["split_folder"] == ds.split
    dataset = snapshot.published["dataset"]
    assert dataset["n_images"] == 2 and dataset["split"] == "Test" and dataset["name"].startswith("synthetic")
    assert dataset["labels_sha256"] == file_sha256(ds.csv_path)
    from cam2seg_utils.experiments.config import ExperimentConfig

    assert ExperimentConfig.from_dict(snapshot.summary["config"]).fingerprint() == cfg.fingerprint()
    assert snapshot.profile == "smoke"
    # the whole-image-box baseline is in the grid and in the summarize table, same value
    whole = snapshot.grid[snapshot.grid["setting"] == "whole-image-box"]
    assert len(whole) == 2
    gt_table = pd.read_csv(snapshot.folder / "tables" / "gt_baselines.csv").set_index("setting")
    assert gt_table.loc["whole-image-box", "iou"] == pytest.approx(whole["iou"].mean())
    readme = (snapshot.folder / "README.md").read_text()
    assert "No image, mask, heatmap or other pixel data" in readme
    assert snapshot.published["commands"][0] in readme


@pytest.mark.slow
def test_recorded_grid_command_rebuilds_the_runs_config(run, snapshot):
    from cam2seg_utils.cli import build_config, make_parser

    _, cfg, _ = run
    grid_cmd = next(c for c in snapshot.published["commands"] if " grid " in c)
    argv = shlex.split(grid_cmd)
    assert argv[:4] == ["python", "-m", "cam2seg_utils", "grid"]
    rebuilt = build_config(make_parser().parse_args(argv[3:]))
    assert rebuilt.fingerprint() == cfg.fingerprint()
    assert {k: v for k, v in rebuilt.to_dict().items() if k != "progress"} == \
           {k: v for k, v in cfg.to_dict().items() if k != "progress"}
    assert snapshot.published["commands"][-1].startswith("python -m cam2seg_utils publish --profile smoke --output-dir ")


@pytest.mark.slow
def test_tables_only_recomputes_the_tables_from_the_snapshots_grid(snapshot, tmp_path, capsys):
    """``publish --tables-only``: the tables of a snapshot recomputed from its own grid table,
    with no run folder and no data; everything else byte for byte as published."""
    import shutil

    from cam2seg_utils.cli import main

    folder = tmp_path / "smoke"
    shutil.copytree(snapshot.folder, folder)
    # as if published by older code that had no individual table
    (folder / "tables" / "individual.csv").unlink()
    summary = json.loads((folder / "run_summary.json").read_text())
    del summary["published"]["files"]["tables/individual.csv"]
    (folder / "run_summary.json").write_text(json.dumps(summary))
    pub.validate_snapshot(folder)
    kept = {n: (folder / n).read_bytes() for n in ("grid.parquet", "images.csv")}
    assert main(["publish", "--profile", "smoke", "--tables-only", "--dest", str(folder), "--quiet"]) == 0
    assert "snapshot" in capsys.readouterr().out
    again = pub.validate_snapshot(folder)               # the recorded digests are the new files'
    for name, data in kept.items():
        assert (folder / name).read_bytes() == data
    for p in (snapshot.folder / "tables").glob("*.csv"):
        assert (folder / "tables" / p.name).read_bytes() == p.read_bytes(), p.name   # the same code, the same tables
    assert again.published["tables_regenerated"]["from"].startswith("grid.parquet")
    assert "tables recomputed" in (folder / "README.md").read_text()
    assert not list(tmp_path.glob(".smoke.*"))           # no staging folder left behind


def _png_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _add_png(folder: Path) -> None:
    (folder / "example.png").write_bytes(_png_bytes())


def _png_named_csv(folder: Path) -> None:
    (folder / "tables" / "extra.csv").write_bytes(_png_bytes())


def _npy_named_csv(folder: Path) -> None:
    (folder / "history").mkdir(exist_ok=True)
    with open(folder / "history" / "m.csv", "wb") as fh:
        np.save(fh, np.zeros((8, 8), dtype=np.uint8))


def _encoded_pixels_in_csv(folder: Path) -> None:
    blob = base64.b64encode(np.zeros((64, 64, 3), dtype=np.uint8).tobytes()).decode()
    pd.DataFrame({"image_id": ["a"], "pixels": [blob]}).to_csv(folder / "tables" / "extra.csv", index=False)


def _mask_column_in_grid(folder: Path) -> None:
    g = pd.read_parquet(folder / "grid.parquet")
    g["mask"] = "x"
    g.to_parquet(folder / "grid.parquet", index=False)


def _edited_digest(folder: Path) -> None:
    images = pd.read_csv(folder / "images.csv", dtype={"image_id": str})
    images.loc[0, "image_sha256"] = "0" * 64
    images.to_csv(folder / "images.csv", index=False)


@pytest.mark.slow
@pytest.mark.parametrize("corrupt,message", [
    (_add_png, "not a snapshot file"),
    (_png_named_csv, "PNG image"),
    (_npy_named_csv, "numpy array"),
    (_encoded_pixels_in_csv, "not a tidy value"),
    (_mask_column_in_grid, "grid columns differ"),
    (_edited_digest, "SHA-256 differs"),
])
def test_validate_refuses_pixel_data_and_foreign_files(snapshot, tmp_path, corrupt, message):
    copy = tmp_path / "snap"
    shutil.copytree(snapshot.folder, copy)
    pub.validate_snapshot(copy)                      # the copy itself is fine
    corrupt(copy)
    with pytest.raises(pub.SnapshotError, match=message) as err:
        pub.validate_snapshot(copy)
    assert str(copy) in str(err.value)               # the message names the file


@pytest.mark.slow
def test_publish_copies_the_runs_hitl_results(run, tmp_path):
    """A run folder with ``hitl/`` results (a hand-made table of the runner's columns on the grid's
    images) publishes them under ``hitl/``, with the ``hitl`` command among the regeneration
    commands; a hitl table of a foreign image is refused, naming the file."""
    from cam2seg_utils.experiments.hitl import coerce_table

    _, cfg, _ = run
    source = tmp_path / "run"
    shutil.copytree(cfg.output_dir, source)
    image = sorted(load_table(source)["image_id"].unique())[0]
    rows = [{"image_id": image, "split": "x", "start": "gt-box", "start_detail": "", "mode": "box-edit", "click": k,
             "iou": 0.5 + 0.1 * k, "dice": 0.6, "click_x": float(k), "click_y": float(k),
             "click_positive": True if k else None, "action": "local", "t_step_s": 0.0, "gt_area_fraction": 0.3,
             "gt_border_fraction": 0.0, "error": None} for k in range(3)]
    (source / "hitl" / "tables").mkdir(parents=True)
    coerce_table(pd.DataFrame(rows)).to_parquet(source / "hitl" / "hitl.parquet", index=False)
    (source / "hitl" / "hitl_summary.json").write_text(json.dumps({"max_clicks": 2}))
    pd.DataFrame({"start": ["gt-box"], "noc@85": [2.0]}).to_csv(source / "hitl" / "tables" / "noc.csv", index=False)
    snap = pub.publish("smoke", source_dir=source, dest=tmp_path / "pub")
    assert sorted(p.name for p in (snap.folder / "hitl").iterdir()) == ["hitl.parquet", "hitl_summary.json", "noc.csv"]
    assert "hitl/hitl.parquet" in snap.published["files"]
    cmds = snap.published["commands"]
    assert cmds[-2] == "python -m cam2seg_utils hitl --profile smoke" and cmds[-1].startswith("python -m cam2seg_utils publish")
    foreign = coerce_table(pd.DataFrame([{**rows[0], "image_id": "not-an-image"}]))
    foreign.to_parquet(source / "hitl" / "hitl.parquet", index=False)
    with pytest.raises(pub.SnapshotError, match="images not in grid.parquet") as err:
        pub.publish("smoke", source_dir=source, dest=tmp_path / "pub2")
    assert "hitl.parquet" in str(err.value)


@pytest.mark.slow
def test_publish_refuses_unfinished_or_foreign_runs(run, tmp_path):
    _, cfg, _ = run
    src = tmp_path / "results" / "smoke"
    shutil.copytree(cfg.output_dir, src)
    with pytest.raises(pub.SnapshotError, match="of profile 'smoke', not 'embedded'"):
        pub.publish("embedded", source_dir=src, dest=tmp_path / "out")
    # drop one image: the grid no longer covers the config's evaluation ids
    grid = pd.read_parquet(src / "grid.parquet")
    first = sorted(grid["image_id"].unique())[0]
    grid = grid[grid["image_id"] != first]
    grid.to_parquet(src / "grid.parquet", index=False)
    summary = json.loads((src / "run_summary.json").read_text())
    summary.update(n_images=1, n_rows=len(grid))
    (src / "run_summary.json").write_text(json.dumps(summary))
    with pytest.raises(pub.SnapshotError, match="unfinished or foreign run"):
        pub.publish("smoke", source_dir=src, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(pub.SnapshotError, match="not found"):
        pub.publish("smoke", source_dir=tmp_path / "nothing", dest=tmp_path / "out")


@pytest.mark.slow
def test_failed_publish_keeps_the_previous_snapshot(run, snapshot, monkeypatch, tmp_path):
    _, cfg, _ = run
    dest = tmp_path / "published" / "smoke"
    first = pub.publish("smoke", source_dir=cfg.output_dir, dest=dest)
    before = {p.name: file_sha256(p) for p in dest.rglob("*") if p.is_file()}
    monkeypatch.setattr(pub, "MAX_SNAPSHOT_BYTES", 10)
    with pytest.raises(pub.SnapshotError, match="over the 10-byte limit"):
        pub.publish("smoke", source_dir=cfg.output_dir, dest=dest)
    assert {p.name: file_sha256(p) for p in dest.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["smoke"]      # no staging folder left
    assert first.published["dataset"] == snapshot.published["dataset"]


@pytest.mark.slow
def test_cli_publish(run, tmp_path, capsys):
    from cam2seg_utils.cli import main

    _, cfg, _ = run
    dest = tmp_path / "cli" / "smoke"
    assert main(["publish", "--profile", "smoke", "--output-dir", cfg.output_dir, "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"snapshot {dest}" in out and "2 images" in out
    assert pub.is_snapshot(dest) and not pub.is_snapshot(cfg.output_dir)
    assert pub.list_snapshots(dest.parent) == {"smoke": dest}


def test_committed_snapshots_are_valid_and_tracked():
    found = pub.list_snapshots(REPO / "results" / "published")
    if not found:
        pytest.skip("no snapshot under results/published")
    tracked = subprocess.run(["git", "ls-files", "results/published"], cwd=REPO, capture_output=True, text=True)
    for profile, folder in found.items():
        snap = pub.validate_snapshot(folder)
        assert snap.profile == profile and snap.summary["config"]["name"] == profile
        assert not str(snap.summary["git_commit"]).endswith("+dirty"), "published runs come from committed code"
        if tracked.returncode == 0 and tracked.stdout:
            assert f"results/published/{profile}/grid.parquet" in tracked.stdout.split("\n")

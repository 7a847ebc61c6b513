"""Issue 11, end to end on the smoke profile (tiny synthetic images, real embedded weights,
offline): results never mix or go stale.

1. a resumed grid refuses another fine-tuned checkpoint (naming the field), but not a moved one;
   the segmenter checkpoint and the results version are part of the identity too;
2. a fixed input is retried (error shards, changed files), counted in ``images_retried``;
3. ``summarize`` with a parameter the grid never ran refuses and leaves the tables alone;
4. a decompression bomb is a ``DataError`` naming the file;
and the smaller items: torch >= 2.6, a bad ``last.pt``, the demo's messages and its private
folder on SIGTERM, the slow-CAMs note.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cam2seg_utils.cli import main
from cam2seg_utils.data.isic import DataError, ISICDataset, load_image
from cam2seg_utils.experiments import identity as identity_mod
from cam2seg_utils.experiments.grid import LoadedClassifier, run_grid
from cam2seg_utils.experiments.identity import ResultsMismatchError, grid_identity
from cam2seg_utils.experiments.shards import ShardStore, shard_name
from cam2seg_utils.profiles import get_profile

LITE0 = "tf_efficientnet_lite0"
REPO = Path(__file__).resolve().parents[1]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: signature, IHDR, IEND (45 bytes, no pixel data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


def _write_config(tmp: Path, **extra) -> tuple[Path, dict]:
    overrides = {**dict(data_root=str(tmp / "data"), synthetic_train_images=3, synthetic_test_images=3,
                        cams=["gradcam"], prompt_variants=["box"], strategies=["algorithm1"], gt_baselines=["gt-box"],
                        seed=2,
                        cache_dir=str(tmp / "cache")), **extra}
    path = tmp / "exp.json"
    path.write_text(json.dumps({"profile": "smoke", **overrides}))
    assert main(["generate-data", "--config", str(path), "--quiet"]) == 0
    return path, overrides


def _clf(embedded_classifier):
    return [LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")]


# -------------------------------------------------------------------------------------- 1
def _finetuned_checkpoint(folder: Path, seed: int) -> Path:
    """A fine-tuning checkpoint in the format `finetune` writes: the embedded ImageNet backbone
    with a benign/melanoma head initialised from ``seed`` (two seeds: two different models)."""
    from cam2seg_utils.models import build_classifier, save_checkpoint

    torch.manual_seed(seed)
    clf = build_classifier(LITE0, weights="embedded", num_classes=2)
    return save_checkpoint(clf, folder / LITE0 / "best.pt", name=LITE0, num_classes=2,
                           class_names=["benign", "melanoma"])


@pytest.mark.slow
def test_resume_refuses_other_finetuned_weights_and_accepts_moved_ones(tmp_path, capsys):
    cfg_file, _ = _write_config(tmp_path, settings=["fine-tuned"], synthetic_test_images=2)
    a, b = tmp_path / "ckpt-a", tmp_path / "ckpt-b"
    _finetuned_checkpoint(a, 1)
    _finetuned_checkpoint(b, 2)
    out = tmp_path / "results"
    grid = ["grid", "--config", str(cfg_file), "--output-dir", str(out), "--quiet"]
    assert main(grid + ["--checkpoint-dir", str(a)]) == 0
    shards = sorted((out / "shards").glob("*.parquet"))
    shards[-1].unlink()                              # what a run killed before its last image leaves
    capsys.readouterr()

    assert main(grid + ["--checkpoint-dir", str(b)]) == 2
    err = capsys.readouterr().err
    assert f"fine-tuned weights of {LITE0} differ: {a / LITE0 / 'best.pt'} (sha256 " in err
    assert f"vs {b / LITE0 / 'best.pt'} (sha256 " in err
    assert len(list((out / "shards").glob("*.parquet"))) == 1      # nothing of model B was written

    moved = tmp_path / "moved"                                       # same file, another folder
    shutil.copytree(a, moved)
    assert main(grid + ["--checkpoint-dir", str(moved)]) == 0
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["images_resumed"] == 1 and summary["encoder_calls"] == 1
    import pandas as pd

    table = pd.read_parquet(out / "grid.parquet")
    weights = table.loc[table["setting"] == "fine-tuned", "weights"].unique().tolist()
    assert len(weights) == 1 and weights[0].startswith("best.pt@sha256:")   # one model's rows only


def test_identity_covers_segmenter_checkpoint_and_results_version(tmp_path, monkeypatch):
    from cam2seg_utils.segmenters.litemedsam import shipped_checkpoint_path

    cfg = get_profile("smoke", settings=["zero-shot"], output_dir=str(tmp_path / "out"))
    ids = ["ISIC_0000000", "ISIC_0000001"]
    store = ShardStore(cfg.output_dir)
    store.claim(*grid_identity(cfg, ids, "Test"))
    # the shipped LiteMedSAM weights with one tensor changed: another segmenter checkpoint
    state = torch.load(shipped_checkpoint_path(), map_location="cpu", weights_only=True)
    key = next(k for k, v in state.items() if torch.is_tensor(v) and v.is_floating_point())
    state[key] = state[key] + 1e-3
    other = tmp_path / "lite_medsam_other.pth"
    torch.save(state, other)
    with pytest.raises(ResultsMismatchError, match=rf"segmenter checkpoint of litemedsam differs: "
                                                   rf".*lite_medsam\.pth \(sha256 \w+\) vs {re.escape(str(other))}"):
        store.claim(*grid_identity(cfg.replace(segmenter_checkpoint=str(other)), ids, "Test"))
    copy = tmp_path / "copy_of_shipped.pth"                          # same bytes elsewhere: same run
    shutil.copyfile(shipped_checkpoint_path(), copy)
    store.claim(*grid_identity(cfg.replace(segmenter_checkpoint=str(copy)), ids, "Test"))
    with pytest.raises(ResultsMismatchError, match=r"evaluated images differ: 2 vs 1 ids; only in the stored "
                                                   r"run: ISIC_0000001"):
        store.claim(*grid_identity(cfg, ids[:1], "Test"))
    monkeypatch.setattr(identity_mod, "RESULTS_VERSION", identity_mod.RESULTS_VERSION + 1)
    with pytest.raises(ResultsMismatchError, match=r"results version differs: the folder was started with "
                                                   rf"version {identity_mod.RESULTS_VERSION - 1}"):
        store.claim(*grid_identity(cfg, ids, "Test"))
    # a folder written before identities existed (fingerprint + config only) is refused too
    store.identity_path.write_text(json.dumps({"fingerprint": "0" * 64, "config": cfg.to_dict()}))
    with pytest.raises(ResultsMismatchError, match=r"results version differs: .*none \(written by an older"):
        store.claim(*grid_identity(cfg, ids, "Test"))


# -------------------------------------------------------------------------------------- 2 + 4
@pytest.mark.slow
def test_fixed_inputs_are_retried_and_bombs_are_named(tmp_path, embedded_classifier, litemedsam, capsys):
    cfg_file, overrides = _write_config(tmp_path, settings=["zero-shot"])
    cfg = get_profile("smoke", **overrides, output_dir=str(tmp_path / "results"), progress=False)
    ds = ISICDataset(cfg.data_root, "Test")
    bombed, unmasked, changed = ds.ids
    image_bytes = ds.image_path(bombed).read_bytes()
    mask_bytes = ds.mask_path(unmasked).read_bytes()
    ds.image_path(bombed).write_bytes(_png_header(20000, 20000))   # a decompression bomb
    ds.mask_path(unmasked).unlink()                                # a missing mask

    def grid():
        return run_grid(cfg, segmenter=litemedsam, classifiers=_clf(embedded_classifier), dataset=ds)

    first = grid()
    errors = first.table[first.table["error"].notna()].set_index("image_id")["error"]
    assert sorted(errors.index) == [bombed, unmasked]
    assert str(ds.image_path(bombed)) in errors[bombed] and "decompression bomb" in errors[bombed]
    assert str(ds.mask_path(unmasked)) in errors[unmasked]
    before = first.table[first.table["image_id"] == changed].reset_index(drop=True)

    # 2: fix both inputs and replace the third image by its mirror image
    ds.image_path(bombed).write_bytes(image_bytes)
    ds.mask_path(unmasked).write_bytes(mask_bytes)
    with Image.open(ds.image_path(changed)) as im:
        mirrored = np.ascontiguousarray(np.asarray(im)[:, ::-1])
    Image.fromarray(mirrored).save(ds.image_path(changed), quality=95)
    with Image.open(ds.mask_path(changed)) as m:
        Image.fromarray(np.ascontiguousarray(np.asarray(m)[:, ::-1])).save(ds.mask_path(changed))
    second = grid()
    s = second.summary
    assert s["images_retried"] == 3 and s["images_resumed"] == 0 and s["encoder_calls"] == 3
    assert {r["image_id"]: r["reason"] for r in s["retried"]} == {
        bombed: "error", unmasked: "error", changed: "input changed"}
    assert s["n_errors"] == 0 and second.table["error"].isna().all()
    after = second.table[second.table["image_id"] == changed].reset_index(drop=True)
    width = mirrored.shape[1]
    row_b, row_a = before[before["setting"] == "gt-box"].iloc[0], after[after["setting"] == "gt-box"].iloc[0]
    assert row_a["box_x0"] == width - 1 - row_b["box_x1"]         # computed from the new file

    third = grid()                                                 # nothing left to do
    assert (third.counters.images_resumed, third.counters.images_retried, third.counters.encoder_calls) == (3, 0, 0)
    assert third.summary == second.summary                         # the run summary of the work done

    # the slow-CAMs note: none configured -> no note (the CLI prints none either)
    assert third.summary["slow_cams"] == [] and third.summary["slow_cams_note"] is None
    capsys.readouterr()
    assert main(["grid", "--config", str(cfg_file), "--output-dir", cfg.output_dir, "--quiet",
                 "--set", "settings=[zero-shot]"]) == 0
    assert "slow CAMs" not in capsys.readouterr().out


def test_loader_refuses_decompression_bombs_naming_the_file(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(20000, 20000))                    # 400 MP: PIL's own limit
    with pytest.raises(DataError, match=rf"{re.escape(str(bomb))}: image file claims more pixels"):
        load_image(bomb)
    big = tmp_path / "big.png"
    big.write_bytes(_png_header(9000, 7000))                       # 63 MP: the loader's limit
    with pytest.raises(DataError, match=rf"{re.escape(str(big))}: image of 9000x7000 pixels \(63 megapixels\) "
                                        r"exceeds the loader's limit of 50 megapixels"):
        load_image(big)
    import cam2seg_utils.data.isic as isic

    monkeypatch.setattr(isic, "MAX_PIXELS", 100)                  # the documented knob
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((11, 10, 3), np.uint8)).save(small)
    with pytest.raises(DataError, match="10x11 pixels"):
        load_image(small)


# -------------------------------------------------------------------------------------- 3
@pytest.mark.slow
def test_summarize_refuses_parameters_the_grid_never_ran(tmp_path, embedded_classifier, litemedsam, capsys):
    cfg_file, overrides = _write_config(tmp_path, settings=["zero-shot"], synthetic_test_images=2)
    out = tmp_path / "results"
    cfg = get_profile("smoke", **overrides, output_dir=str(out), progress=False)
    run_grid(cfg, segmenter=litemedsam, classifiers=_clf(embedded_classifier))
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


# -------------------------------------------------------------------------------------- also
class Payload:
    """Any object that is not a tensor or a plain value (``weights_only`` refuses it)."""


def test_torch_floor_is_2_6_where_weights_only_holds():
    text = (REPO / "pyproject.toml").read_text() + (REPO / "environment.yml").read_text()
    floors = re.findall(r"torch>=([\d.]+),<=2\.14\.1", text)
    assert floors == ["2.6", "2.6"]                               # pyproject and environment.yml
    major, minor = (int(x) for x in torch.__version__.split(".")[:2])
    assert (major, minor) >= (2, 6)


def test_bad_resume_state_is_a_data_error_naming_the_file(tmp_path):
    from cam2seg_utils.data.synthetic import generate_synthetic
    from cam2seg_utils.experiments.finetune import finetune

    root = generate_synthetic(tmp_path / "data", n_images=4, seed=1, melanoma_fraction=0.5,
                              size_range=(64, 80), progress=False)
    ds = ISICDataset(root, "Training")
    by_class = {c: [i for i in ds.ids if ds.labels.at[i, "melanoma"] == c] for c in (0, 1)}
    train = [by_class[0][0], by_class[1][0]]
    val = [i for i in ds.ids if i not in train]
    out = tmp_path / "ft"
    out.mkdir()
    for content, why in ((b"PK\x03\x04 truncated", "corrupt or truncated"),
                         ({"run_identity": Payload()}, "holds objects other than tensors")):
        if isinstance(content, bytes):
            (out / "last.pt").write_bytes(content)
        else:
            torch.save(content, out / "last.pt")
        with pytest.raises(DataError) as err:
            finetune(LITE0, ds, train, val, out, epochs=1, input_size=64, progress=False)
        msg = str(err.value)
        assert msg.startswith(f"{out / 'last.pt'}: not a fine-tuning resume state") and why in msg
        assert "--no-resume" in msg and "weights_only" not in msg


def test_demo_messages_hide_server_paths(tmp_path):
    from cam2seg_utils.demo.app import launch_kwargs
    from cam2seg_utils.demo.resources import DemoConfig
    from cam2seg_utils.demo.state import ImageRejected, load_image_file, redact_paths

    upload = tmp_path / "gradio" / "0123abcd" / "lesion.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"not an image at all")
    with pytest.raises(ImageRejected) as err:
        load_image_file(upload, display_name="lesion.png")
    assert str(err.value).startswith("lesion.png: not a readable image") and str(tmp_path) not in str(err.value)
    msg = redact_paths("medsam_vit_b.pth not found at /home/ana/.cache/cam2seg/medsam_vit_b.pth; "
                       "see https://github.com/bowang-lab/MedSAM (ratio 1/2)")
    assert msg == "medsam_vit_b.pth not found at medsam_vit_b.pth; see https://github.com/bowang-lab/MedSAM (ratio 1/2)"
    assert launch_kwargs(DemoConfig())["show_error"] is False     # other exceptions: no message at all


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_removes_its_private_folder_on_sigterm(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    env.update(TMPDIR=str(tmpdir), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "cam2seg_utils.demo", "--port", str(port),
                             "--no-hub-classifiers", "--examples-dir", str(tmp_path / "examples")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        private = list(tmpdir.glob("cam2seg-demo-*"))
        assert len(private) == 1 and private[0].is_dir()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert not private[0].exists()

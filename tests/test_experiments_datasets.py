"""experiments/datasets.py: which images a run evaluates; PH2 as an external test set, run through
`grid --dataset ph2` end to end (real LiteMedSAM, real embedded Lite0) on a folder written here in
PH2's layout, and never fine-tuned on."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cam2seg_utils.cli import main
from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.experiments.datasets import check_trainable, evaluation_ids, resolve_splits
from cam2seg_utils.file_digest import file_sha256
from cam2seg_utils.profiles import get_profile
from conftest import write_ph2_folder

LITE0 = "tf_efficientnet_lite0"


def _isic_checkpoint(folder: Path) -> Path:
    """A checkpoint in the format `finetune --profile isic-official` writes (<dir>/<model>/best.pt:
    the embedded ImageNet backbone with a seeded benign/melanoma head). It stands in for the real
    ISIC-fine-tuned file, which this machine may not have; the test checks that the fine-tuned
    setting evaluates *that file* on PH2, not what the head has learnt."""
    import torch

    from cam2seg_utils.models import build_classifier, save_checkpoint

    torch.manual_seed(0)
    clf = build_classifier(LITE0, weights="embedded", num_classes=2)
    return save_checkpoint(clf.model, folder / LITE0 / "best.pt", name=LITE0, num_classes=2,
                           class_names=["benign", "melanoma"])


def test_ph2_config_evaluates_every_image_and_is_never_trained_on(tmp_path):
    root = tmp_path / "PH2Dataset"
    write_ph2_folder(root)
    cfg = get_profile("ph2", data_root=str(root))
    assert cfg.dataset == "ph2" and cfg.checkpoint_dir == "checkpoints/isic-official" and cfg.max_images is None
    assert cfg.settings == ["zero-shot", "fine-tuned"]
    dataset, ids, split = evaluation_ids(cfg)
    assert ids == ["IMD002", "IMD003", "IMD010"] and split == "PH2" and type(dataset).__name__ == "PH2Dataset"
    assert evaluation_ids(cfg.replace(max_images=2))[1] == ["IMD002", "IMD003"]
    for call in (check_trainable, resolve_splits):
        with pytest.raises(ValueError, match="dataset 'ph2' is for evaluation only: cam2seg never fine-tunes on PH2"):
            call(cfg)
    with pytest.raises(ValueError, match="dataset 'ph2' is evaluated whole .* evaluate_on must be 'test'"):
        cfg.replace(evaluate_on="val")
    with pytest.raises(ValueError, match="test_holdout_fraction None \\(got 0.2\\)"):
        get_profile("local-isic", dataset="ph2")
    with pytest.raises(ValueError, match="dataset must be one of synthetic, isic, ph2, got 'ham'"):
        ExperimentConfig(dataset="ham")


def test_finetune_on_ph2_and_a_missing_isic_checkpoint_are_one_line_errors(tmp_path, capsys):
    root = tmp_path / "PH2Dataset"
    write_ph2_folder(root)
    out = tmp_path / "ft"
    assert main(["finetune", "--profile", "ph2", "--data-root", str(root), "--output-dir", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cam2seg: error: dataset 'ph2' is for evaluation only") and err.count("\n") == 1
    assert "cam2seg finetune --profile isic-official" in err and not out.exists()
    assert main(["finetune", "--dataset", "ph2", "--data-root", str(root), "--output-dir", str(out)]) == 2
    assert "for evaluation only" in capsys.readouterr().err
    # the grid before the ISIC fine-tuning: one line saying where the checkpoint comes from
    none = tmp_path / "no-checkpoints"
    assert main(["grid", "--profile", "ph2", "--data-root", str(root), "--output-dir", str(out),
                 "--checkpoint-dir", str(none), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (f"cam2seg: error: fine-tuned checkpoint {none / LITE0 / 'best.pt'} for {LITE0} not found: "
                   "fine-tune on ISIC 2017 first (`cam2seg finetune --profile isic-official`), or point "
                   "--checkpoint-dir at ISIC-fine-tuned checkpoints, or evaluate zero-shot only "
                   "(--set 'settings=[zero-shot]')\n")
    assert not out.exists()


@pytest.mark.slow
def test_grid_dataset_ph2_zero_shot_and_isic_finetuned(tmp_path, capsys):
    from cam2seg_utils.models import describe_embedded_weights
    from cam2seg_utils.segmenters.litemedsam import describe_shipped_checkpoint

    root = tmp_path / "PH2Dataset"
    write_ph2_folder(root)
    ckpt = _isic_checkpoint(tmp_path / "isic-ckpt")
    out = tmp_path / "results-ph2"
    args = ["--profile", "ph2", "--dataset", "ph2", "--data-root", str(root), "--output-dir", str(out),
            "--checkpoint-dir", str(tmp_path / "isic-ckpt"), "--cams", "gradcam", "--strategies", "algorithm1",
            "image-prior", "--prompt-variants", "box", "--set", "gt_baselines=[gt-box, whole-image-box]",
            "--set", f"cache_dir={tmp_path / 'cache'}", "--quiet"]
    assert main(["grid", *args]) == 0, capsys.readouterr().err
    table = pd.read_parquet(out / "grid.parquet")
    assert table["error"].isna().all() and set(table["split"]) == {"PH2"}
    assert sorted(table["image_id"].unique()) == ["IMD002", "IMD003", "IMD010"]
    assert set(table["setting"]) == {"zero-shot", "fine-tuned", "gt-box", "whole-image-box", "no-classifier"}
    ft = table[table["setting"] == "fine-tuned"]
    assert set(ft["weights"]) == {f"best.pt@sha256:{file_sha256(ckpt)[:12]}"}
    assert set(table.loc[table["setting"] == "zero-shot", "weights"]) == {"embedded"}
    # the ground-truth box on these discs: LiteMedSAM finds each lesion (IoU per image)
    gt = table[table["setting"] == "gt-box"].set_index("image_id")["iou"]
    assert len(gt) == 3 and (gt > 0.95).all(), gt.to_dict()      # measured: 0.994, 0.997, 0.997
    # one row per image, setting and CAM for Algorithm 1's box and the CAM-only mask
    a1 = table[(table["strategy"] == "algorithm1") & table["setting"].isin(["zero-shot", "fine-tuned"])]
    assert len(a1) == 3 * 2 * 2 and set(a1["prompt_variant"]) == {"box", "cam-mask"}

    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["split"] == "PH2" and summary["n_images"] == 3 and summary["n_errors"] == 0
    # provenance: packages, versions and SHA-256, no path of this machine's site-packages
    assert summary["segmenter_checkpoint"]["file"] == describe_shipped_checkpoint()
    zs = [c for c in summary["classifiers"] if c["setting"] == "zero-shot"]
    assert zs[0]["weights"] == f"embedded: {describe_embedded_weights()}"
    assert "site-packages" not in json.dumps(summary["classifiers"]) + json.dumps(summary["segmenter_checkpoint"])

    assert main(["summarize", *args]) == 0, capsys.readouterr().err
    baselines = pd.read_csv(out / "tables" / "gt_baselines.csv")
    assert "gt-box" in set(baselines["setting"]) and "whole-image-box" in set(baselines["setting"])
    # a published snapshot names the data PH2, with its digests, and no local weights path
    snap = tmp_path / "snap"
    assert main(["publish", "--profile", "ph2", "--data-root", str(root), "--output-dir", str(out),
                 "--dest", str(snap)]) == 0, capsys.readouterr().err
    ds = json.loads((snap / "run_summary.json").read_text())["published"]["dataset"]
    assert (ds["name"], ds["split"], ds["n_images"], ds["n_melanoma"], ds["labels_csv"]) == (
        "PH2", "PH2", 3, 1, "PH2_dataset.txt")
    readme = (snap / "README.md").read_text()
    assert "PH2 (Mendonça et al., EMBC 2013)" in readme and describe_shipped_checkpoint() in readme
    assert "site-packages" not in readme

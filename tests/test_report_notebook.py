"""A page's configuration from its papermill parameters (cam2seg_utils.report.notebook)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.publish import load_snapshot
from cam2seg_utils.report import notebook as nb
from cam2seg_utils.report import steps
from cam2seg_utils.report.provenance import snapshot_of


def test_config_from_parameters_maps_notebook_parameters():
    cfg = nb.config_from_parameters("smoke", n_images=3, percentile=80, cams="gradcam", models=None, seed=None)
    assert cfg.max_images == 3 and cfg.percentile == [80.0] and cfg.cams == ["gradcam"]
    base = nb.config_from_parameters("smoke")
    assert cfg.models == base.models and cfg.seed == base.seed
    # a changed configuration gets its own results folder beside the profile's (same heatmap cache)
    assert cfg.output_dir.startswith(base.output_dir + "-") and cfg.output_dir.endswith(cfg.fingerprint()[:8])
    assert Path(cfg.output_dir).parent == Path(base.output_dir).parent
    assert nb.config_from_parameters("smoke", device="cpu").output_dir == base.output_dir
    assert nb.config_from_parameters("smoke", n_images=3, output_dir="/tmp/x").output_dir == "/tmp/x"
    with pytest.raises(KeyError, match="n_images"):
        nb.config_from_parameters("smoke", n_imgs=3)


def test_notebook_parameters_are_the_config_fields():
    assert nb.NOTEBOOK_PARAMETERS == ("profile", "dataset", "data_root", "device", "models", "cams", "n_images",
                                      "percentile", "num_points", "amplification", "epochs", "patience", "seed",
                                      "output_dir")
    fields = set(ExperimentConfig.__dataclass_fields__)
    assert set(nb.PARAMETER_FIELDS.values()) <= fields
    # a notebook source run as it is (no parameters cell filled in) is the default profile
    assert nb.notebook_config({}).name == nb.DEFAULT_PROFILE == "embedded"


def test_published_config_reads_the_snapshot_without_running(monkeypatch, local_isic_snapshot):
    folder = local_isic_snapshot
    snap = load_snapshot(folder)
    cfg = nb.notebook_config({"profile": "local-isic", "published": str(folder), "device": None, "n_images": None})
    assert cfg.name == "local-isic" and cfg.output_dir == str(folder) and snapshot_of(cfg) is not None
    # the page's config is the run's config (run_summary's config_fingerprint is the grid identity:
    # config + weights + images + results version, checked by publish.validate)
    assert cfg.fingerprint() == ExperimentConfig.from_dict(snap.summary["config"]).fingerprint()
    monkeypatch.setattr(steps, "ensure_data", lambda c: pytest.fail("a published page must not touch the data"))
    pd.testing.assert_frame_equal(steps.ensure_grid(cfg), snap.grid)
    with pytest.raises(ValueError, match="takes no experiment parameters"):
        nb.notebook_config({"profile": "local-isic", "published": str(folder), "n_images": 3})
    with pytest.raises(ValueError, match="is of profile 'local-isic', not 'paper'"):
        nb.notebook_config({"profile": "paper", "published": str(folder)})


def test_show_shortens_the_selection_labels():
    from cam2seg_utils.experiments import summary

    html = nb.show(pd.DataFrame({"selection": [summary.ORACLE, summary.PREDICTED_IOU], "Wilcoxon p": [0.01234, 1.0],
                                 "iou": [0.12345, float("nan")]})).to_html()
    assert "oracle (GT used)" in html and "predicted IoU (no GT)" in html and summary.ORACLE not in html
    assert "0.123" in html and "0.012" in html and "–" in html

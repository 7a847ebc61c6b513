"""A page's configuration from its papermill parameters (cam2seg_utils.report.notebook)."""
from __future__ import annotations

import re
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


def test_a_published_page_validates_its_snapshot_once(monkeypatch, local_isic_snapshot):
    """Every module of a page asks for the snapshot (config, grid, history, provenance, recompute):
    its files are read and re-hashed once."""
    import cam2seg_utils.publish as publish
    from cam2seg_utils.report import provenance

    calls = []
    real = publish.validate_snapshot
    monkeypatch.setattr(publish, "validate_snapshot", lambda folder: calls.append(folder) or real(folder))
    monkeypatch.setattr(publish, "_LOADED", {})
    cfg = nb.notebook_config({"profile": "local-isic", "published": str(local_isic_snapshot)})
    grid = steps.ensure_grid(cfg)
    steps.training_history(cfg)
    for _ in range(5):
        assert snapshot_of(cfg) is not None
    provenance.regenerate_note(cfg)
    assert len(calls) == 1 and len(grid) == len(snapshot_of(cfg).grid)


def test_show_shortens_the_selection_labels():
    from cam2seg_utils.experiments import summary

    html = nb.show(pd.DataFrame({"selection": [summary.ORACLE, summary.PREDICTED_IOU], "Wilcoxon p": [0.01234, 1.0],
                                 "iou": [0.12345, float("nan")]})).to_html()
    assert "oracle (GT used; RandomCAM among the candidates)" in html and summary.ORACLE not in html
    assert "predicted IoU (no GT; RandomCAM among the candidates)" in html
    assert "0.123" in html and "0.012" in html and "–" in html


def test_show_formats_counts_p_values_and_small_n_as_the_book_promises():
    """Counts as whole numbers (never `8.000`), one p-value format (`0.012`, `< 0.001`), no raw
    `nan`, and no p-value below 5 pairs."""
    df = pd.DataFrame({"model": ["a", "b", "c"], "n": [1.0, 12.0, 40.0], "best_epoch": [8.0, 3.0, float("nan")],
                       "passes": [583.0, 2.0, 7.0], "iou": [0.5, 1.0, 0.25],
                       "Wilcoxon p": [0.2, 1.2e-06, 0.01234], "p_vs_reference": [0.5, 0.0004, float("nan")]})
    assert nb.integer_columns(df) == ["n", "best_epoch", "passes"]
    html = nb.show(df).to_html()
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    rows = [cells[i:i + 7] for i in range(0, len(cells), 7)]
    assert rows[0] == ["a", "1", "8", "583", "0.500", "n too small", "n too small"]
    assert rows[1] == ["b", "12", "3", "2", "1.000", "&lt; 0.001", "&lt; 0.001"]
    assert rows[2] == ["c", "40", "–", "7", "0.250", "0.012", "–"]
    assert "nan" not in html and "e-06" not in html

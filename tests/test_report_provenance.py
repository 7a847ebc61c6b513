"""The provenance box and published snapshots (cam2seg_utils.report.provenance)."""
from __future__ import annotations

from cam2seg_utils.profiles import get_profile
from cam2seg_utils.report import provenance


def test_provenance_names_the_slow_cam_parameters_in_words():
    cfg = get_profile("local-isic")
    assert provenance.slow_cam_label(cfg) == "ScoreCAM on top 64 channels by variance; AblationCAM on every channel"
    cfg.scorecam_channels, cfg.ablation_ratio = None, 0.25
    assert provenance.slow_cam_label(cfg) == "ScoreCAM on every channel; AblationCAM on upstream's channel subset, ratio 0.25"


def test_weights_map_and_dataset_label():
    cfg = get_profile("smoke")
    weights = provenance.weights_map(cfg)
    assert set(weights) == set(cfg.models)
    for m, text in weights.items():
        assert f"zero-shot: {cfg.zero_shot_weights}" in text and str(cfg.finetuned_checkpoint(m)) in text
    assert provenance.dataset_label(cfg) == f"synthetic ({cfg.data_root})"


def test_a_published_page_shows_the_runs_provenance(monkeypatch, local_isic_snapshot):
    shown: list[str] = []
    monkeypatch.setattr(provenance.viz, "display_markdown", shown.append)
    cfg = provenance.published_config(local_isic_snapshot)
    snap = provenance.snapshot_of(cfg)
    provenance.provenance(cfg, n_images=0)
    box, note = shown
    ds = snap.published["dataset"]
    assert "Provenance: profile `local-isic`" in box and f"{ds['n_images']} images" in box
    assert str(snap.summary["git_commit"])[:12] in box and "published snapshot" in box
    assert "not comparable to the paper" not in box                # real data: no synthetic banner
    assert note.startswith("This page renders the published snapshot") and snap.published["commands"][0] in note
    assert provenance.snapshot_of(get_profile("smoke")) is None

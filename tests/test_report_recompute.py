"""Figures recomputed from pixels only from the images a result was computed on
(cam2seg_utils.report.recompute)."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.report import recompute, table1
from cam2seg_utils.report.provenance import FigureUnavailable, published_config
from cam2seg_utils.report.steps import ensure_grid


def test_published_figures_need_matching_local_images(tmp_path, monkeypatch, local_isic_snapshot):
    from PIL import Image

    from cam2seg_utils.publish import load_snapshot

    folder = local_isic_snapshot
    cfg = published_config(folder).replace(data_root=str(tmp_path / "absent"))
    monkeypatch.setenv("CAM2SEG_ISIC_ROOT", str(tmp_path / "absent"))
    with pytest.raises(FigureUnavailable, match="never committed"):
        table1.heatmaps_for_image(cfg, ensure_grid(cfg))
    # a local folder whose file differs from the one the snapshot used is refused, naming the file
    snap = load_snapshot(folder)
    image_id = sorted(snap.images["image_id"])[0]
    root = tmp_path / "other"
    (root / "ISIC-2017_Training_Data").mkdir(parents=True)
    (root / "ISIC-2017_Training_Part1_GroundTruth").mkdir()
    Image.fromarray(np.full((32, 32, 3), 120, np.uint8)).save(root / "ISIC-2017_Training_Data" / f"{image_id}.jpg")
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(
        root / "ISIC-2017_Training_Part1_GroundTruth" / f"{image_id}_segmentation.png")
    (root / "ISIC-2017_Training_Part3_GroundTruth.csv").write_text(
        f"image_id,melanoma,seborrheic_keratosis\n{image_id},0,0\n")
    monkeypatch.setenv("CAM2SEG_ISIC_ROOT", str(root))
    with pytest.raises(FigureUnavailable, match=f"{image_id}.jpg differs from the file the snapshot"):
        recompute.figure_samples(cfg)(image_id)
    # checkpoints are not published: without the very checkpoint the grid used, zero-shot
    here = recompute.checkpoint_matches(cfg, "tf_efficientnet_lite0", snap.grid)
    assert recompute.figure_setting(cfg, snap.grid) == ("fine-tuned" if here else "zero-shot", "tf_efficientnet_lite0")

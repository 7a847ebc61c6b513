"""The grid's heatmaps (``GridEngine.heatmap``, experiments/engine.py): CAM-resolution cache entries, a full-size image
through every paper CAM, the CAM parameters in every row, the ``max_side`` route."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cam2seg_utils.cams import compute_heatmap
from cam2seg_utils.data.isic import Sample
from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.names import PAPER_CAMS
from cam2seg_utils.experiments.engine import LoadedClassifier, params_key
from cam2seg_utils.experiments.run import run_grid
from cam2seg_utils.experiments.table import CAM_PARAM_COLUMNS, TIMING_COLUMNS
from cam2seg_utils.metrics import segmentation_metrics
from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
from cam2seg_utils.seeding import make_rng

LITE0 = "tf_efficientnet_lite0"


class InMemoryDataset:
    """The grid's dataset interface (``ids``, ``load``) over samples held in memory."""

    def __init__(self, samples: list[Sample]) -> None:
        self.samples = {s.image_id: s for s in samples}
        self.ids = sorted(self.samples)

    def load(self, image_id: str) -> Sample:
        return self.samples[image_id]


def _upscaled_disk(height: int, width: int, image_id: str) -> Sample:
    from PIL import Image

    from conftest import synthetic_disk_image

    image, mask = synthetic_disk_image()  # 320 x 240, a dark lesion on skin
    big = np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BICUBIC))
    big_mask = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((width, height),
                                                                               Image.Resampling.NEAREST)) > 127
    return Sample(image_id, big, big_mask, 0)


def _config(tmp, name: str, cache: str, **kw) -> ExperimentConfig:
    # the CAM / heatmap path alone: Algorithm 1 rows (the strategies have their own grid test)
    base = dict(name=name, settings=["zero-shot"], models=[LITE0], cams=list(PAPER_CAMS), prompt_variants=["box"],
                strategies=["algorithm1"], gt_baselines=["gt-box"], output_dir=str(tmp / name), cache_dir=str(tmp / cache), progress=False,
                seed=3, cam_batch_size=64)
    base.update(kw)
    return ExperimentConfig(**base)


def _small_input(embedded_classifier, size: int = 96):
    """The embedded Lite0 weights at a 96 px input (3 x 3 CAM): ScoreCAM / AblationCAM stay cheap."""
    clf = dataclasses.replace(embedded_classifier, input_size=(size, size))
    return clf, [LoadedClassifier("zero-shot", LITE0, clf, "embedded", f"embedded@{size}")]


@pytest.mark.slow
def test_full_size_image_through_every_paper_cam(tmp_path, embedded_classifier, litemedsam):
    """A 4000 x 3000 image: the grid finishes with every paper CAM, each cache entry is a few
    hundred bytes, a second run reading them gives the same table, and every CAM-mask row equals
    a direct, cache-less computation at the image size (extractor heatmap -> Algorithm 1)."""
    clf, lc = _small_input(embedded_classifier)
    ds = InMemoryDataset([_upscaled_disk(3000, 4000, "BIG_0000001")])
    first = run_grid(_config(tmp_path, "first", "cache"), segmenter=litemedsam, classifiers=lc, dataset=ds)
    assert first.summary["n_errors"] == 0 and first.summary["cam_calls"] == len(PAPER_CAMS)
    entries = list((tmp_path / "cache").rglob("*.npz"))
    assert len(entries) == len(PAPER_CAMS)
    assert max(p.stat().st_size for p in entries) < 4096  # vs 48 MB for a float32 4000 x 3000 map

    cfg2 = _config(tmp_path, "second", "cache")
    second = run_grid(cfg2, segmenter=litemedsam, classifiers=lc, dataset=ds)
    assert second.summary["cam_calls"] == 0 and second.summary["cam_cache_hits"] == len(PAPER_CAMS)
    pd.testing.assert_frame_equal(first.table.drop(columns=TIMING_COLUMNS), second.table.drop(columns=TIMING_COLUMNS))

    sample = ds.load("BIG_0000001")
    rows = first.table[first.table["prompt_variant"] == "cam-mask"].set_index("cam")
    assert sorted(rows.index) == sorted(PAPER_CAMS)
    p = PromptParams()
    for cam in PAPER_CAMS:
        heat = compute_heatmap(clf, sample.image, cam, rng=make_rng(cfg2.seed, "BIG_0000001", LITE0, "randomcam"),
                               **dataclasses.asdict(cfg2.cam_options())).heatmap
        assert heat.shape == (3000, 4000)
        prompts = generate_prompts(heat, p, make_rng(cfg2.seed, "BIG_0000001", "zero-shot", LITE0, cam,
                                                     params_key(p.percentile, p.num_points, p.amplification)))
        row = rows.loc[cam]
        assert [row.box_x0, row.box_y0, row.box_x1, row.box_y1] == prompts.box.tolist(), cam
        assert row.iou == segmentation_metrics(prompts.noisy_mask, sample.mask)["iou"], cam
    # metrics at the ground truth's resolution: the GT box segments the big lesion
    assert first.table.query("setting == 'gt-box'")["iou"].iloc[0] > 0.8


def test_cam_parameters_in_every_row_and_in_the_cache_key(tmp_path, embedded_classifier, litemedsam):
    clf, lc = _small_input(embedded_classifier, 64)
    ds = InMemoryDataset([_upscaled_disk(120, 160, "IMG_1")])
    cams = ["gradcam", "scorecam", "ablationcam"]
    a = run_grid(_config(tmp_path, "a", "cache", cams=cams, scorecam_channels=16, ablation_ratio=0.25),
                 segmenter=litemedsam, classifiers=lc, dataset=ds)
    t = a.table
    assert (t["scorecam_channels"] == 16).all() and (t["scorecam_selection"] == "variance").all()
    assert (t["ablation_ratio"] == 0.25).all() and len(t) == 7  # 3 CAMs x (cam-mask, box) + gt-box
    assert a.summary["cam_calls"] == 3
    # another k only recomputes ScoreCAM
    b = run_grid(_config(tmp_path, "b", "cache", cams=cams, scorecam_channels=8, ablation_ratio=0.25),
                 segmenter=litemedsam, classifiers=lc, dataset=ds)
    assert b.summary["cam_calls"] == 1 and b.summary["cam_cache_hits"] == 2
    assert (b.table["scorecam_channels"] == 8).all()
    # "every channel" (the full method) is NaN in the k column
    c = run_grid(_config(tmp_path, "c", "cache", cams=["gradcam"], scorecam_channels=None),
                 segmenter=litemedsam, classifiers=lc, dataset=ds)
    assert c.table["scorecam_channels"].isna().all() and (c.table["scorecam_selection"] == "all").all()
    assert (c.table["ablation_ratio"] == 1.0).all() and c.summary["cam_cache_hits"] == 1
    assert list(CAM_PARAM_COLUMNS) == ["scorecam_channels", "scorecam_selection", "ablation_ratio"]
    with pytest.raises(ValueError, match="scorecam_selection"):
        _config(tmp_path, "c", "cache", scorecam_selection="largest")


def test_max_side_route_downsizes_image_and_mask(tmp_path, embedded_classifier, litemedsam):
    clf, lc = _small_input(embedded_classifier, 64)
    ds = InMemoryDataset([_upscaled_disk(300, 400, "IMG_2")])
    cfg = _config(tmp_path, "small", "cache-small", cams=["gradcam"], max_side=100)
    res = run_grid(cfg, segmenter=litemedsam, classifiers=lc, dataset=ds)
    row = res.table.query("prompt_variant == 'cam-mask'").iloc[0]
    assert row.box_x1 <= 99 and row.box_y1 <= 74  # boxes in the 100 x 75 image's pixels
    assert res.summary["config"]["max_side"] == 100
    assert cfg.fingerprint() != dataclasses.replace(cfg, max_side=None).fingerprint()
    gt = res.table.query("setting == 'gt-box'").iloc[0]
    assert gt.box_x1 <= 99 and gt.iou > 0.6

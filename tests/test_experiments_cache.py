"""The heatmap cache (experiments/cache.py): CAM-resolution entries, compressed and small for any
image size, read back into the same image-size heatmap as a fresh computation."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.cams import CamExtractor, normalize_heatmap
from cam2seg_utils.experiments.cache import MAX_ENTRY_BYTES, HeatmapCache, heatmap_key


def test_heatmap_cache_roundtrip_and_key(tmp_path):
    cache = HeatmapCache(tmp_path)
    k = heatmap_key("img", "sha-a", "m", "embedded", "gradcam", 3, {"seed": 1})
    assert k != heatmap_key("img", "sha-b", "m", "embedded", "gradcam", 3, {"seed": 1})
    assert k != heatmap_key("img", "sha-a", "m", "embedded", "gradcam", 4, {"seed": 1})
    assert k != heatmap_key("img", "sha-a", "m", "ckpt-sha", "gradcam", 3, {"seed": 1})
    # the CAM parameters are part of the key: another k / ratio / stored resolution misses
    assert k != heatmap_key("img", "sha-a", "m", "embedded", "gradcam", 3, {"seed": 1, "stored": "cam-resolution"})
    assert (heatmap_key("i", "s", "m", "w", "scorecam", 0, {"scorecam_channels": 64})
            != heatmap_key("i", "s", "m", "w", "scorecam", 0, {"scorecam_channels": 32}))
    assert cache.get(k) is None and cache.misses == 1
    raw = np.linspace(0, 2, 12).reshape(3, 4)
    cache.put(k, raw, 3, 0.0, 2.0)
    got = cache.get(k)
    assert got is not None and got.target_class == 3 and (got.raw_min, got.raw_max) == (0.0, 2.0)
    assert got.raw.dtype == np.float64 and np.array_equal(got.raw, raw)
    np.testing.assert_array_equal(got.heatmap((30, 41)), normalize_heatmap(raw, (30, 41)))
    assert cache.hits == 1 and cache.writes == 1 and cache.bytes_written == cache.path(k).stat().st_size
    cache.path(k).write_bytes(b"garbage")                 # a corrupt entry is a miss
    assert cache.get(k) is None
    assert not list(tmp_path.rglob(".tmp-*"))


def test_entries_of_the_old_image_size_format_are_misses(tmp_path):
    cache = HeatmapCache(tmp_path)
    k = heatmap_key("img", "sha", "m", "embedded", "gradcam", 1)
    cache.path(k).parent.mkdir(parents=True)
    with open(cache.path(k), "wb") as fh:  # format 1: float32 heatmap at the image size
        np.savez(fh, heatmap=np.zeros((50, 60), np.float32), target_class=np.int64(1),
                 raw_min=np.float64(0), raw_max=np.float64(1))
    assert cache.get(k) is None and cache.misses == 1


def test_image_size_maps_are_refused(tmp_path):
    cache = HeatmapCache(tmp_path)
    with pytest.raises(ValueError, match="CAM-resolution"):
        cache.put("ab" * 32, np.zeros((4439, 6688), np.float32), 0, 0.0, 0.0)
    with pytest.raises(ValueError, match="CAM-resolution"):
        cache.put("ab" * 32, np.zeros((3, 7, 7)), 0, 0.0, 0.0)
    assert not list(tmp_path.rglob("*.npz"))


def test_cached_map_gives_todays_heatmap_at_a_full_isic_size(tmp_path, embedded_classifier):
    """Real Lite0 Grad-CAM for a 6688 x 4439 image (the largest ISIC 2017 original): the entry is
    a compressed 7 x 7 map of under 2 KB, and the heatmap read back equals the image-size
    heatmap the extractor makes itself (``resize=True``, the path before the cache kept CAM
    resolution) bit for bit."""
    small = (np.random.default_rng(5).random((111, 167, 3)) * 255).astype(np.uint8)
    # the CAM only sees the 224 x 224 network input: build it from a small image and hand it in,
    # so that the test needs no 90 MB image (the view below has the full shape but one pixel)
    x = embedded_classifier.preprocess(small)
    big = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (4439, 6688, 3))
    with CamExtractor(embedded_classifier, "gradcam") as cam:
        res = cam(big, input_tensor=x, resize=False)
        today = cam(big, input_tensor=x).heatmap
    assert res.cam_size == (7, 7)
    cache = HeatmapCache(tmp_path)
    key = heatmap_key("big", "sha", "tf_efficientnet_lite0", "embedded", "gradcam", res.target_class)
    cache.put(key, res.raw, res.target_class, res.raw_min, res.raw_max)
    assert cache.path(key).stat().st_size < 2048 < MAX_ENTRY_BYTES
    heat = cache.get(key).heatmap((4439, 6688))
    assert heat.shape == (4439, 6688) and heat.dtype == np.float32
    np.testing.assert_array_equal(heat, today)
    assert heat.min() == 0.0 and heat.max() == 1.0

"""``randomcam`` (cams/seeded_random.py): reproducible from the generator passed in, and refused without one."""
from __future__ import annotations

import numpy as np
import pytest
from cam2seg_utils.cams import compute_heatmap, normalize_heatmap
from cam2seg_utils.seeding import make_rng
from tiny_classifiers import small_image, tiny_classifier


def test_randomcam_is_reproducible_and_needs_an_rng(embedded_classifier):
    clf = embedded_classifier  # 7 x 7 CAM layer: enough cells for distinct random maps
    img = small_image()
    state = np.random.get_state()
    a = compute_heatmap(clf, img, "randomcam", rng=make_rng("ISIC_0000000", "randomcam"))
    b = compute_heatmap(clf, img, "randomcam", rng=make_rng("ISIC_0000000", "randomcam"))
    c = compute_heatmap(clf, img, "randomcam", rng=make_rng("ISIC_0000001", "randomcam"))
    assert np.array_equal(a.heatmap, b.heatmap)
    assert not np.array_equal(a.heatmap, c.heatmap)
    # numpy's global state is untouched (pytorch-grad-cam's RandomCAM would draw from it)
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]
    # raw map is U[-1, 1] at the layer resolution, after ReLU: within [0, 1]
    assert 0.0 <= a.raw_min and a.raw_max <= 1.0
    with pytest.raises(ValueError, match="rng"):
        compute_heatmap(clf, img, "randomcam")


def test_randomcam_map_matches_the_generator_draw():
    clf = tiny_classifier("resnet50")
    img = small_image()
    res = compute_heatmap(clf, img, "randomcam", rng=np.random.default_rng(123))
    draw = np.maximum(np.random.default_rng(123).uniform(-1, 1, size=(1, 2, 2))[0], 0)
    np.testing.assert_allclose(res.heatmap, normalize_heatmap(draw, (30, 45)), atol=1e-6)


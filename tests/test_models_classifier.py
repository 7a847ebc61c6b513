"""A built classifier (models/classifier.py): preprocessing normalises with the model's statistics,
resizes the whole image, and refuses bad images."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cam2seg_utils.models import build_classifier


def test_preprocess_normalises_with_the_model_statistics(embedded_classifier):
    img = np.full((10, 20, 3), 255, dtype=np.uint8)
    img[..., 1] = 0
    x = embedded_classifier.preprocess(img)
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    # (1 - 0.5) / 0.5 = 1 ; (0 - 0.5) / 0.5 = -1
    assert torch.allclose(x[0, 0], torch.ones(224, 224), atol=1e-5)
    assert torch.allclose(x[0, 1], -torch.ones(224, 224), atol=1e-5)

    resnet = build_classifier("resnet50", weights="random")
    assert resnet.mean == pytest.approx((0.485, 0.456, 0.406))
    assert resnet.std == pytest.approx((0.229, 0.224, 0.225))
    y = resnet.preprocess(np.full((5, 5, 3), 255, dtype=np.uint8))
    assert y[0, 2, 0, 0].item() == pytest.approx((1 - 0.406) / 0.225, rel=1e-5)


def test_preprocess_resizes_the_whole_image_without_cropping(embedded_classifier):
    # a 100 x 400 image whose leftmost 10 % is white: a centre crop would cut it away
    img = np.zeros((100, 400, 3), dtype=np.uint8)
    img[:, :40] = 255
    x = embedded_classifier.preprocess(img)[0, 0].numpy()  # (224, 224), white = 1, black = -1
    assert x.shape == (224, 224)
    assert np.all(x[:, :20] > 0.99)  # 10 % of 224 = 22.4 columns stay white
    assert np.all(x[:, 26:] < -0.99)


@pytest.mark.parametrize(
    "bad, err",
    [
        (np.zeros((8, 8), np.uint8), "(H, W, 3)"),
        (np.zeros((8, 8, 4), np.uint8), "(H, W, 3)"),
        (np.zeros((8, 8, 3), np.float32), "uint8"),
    ],
)
def test_preprocess_rejects_bad_images(embedded_classifier, bad, err):
    with pytest.raises(ValueError) as info:
        embedded_classifier.preprocess(bad)
    assert err in str(info.value)

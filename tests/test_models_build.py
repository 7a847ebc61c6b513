"""build_classifier (models/build.py): unknown names list the choices, embedded weights only where a
spec has them, random weights only when asked."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.models import CheckpointError, build_classifier


def test_unknown_name_is_rejected_with_choices():
    with pytest.raises(KeyError, match="not_a_model_xyz.*mobilenetv2_100"):
        build_classifier("not_a_model_xyz", weights="random")


def test_embedded_is_only_for_lite0():
    with pytest.raises(ValueError, match="only for 'tf_efficientnet_lite0'"):
        build_classifier("resnet50", weights="embedded")


def test_random_weights_only_when_asked():
    clf = build_classifier("mobilenetv2_100", weights="random", num_classes=2)
    assert clf.weights == "random" and clf.class_names == ["benign", "melanoma"]
    assert clf.predict(np.zeros((16, 16, 3), np.uint8)).logits.shape == (2,)
    with pytest.raises(CheckpointError, match="does not exist"):
        build_classifier("mobilenetv2_100", weights="randm")  # a typo is not random weights

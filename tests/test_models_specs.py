"""The classifier registry (models/specs.py): the paper models' target layers and reshape
transforms on the full-size architectures, specs inferred for other timm names."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cam2seg_utils import models as M
from cam2seg_utils.models import build_classifier, get_spec, list_classifiers


def test_registry_holds_the_paper_models_and_lite0():
    names = list_classifiers()
    for n in M.PAPER_CLASSIFIERS + ("tf_efficientnet_lite0",):
        assert n in names
        assert get_spec(n).name == n
    assert {get_spec(n).family for n in M.PAPER_CLASSIFIERS} == {"cnn", "vit", "swin"}
    with pytest.raises(KeyError, match="resnet50"):  # lists the known names
        get_spec("resnet5O")


# full-size architectures on the meta device: no memory, no weights, real module graph
EXPECTED_FEATURE_MAPS = {
    "resnet50": (2048, 7, 7),
    "mobilenetv2_100": (1280, 7, 7),
    "efficientnet_b0": (1280, 7, 7),
    "vit_base_patch16_224": (768, 14, 14),
    "swin_base_patch4_window7_224": (1024, 7, 7),
}


@pytest.mark.parametrize("name", list(EXPECTED_FEATURE_MAPS))
def test_paper_target_layers_give_the_last_feature_map(name):
    import timm

    spec = get_spec(name)
    with torch.device("meta"):
        model = timm.create_model(spec.timm_name, pretrained=False).eval()
        (layer,) = spec.target_layers(model)
        seen = {}
        handle = layer.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o))
        model(torch.zeros(1, 3, 224, 224))
        handle.remove()
        out = seen["out"]
        if spec.reshape_transform is not None:
            out = spec.reshape_transform(model)(out)
    assert tuple(out.shape) == (1,) + EXPECTED_FEATURE_MAPS[name]


def test_vit_reshape_drops_prefix_tokens_and_is_row_major():
    class FakeViT(torch.nn.Module):
        num_prefix_tokens = 2

        class patch_embed:  # noqa: N801
            grid_size = (2, 3)

    # tokens: value = token index, 4 channels
    tokens = torch.arange(8, dtype=torch.float32)[None, :, None].repeat(1, 1, 4)
    fmap = M.vit_reshape_transform(FakeViT())(tokens)
    assert fmap.shape == (1, 4, 2, 3)
    # prefix tokens 0, 1 dropped; patch (row r, col c) is token 2 + 3r + c
    np.testing.assert_array_equal(fmap[0, 0].numpy(), [[2, 3, 4], [5, 6, 7]])


def test_swin_reshape_moves_channels_first():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)  # B, H, W, C
    y = M.swin_reshape_transform(torch.nn.Identity())(x)
    assert y.shape == (2, 5, 3, 4)
    assert torch.equal(y[1, 2], x[1, :, :, 2])


def test_unregistered_timm_models_get_an_inferred_spec():
    clf = build_classifier("resnet18", weights="random")
    assert clf.spec.family == "cnn"
    assert clf.cam_target_layers() == [clf.model.layer4]
    assert clf.cam_reshape_transform() is None

    eff = build_classifier("mobilenetv3_small_050", weights="random")
    # last 4-D map before pooling: timm's MobileNetV3 pools before conv_head, so the target is
    # the last block stage
    (layer,) = eff.cam_target_layers()
    assert layer is eff.model.blocks

    vit = build_classifier("vit_tiny_patch16_224", weights="random", model_kwargs={"img_size": 32})
    assert vit.spec.family == "vit"
    assert vit.cam_target_layers() == [vit.model.blocks[-1].norm1]
    assert vit.input_size == (32, 32)

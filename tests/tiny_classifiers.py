"""Tiny versions of the five paper classifiers and the reference CAMs, shared by the CAM tests.

The same timm classes, attribute names and therefore the same registered target layers /
reshape transforms as the full models, with reduced depth and width and a 32-64 px input, so
ScoreCAM / AblationCAM (one forward pass per channel) stay cheap. Full-size target-layer shapes
are checked in ``test_models_specs.py``. (A helper module, not a test module.)
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cam2seg_utils.cams import CamExtractor, HeatmapResult
from cam2seg_utils.models import Classifier, get_spec


NUM_CLASSES = 5


def tiny_model(name: str) -> tuple[torch.nn.Module, int]:
    import timm
    from timm.layers import BatchNormAct2d
    from timm.models import efficientnet as timm_effnet

    torch.manual_seed(0)
    if name == "resnet50":
        m = timm.create_model("resnet50", layers=(1, 1, 1, 1), channels=(8, 8, 16, 16),
                              stem_width=8, num_classes=NUM_CLASSES)
        return m, 64
    # the MobileNet / EfficientNet heads (1280 channels at any width for MobileNet-v2) are
    # replaced by 32-channel ones under the same attribute names (conv_head, bn2, classifier)
    if name == "mobilenetv2_100":
        m = timm_effnet._gen_mobilenet_v2("mobilenetv2_100", 0.25, depth_multiplier=0.3,
                                          num_classes=NUM_CLASSES)
        m.conv_head = torch.nn.Conv2d(m.conv_head.in_channels, 32, 1, bias=False)
        m.bn2 = BatchNormAct2d(32, act_layer=torch.nn.ReLU6)
        m.classifier = torch.nn.Linear(32, NUM_CLASSES)
        return m, 64
    if name == "efficientnet_b0":
        m = timm_effnet._gen_efficientnet("efficientnet_b0", 0.1, depth_multiplier=0.3,
                                          num_classes=NUM_CLASSES)
        m.conv_head = torch.nn.Conv2d(m.conv_head.in_channels, 32, 1, bias=False)
        m.bn2 = BatchNormAct2d(32, act_layer=torch.nn.SiLU)
        m.classifier = torch.nn.Linear(32, NUM_CLASSES)
        return m, 64
    if name == "vit_base_patch16_224":
        m = timm.create_model(name, img_size=32, depth=1, embed_dim=48, num_heads=2,
                              num_classes=NUM_CLASSES)
        return m, 32
    if name == "swin_base_patch4_window7_224":
        m = timm.create_model(name, img_size=64, depths=(1, 1, 1, 1), embed_dim=8,
                              num_heads=(1, 1, 1, 1), num_classes=NUM_CLASSES)
        return m, 64
    raise AssertionError(name)


_TINY: dict[str, Classifier] = {}


def tiny_classifier(name: str) -> Classifier:
    if name not in _TINY:
        model, size = tiny_model(name)
        _TINY[name] = Classifier(
            spec=get_spec(name), model=model.eval(), weights="random", num_classes=NUM_CLASSES,
            class_names=[f"c{i}" for i in range(NUM_CLASSES)], mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5), input_size=(size, size), device=torch.device("cpu"),
        )
    return _TINY[name]


def hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


def small_image(h: int = 30, w: int = 45) -> np.ndarray:
    return (np.random.default_rng(7).random((h, w, 3)) * 255).astype(np.uint8)


def check_result(res: HeatmapResult, shape: tuple[int, int]) -> None:
    assert res.heatmap.shape == shape
    assert res.heatmap.dtype == np.float32
    assert np.all(np.isfinite(res.heatmap))
    assert res.heatmap.min() >= 0.0 and res.heatmap.max() <= 1.0
    if res.raw_max > res.raw_min:
        assert res.heatmap.min() == 0.0 and res.heatmap.max() == pytest.approx(1.0)
    else:
        assert not res.heatmap.any()


def upstream_cam(clf: Classifier, method: str, batch_size: int):
    """pytorch-grad-cam's own ScoreCAM / AblationCAM for ``clf`` (the reference)."""
    from pytorch_grad_cam import AblationCAM, ScoreCAM
    from pytorch_grad_cam.ablation_layer import AblationLayer, AblationLayerVit

    layers, reshape = clf.cam_target_layers(), clf.cam_reshape_transform()
    if method == "scorecam":
        cam = ScoreCAM(clf.model, layers, reshape)
        cam.batch_size = batch_size
        return cam
    layer = AblationLayer() if clf.spec.family == "cnn" else AblationLayerVit()
    return AblationCAM(clf.model, layers, reshape_transform=reshape, ablation_layer=layer, batch_size=batch_size)


def run_through_extractor(clf: Classifier, cam, img: np.ndarray) -> HeatmapResult:
    """Any pytorch-grad-cam object through the extractor's own steps."""
    try:
        return CamExtractor(clf, "gradcam")._compute(cam, clf.preprocess(img), img.shape[:2], None, None)
    finally:
        cam.activations_and_grads.release()


def target_activations(clf: Classifier, img: np.ndarray):
    """``(x, activations (1, C, h, w) numpy, gradients of the argmax score (1, C, h, w), class)``."""
    x = clf.preprocess(img)
    store = {}

    def keep(module, inputs, output):
        output.retain_grad()
        store["out"] = output

    handle = clf.cam_target_layers()[0].register_forward_hook(keep)
    try:
        logits = clf.model(x)
        cls = int(logits.argmax())
        logits[0, cls].backward()
    finally:
        handle.remove()
        clf.model.zero_grad(set_to_none=True)
    out = store["out"]
    return x, out.detach().numpy(), out.grad.numpy(), cls


"""The classifier registry, timm-style: each model by name with its CAM configuration attached.

The paper explains five ImageNet classifiers (ResNet-50, MobileNet-v2, EfficientNet-B0, ViT-B/16,
Swin-B) with CAM methods. Each one is described by a :class:`ClassifierSpec` that knows

* the timm architecture (``timm_name``) and its family (``"cnn"`` | ``"vit"`` | ``"swin"``),
* the CAM target layer(s) (``target_layers(model) -> [nn.Module]``),
* for transformers, how to turn the target layer's tokens into a ``(B, C, h, w)`` feature map
  (``reshape_transform(model) -> (tensor -> tensor)``; ``None`` for CNNs), and
* its offline ImageNet weights, where a package ships some (``embedded``; only Lite0).

``reshape_transform`` is a *factory* taking the built model (like ``target_layers``) because the
token grid and the number of prefix (class / register) tokens belong to the built model (they
change with ``img_size``); :meth:`~cam2seg_utils.models.classifier.Classifier.cam_reshape_transform`
returns the ready-to-use ``tensor -> tensor`` function that pytorch-grad-cam expects.

Target layers (the "last convolutional feature map" of Grad-CAM):

====================================  =============================================  ============
registry name                         target layer                                   reshape
====================================  =============================================  ============
``resnet50``                          ``model.layer4[-1]`` (last bottleneck, ReLU'd)  --
``mobilenetv2_100``                   ``model.bn2`` (conv_head + BN + ReLU6)          --
``efficientnet_b0``                   ``model.bn2`` (conv_head + BN + SiLU)           --
``tf_efficientnet_lite0``             ``model.bn2`` (conv_head + BN + ReLU6)          --
``vit_base_patch16_224``              ``model.blocks[-1].norm1``                      drop prefix tokens, (B,N,C)->(B,C,14,14)
``swin_base_patch4_window7_224``      ``model.layers[-1].blocks[-1].norm1``           (B,H,W,C)->(B,C,H,W)
====================================  =============================================  ============

For the MobileNet / EfficientNet family ``bn2`` (timm's ``BatchNormAct2d``: batch norm *and* the
activation) is chosen over ``conv_head``: its output is exactly the feature map that global
average pooling feeds to the linear classifier, so Grad-CAM on it equals the original CAM, and
for ReLU6 networks it is non-negative (AblationCAM then ablates by zeroing, as in its paper).

Any other timm name builds too; its spec is inferred from the built model (:func:`infer_spec`):

* ``timm.models.vision_transformer.VisionTransformer`` -> ``vit`` (``blocks[-1].norm1``),
* ``timm.models.swin_transformer.SwinTransformer`` -> ``swin`` (``layers[-1].blocks[-1].norm1``),
* everything else -> ``cnn``: ``forward_features`` is run once on a small dummy input with a
  forward hook on every sub-module, and the target is the *last module to finish whose output is
  a 4-D ``(B, C, h, w)`` tensor* -- i.e. the outermost module producing the final feature map
  right before global pooling (``layer4`` for ResNets, ``bn2`` for EfficientNets,
  ``features`` for DenseNets, ...). Models without such a map raise ``ValueError``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from cam2seg_utils.registry import Registry

from .weights import LITE0_EMBEDDED, EmbeddedWeights

__all__ = ["ClassifierSpec", "CLASSIFIERS", "PAPER_CLASSIFIERS", "get_spec", "list_classifiers", "infer_spec",
           "model_input_size", "vit_reshape_transform", "swin_reshape_transform", "ReshapeFn"]

ReshapeFn = Callable[[torch.Tensor], torch.Tensor]
TargetLayersFn = Callable[[nn.Module], "list[nn.Module]"]
ReshapeFactory = Callable[[nn.Module], ReshapeFn]


@dataclass(frozen=True)
class ClassifierSpec:
    """How to build and explain one classifier.

    ``target_layers(model)`` returns the CAM target modules of a built model.
    ``reshape_transform`` is ``None`` for CNNs; for transformers it is a factory
    ``reshape_transform(model) -> fn`` where ``fn`` maps the target layer's output to a
    ``(B, C, h, w)`` feature map (see the module docstring). ``embedded``: the offline ImageNet
    weights of this architecture (``weights="embedded"``), if a package ships some.
    """

    name: str
    timm_name: str
    family: str  # "cnn" | "vit" | "swin"
    target_layers: TargetLayersFn
    reshape_transform: ReshapeFactory | None = None
    embedded: EmbeddedWeights | None = None


def vit_reshape_transform(model: nn.Module) -> ReshapeFn:
    """ViT tokens ``(B, P + h*w, C)`` -> ``(B, C, h, w)``.

    ``P = model.num_prefix_tokens`` (class token, distillation / register tokens) are dropped;
    ``(h, w) = model.patch_embed.grid_size`` (14 x 14 for ``vit_base_patch16_224``).
    """
    n_prefix = int(getattr(model, "num_prefix_tokens", 1))
    grid = getattr(getattr(model, "patch_embed", None), "grid_size", None)

    def reshape(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.ndim != 3:
            raise ValueError(f"ViT reshape expects (B, N, C) tokens, got shape {tuple(tensor.shape)}")
        tokens = tensor[:, n_prefix:, :]
        n = tokens.shape[1]
        if grid is not None and int(grid[0]) * int(grid[1]) == n:
            h, w = int(grid[0]), int(grid[1])
        else:  # dynamic image size: only square grids can be recovered
            side = int(round(n**0.5))
            if side * side != n:
                raise ValueError(f"cannot reshape {n} ViT patch tokens into a grid")
            h = w = side
        return tokens.reshape(tokens.shape[0], h, w, tokens.shape[2]).permute(0, 3, 1, 2)

    return reshape


def swin_reshape_transform(model: nn.Module) -> ReshapeFn:
    """timm 1.x Swin features ``(B, H, W, C)`` -> ``(B, C, H, W)``.

    (pytorch-grad-cam's Swin example reshapes ``(B, L, C)`` tokens of timm 0.x; timm 1.x
    Swin blocks and their ``norm1`` already produce ``(B, H, W, C)``.) ``(B, L, C)`` tokens
    (e.g. a ``norm2`` target) are accepted too when ``L`` is a square.
    """

    def reshape(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.ndim == 4:
            return tensor.permute(0, 3, 1, 2)
        if tensor.ndim == 3:
            n = tensor.shape[1]
            side = int(round(n**0.5))
            if side * side != n:
                raise ValueError(f"cannot reshape {n} Swin tokens into a square grid")
            return tensor.reshape(tensor.shape[0], side, side, tensor.shape[2]).permute(0, 3, 1, 2)
        raise ValueError(f"Swin reshape expects (B,H,W,C) or (B,L,C), got {tuple(tensor.shape)}")

    return reshape


def _resnet_targets(model: nn.Module) -> list[nn.Module]:
    return [model.layer4[-1]]


def _bn2_targets(model: nn.Module) -> list[nn.Module]:
    return [model.bn2]


def _vit_targets(model: nn.Module) -> list[nn.Module]:
    return [model.blocks[-1].norm1]


def _swin_targets(model: nn.Module) -> list[nn.Module]:
    return [model.layers[-1].blocks[-1].norm1]


CLASSIFIERS: Registry[ClassifierSpec] = Registry("classifier")
CLASSIFIERS.register("resnet50", ClassifierSpec("resnet50", "resnet50", "cnn", _resnet_targets))
CLASSIFIERS.register(
    "mobilenetv2_100", ClassifierSpec("mobilenetv2_100", "mobilenetv2_100", "cnn", _bn2_targets)
)
CLASSIFIERS.register(
    "efficientnet_b0", ClassifierSpec("efficientnet_b0", "efficientnet_b0", "cnn", _bn2_targets)
)
CLASSIFIERS.register(
    "vit_base_patch16_224",
    ClassifierSpec("vit_base_patch16_224", "vit_base_patch16_224", "vit", _vit_targets, vit_reshape_transform),
)
CLASSIFIERS.register(
    "swin_base_patch4_window7_224",
    ClassifierSpec(
        "swin_base_patch4_window7_224",
        "swin_base_patch4_window7_224",
        "swin",
        _swin_targets,
        swin_reshape_transform,
    ),
)
CLASSIFIERS.register(
    "tf_efficientnet_lite0",
    ClassifierSpec("tf_efficientnet_lite0", "tf_efficientnet_lite0", "cnn", _bn2_targets, embedded=LITE0_EMBEDDED),
)

PAPER_CLASSIFIERS: tuple[str, ...] = (
    "resnet50",
    "mobilenetv2_100",
    "efficientnet_b0",
    "vit_base_patch16_224",
    "swin_base_patch4_window7_224",
)


def _last_feature_map_module_name(model: nn.Module, input_hw: tuple[int, int]) -> str:
    """Name of the last sub-module (in completion order) of ``model.forward_features`` whose
    output is a 4-D ``(B, C, h, w)`` tensor."""
    last: list[str] = []
    handles = []

    def make_hook(name: str):
        def hook(module, inputs, output):  # noqa: ARG001
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                last.append(name)

        return hook

    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(make_hook(name)))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            fwd = getattr(model, "forward_features", model)
            fwd(torch.zeros(1, 3, *input_hw, device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if not last:
        raise ValueError(
            f"cannot infer a CAM target layer for {type(model).__name__}: no module produces a "
            "4-D (B, C, h, w) feature map; register a ClassifierSpec for it in cam2seg_utils.models"
        )
    return last[-1]


def infer_spec(name: str, model: nn.Module) -> ClassifierSpec:
    """Infer the spec of an unregistered timm model from the built ``model`` (see module doc)."""
    from timm.models.swin_transformer import SwinTransformer
    from timm.models.vision_transformer import VisionTransformer

    if isinstance(model, VisionTransformer):
        return ClassifierSpec(name, name, "vit", _vit_targets, vit_reshape_transform)
    if isinstance(model, SwinTransformer):
        return ClassifierSpec(name, name, "swin", _swin_targets, swin_reshape_transform)
    hw = model_input_size(model)
    # a small probe input keeps the inference cheap; 64 px still leaves a >= 2x2 map at stride 32
    probe = (min(hw[0], 64), min(hw[1], 64))
    module_name = _last_feature_map_module_name(model, probe)

    def targets(m: nn.Module, _name: str = module_name) -> list[nn.Module]:
        return [m.get_submodule(_name)]

    return ClassifierSpec(name, name, "cnn", targets)


def get_spec(name: str) -> ClassifierSpec:
    """The registered spec of ``name`` (``KeyError`` listing the known names otherwise)."""
    return CLASSIFIERS.get(name)


def list_classifiers() -> list[str]:
    """Registered classifier names (any other timm name also builds, with an inferred spec)."""
    return CLASSIFIERS.names()


def model_input_size(model: nn.Module) -> tuple[int, int]:
    """(H, W) the network sees: the patch embedding's image size for transformers built with a
    custom ``img_size``, else timm's data config."""
    pe = getattr(model, "patch_embed", None)
    img_size = getattr(pe, "img_size", None)
    if img_size is not None:
        return int(img_size[0]), int(img_size[1])
    from timm.data import resolve_model_data_config

    cfg = resolve_model_data_config(model)
    return int(cfg["input_size"][1]), int(cfg["input_size"][2])

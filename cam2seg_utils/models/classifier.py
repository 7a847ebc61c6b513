"""A built classifier: the timm model with its preprocessing and class names (:class:`Classifier`).

Images are ``uint8`` ``(H, W, 3)`` RGB numpy arrays. :meth:`Classifier.preprocess` resizes the
*whole* image to the network input size (no centre crop: a crop would cut off lesion borders and
the heatmap has to map back onto the full original image).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .specs import ClassifierSpec, ReshapeFn

__all__ = ["Classifier", "Prediction", "FINETUNED_CLASS_NAMES", "imagenet_class_names", "default_class_names"]

FINETUNED_CLASS_NAMES: list[str] = ["benign", "melanoma"]

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


def default_class_names(num_classes: int) -> list[str]:
    """ImageNet names for 1000 classes, benign / melanoma for 2, ``class_<i>`` otherwise."""
    if num_classes == 1000:
        return imagenet_class_names()
    if num_classes == 2:
        return list(FINETUNED_CLASS_NAMES)
    return [f"class_{i}" for i in range(num_classes)]


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

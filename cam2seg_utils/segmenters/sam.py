"""MedSAM ViT-B and SAM ViT-B/L/H through the ``segment_anything`` package.

Checkpoints are not shipped (hundreds of MB). They are looked up at, in order:

1. the ``checkpoint`` path given by the caller;
2. ``$CAM2SEG_CHECKPOINT_DIR/<file>`` when that variable is set, else ``~/.cache/cam2seg/<file>``.

A missing file raises :class:`CheckpointNotFoundError` naming the expected file and its download
page; nothing is ever asked interactively. ``download=True`` fetches the SAM checkpoints with
``pooch`` into the cache directory (MedSAM is distributed through a Google Drive folder, which
has no stable direct URL, so it must be downloaded by hand).

Pre/post-processing:

* **MedSAM** (``medsam_vit_b``), as in the MedSAM reference inference (``MedSAM_Inference.py``):
  the image is resized to ``1024 x 1024`` with bicubic interpolation (``skimage`` ``order=3``,
  ``anti_aliasing=True``), **not** keeping the aspect ratio, cast back to uint8 (clipped to
  0..255 first, which the reference omits), min-max normalised to ``[0, 1]`` and fed straight to
  the image encoder (SAM's pixel mean/std are **not** applied). Prompts are scaled per axis:
  ``x * 1024 / W``, ``y * 1024 / H``. The ``256 x 256`` low-res logits cover the whole image and
  are resized bilinearly to ``(H, W)``; mask = ``sigmoid > 0.5``. (The reference applies the
  sigmoid before resizing; we resize the logits, as SAM and LiteMedSAM do, so all segmenters cut
  the same way; the two differ only by sub-pixel boundary shifts.)
* **SAM** (``sam_vit_b/l/h``), as ``segment_anything.SamPredictor``: ``ResizeLongestSide(1024)``
  (PIL bilinear), SAM's pixel mean/std normalisation, zero-pad bottom/right to ``1024 x 1024``;
  prompts via ``ResizeLongestSide.apply_coords``; logits upsampled to 1024, cropped to the
  unpadded region, resized to ``(H, W)`` (``Sam.postprocess_masks``); mask = ``sigmoid > 0.5``
  (SAM's ``mask_threshold`` 0.0 on logits is the same cut).

Both run the decoder with ``multimask_output=False``: one mask per prompt. MedSAM was trained
that way; for SAM it is what ``SamPredictor`` documents for an unambiguous prompt such as a box,
and it keeps one mask per prompt for the CAM box + points prompts of the experiments.

On CUDA the ViT image encoder runs under ``torch.autocast`` (bfloat16 where supported, else
float16) unless ``amp=False``; the decoder runs in float32.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import (
    CheckpointNotFoundError,
    ImageEmbedding,
    SamModelSegmenter,
    as_rgb_uint8,
    load_state_dict_file,
    load_strict,
    resize_logits,
)
from .litemedsam import longest_side_shape, minmax_normalize

SAM_SIZE = 1024
SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
SAM_PIXEL_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class CheckpointInfo:
    """Where a segmenter's weights come from.

    filename: the expected file name in the checkpoint directory.
    arch: ``segment_anything.sam_model_registry`` key.
    page: human-readable download page.
    url: direct download URL for ``download=True`` (None when only a manual download exists).
    """

    filename: str
    arch: str
    page: str
    url: Optional[str] = None


_SAM_PAGE = "https://github.com/facebookresearch/segment-anything#model-checkpoints"
_SAM_BASE = "https://dl.fbaipublicfiles.com/segment_anything/"
CHECKPOINTS: Dict[str, CheckpointInfo] = {
    "medsam_vit_b": CheckpointInfo(
        filename="medsam_vit_b.pth",
        arch="vit_b",
        page=(
            "the MedSAM checkpoint folder on Google Drive "
            "https://drive.google.com/drive/folders/1ETWmi4AiniJeWOt6HAsYgTjYv_fkgzoN "
            "(linked from the README of https://github.com/bowang-lab/MedSAM)"
        ),
        url=None,
    ),
    "sam_vit_b": CheckpointInfo("sam_vit_b_01ec64.pth", "vit_b", _SAM_PAGE, _SAM_BASE + "sam_vit_b_01ec64.pth"),
    "sam_vit_l": CheckpointInfo("sam_vit_l_0b3195.pth", "vit_l", _SAM_PAGE, _SAM_BASE + "sam_vit_l_0b3195.pth"),
    "sam_vit_h": CheckpointInfo("sam_vit_h_4b8939.pth", "vit_h", _SAM_PAGE, _SAM_BASE + "sam_vit_h_4b8939.pth"),
}


def checkpoint_dir() -> Path:
    """``$CAM2SEG_CHECKPOINT_DIR`` if set, else ``~/.cache/cam2seg``."""
    env = os.environ.get("CAM2SEG_CHECKPOINT_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cam2seg"


def resolve_checkpoint(name: str, checkpoint: Optional[str] = None, download: bool = False) -> str:
    """Return the path of ``name``'s checkpoint or raise :class:`CheckpointNotFoundError`.

    Args:
        name: ``"medsam_vit_b"``, ``"sam_vit_b"``, ``"sam_vit_l"`` or ``"sam_vit_h"``.
        checkpoint: explicit path; when given it must exist (no fallback to the cache).
        download: fetch a missing SAM checkpoint with ``pooch`` into :func:`checkpoint_dir`.
    """
    info = CHECKPOINTS[name]
    if checkpoint is not None:
        path = Path(checkpoint).expanduser()
        if path.is_file():
            return str(path)
        raise CheckpointNotFoundError(
            f"{name} checkpoint not found at {path} (expected the file {info.filename}); "
            f"download it from {info.page}" + (f" (direct link: {info.url})" if info.url else "")
        )
    path = checkpoint_dir() / info.filename
    if path.is_file():
        return str(path)
    if download and info.url is not None:
        return _download(name, info, path)
    how = f"download it from {info.page}" + (f" (direct link: {info.url})" if info.url else "")
    extra = "" if info.url is None else ", or pass download=True"
    raise CheckpointNotFoundError(
        f"{name} checkpoint {info.filename} not found at {path}; {how} and put it there, "
        f"set CAM2SEG_CHECKPOINT_DIR to the folder that holds it, or pass checkpoint=<path>{extra}"
        + (" (MedSAM has no direct download URL: download=True cannot fetch it)" if download and info.url is None else "")
    )


def _download(name: str, info: CheckpointInfo, path: Path) -> str:
    """Fetch ``info.url`` to ``path`` with pooch (progress bar unless TQDM_DISABLE is set)."""
    import pooch

    path.parent.mkdir(parents=True, exist_ok=True)
    progress = not os.environ.get("TQDM_DISABLE")
    try:
        # no published hash for the SAM files: known_hash=None (pooch logs the computed SHA-256)
        return pooch.retrieve(
            info.url, known_hash=None, fname=info.filename, path=str(path.parent), progressbar=progress
        )
    except Exception as exc:  # noqa: BLE001 - offline, HTTP error, disk full: re-raised with context
        raise CheckpointNotFoundError(
            f"{name} checkpoint {info.filename} is not at {path} and downloading it from {info.url} "
            f"failed ({type(exc).__name__}: {exc}); download it by hand from {info.page}"
        ) from exc


# -- preprocessing -------------------------------------------------------------------------------
def preprocess_medsam(image: np.ndarray, size: int = SAM_SIZE) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """MedSAM reference preprocessing.

    ``(H, W, 3)`` uint8 -> bicubic resize to ``(size, size)`` (aspect ratio not kept), uint8,
    min-max to ``[0, 1]``. Returns ``((1, 3, size, size) float32, (size, size))``.
    """
    from skimage.transform import resize

    image = as_rgb_uint8(image)
    resized = resize(image, (size, size), order=3, preserve_range=True, anti_aliasing=True)
    resized = np.clip(resized, 0, 255).astype(np.uint8)
    x = torch.from_numpy(resized).permute(2, 0, 1)[None].float()
    return minmax_normalize(x).contiguous(), (size, size)


def preprocess_sam(
    image: np.ndarray,
    size: int = SAM_SIZE,
    pixel_mean: Tuple[float, float, float] = SAM_PIXEL_MEAN,
    pixel_std: Tuple[float, float, float] = SAM_PIXEL_STD,
) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """SamPredictor preprocessing: longest side ``size`` (PIL bilinear), ``(x - mean) / std``,
    zero-pad bottom/right. Returns ``((1, 3, size, size) float32, (h, w) before padding)``."""
    from segment_anything.utils.transforms import ResizeLongestSide

    image = as_rgb_uint8(image)
    resized = ResizeLongestSide(size).apply_image(image)
    h, w = resized.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(resized)).permute(2, 0, 1)[None].float()
    mean = torch.tensor(pixel_mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(pixel_std, dtype=torch.float32).view(1, 3, 1, 1)
    x = (x - mean) / std
    x = F.pad(x, (0, size - w, 0, size - h), value=0.0)
    return x.contiguous(), (h, w)


class SamSegmenter(SamModelSegmenter):
    """SAM-architecture segmenter (1024x1024 canvas) in ``"medsam"`` or ``"sam"`` mode.

    Args:
        model: a ``segment_anything.modeling.Sam`` (e.g. ``sam_model_registry["vit_b"]()``).
        variant: ``"medsam"`` (MedSAM reference preprocessing) or ``"sam"`` (SamPredictor's).
        name: registry name stored in the embeddings.
        amp: autocast the image encoder on CUDA.
    """

    model_size = SAM_SIZE

    def __init__(
        self,
        model: nn.Module,
        variant: str,
        name: str,
        device: str | torch.device = "cpu",
        amp: bool = True,
    ) -> None:
        if variant not in ("medsam", "sam"):
            raise ValueError(f"variant must be 'medsam' or 'sam', got {variant!r}")
        super().__init__(model, name, device)
        self.variant = variant
        self.amp = amp

    def preprocess(self, image: np.ndarray) -> Tuple[torch.Tensor, Tuple[int, int]]:
        if self.variant == "medsam":
            return preprocess_medsam(image, self.model_size)
        mean = tuple(float(v) for v in self.model.pixel_mean.flatten().cpu())
        std = tuple(float(v) for v in self.model.pixel_std.flatten().cpu())
        return preprocess_sam(image, self.model_size, mean, std)

    def transform_coords(self, coords: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
        """MedSAM: ``x * 1024 / W``, ``y * 1024 / H``; SAM: ``x * w / W``, ``y * h / H`` with
        ``(h, w)`` the longest-side-1024 size (``ResizeLongestSide.apply_coords``)."""
        h0, w0 = original_size
        if self.variant == "medsam":
            h, w = self.model_size, self.model_size
        else:
            h, w = longest_side_shape(h0, w0, self.model_size)
        out = np.array(coords, dtype=np.float64, copy=True)
        out[..., 0] *= w / w0
        out[..., 1] *= h / h0
        return out

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda" and self.amp:
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            with torch.autocast(device_type="cuda", dtype=dtype):
                return self.model.image_encoder(pixels)
        return self.model.image_encoder(pixels)

    def postprocess_logits(self, low_res: torch.Tensor, embedding: ImageEmbedding) -> torch.Tensor:
        """MedSAM: resize ``(B, 1, 256, 256)`` straight to ``(H, W)``. SAM: upsample to 1024,
        crop to ``input_size``, resize to ``(H, W)`` (``Sam.postprocess_masks``)."""
        if self.variant == "medsam":
            return resize_logits(low_res, embedding.original_size)
        up = resize_logits(low_res, (self.model_size, self.model_size))
        h, w = embedding.input_size
        return resize_logits(up[..., :h, :w], embedding.original_size)


def build_sam_segmenter(
    name: str,
    checkpoint: Optional[str] = None,
    device: str | torch.device = "cpu",
    download: bool = False,
    amp: bool = True,
) -> SamSegmenter:
    """Build ``medsam_vit_b`` or ``sam_vit_b/l/h`` with real weights.

    The checkpoint is resolved by :func:`resolve_checkpoint` (missing -> CheckpointNotFoundError),
    loaded with ``torch.load(map_location="cpu", weights_only=True)`` and applied strictly.
    """
    if name not in CHECKPOINTS:
        raise KeyError(f"unknown SAM-family segmenter {name!r}; known: {', '.join(CHECKPOINTS)}")
    info = CHECKPOINTS[name]
    path = resolve_checkpoint(name, checkpoint, download=download)
    state = load_state_dict_file(path)
    from segment_anything import sam_model_registry

    model = sam_model_registry[info.arch](checkpoint=None)
    load_strict(model, state, path)
    variant = "medsam" if name.startswith("medsam") else "sam"
    return SamSegmenter(model, variant=variant, name=name, device=device, amp=amp)


__all__ = [
    "CHECKPOINTS",
    "CheckpointInfo",
    "SAM_PIXEL_MEAN",
    "SAM_PIXEL_STD",
    "SAM_SIZE",
    "SamSegmenter",
    "build_sam_segmenter",
    "checkpoint_dir",
    "preprocess_medsam",
    "preprocess_sam",
    "resolve_checkpoint",
]

"""Promptable segmenters: LiteMedSAM (offline default), MedSAM ViT-B, SAM ViT-B/L/H.

>>> seg = build_segmenter("litemedsam")            # doctest: +SKIP
>>> emb = seg.embed(image)                          # once per image, (1, 256, 64, 64)
>>> res = seg.segment(emb, box=[x0, y0, x1, y1])    # many prompts per embedding

Builders take ``(checkpoint=None, device="cpu", **options)``; the SAM family also accepts
``download=True`` (fetch a missing SAM checkpoint with pooch) and ``amp`` (autocast the encoder on
CUDA). The model modules are imported lazily, so importing this package is cheap.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from ..registry import Registry
from .base import CheckpointNotFoundError, ImageEmbedding, SegmentationResult, Segmenter

SEGMENTERS: Registry[Callable[..., Segmenter]] = Registry("segmenter")


@SEGMENTERS.register("litemedsam")
def _litemedsam(checkpoint: Optional[str] = None, device: str | torch.device = "cpu") -> Segmenter:
    from .litemedsam import build_litemedsam

    return build_litemedsam(checkpoint=checkpoint, device=device)


def _sam_family(name: str) -> Callable[..., Segmenter]:
    def build(
        checkpoint: Optional[str] = None,
        device: str | torch.device = "cpu",
        download: bool = False,
        amp: bool = True,
    ) -> Segmenter:
        from .sam import build_sam_segmenter

        return build_sam_segmenter(name, checkpoint=checkpoint, device=device, download=download, amp=amp)

    build.__name__ = f"build_{name}"
    build.__doc__ = f"Build {name} (see cam2seg_utils.segmenters.sam.build_sam_segmenter)."
    return build


for _name in ("medsam_vit_b", "sam_vit_b", "sam_vit_l", "sam_vit_h"):
    SEGMENTERS.register(_name, _sam_family(_name))


def build_segmenter(
    name: str = "litemedsam",
    checkpoint: Optional[str] = None,
    device: str | torch.device = "cpu",
    **options: object,
) -> Segmenter:
    """Build a registered segmenter (``SEGMENTERS.names()``); unknown names raise ``KeyError``.

    Args:
        name: ``"litemedsam"`` (weights shipped, offline), ``"medsam_vit_b"``, ``"sam_vit_b"``,
            ``"sam_vit_l"``, ``"sam_vit_h"``.
        checkpoint: path to a checkpoint; None = shipped (LiteMedSAM) or the cache directory
            (``$CAM2SEG_CHECKPOINT_DIR`` or ``~/.cache/cam2seg``) for the SAM family. A missing
            file raises :class:`CheckpointNotFoundError` naming the file and the download page.
        device: ``"cpu"``, ``"cuda"``, ...
        options: builder options (SAM family: ``download``, ``amp``).
    """
    return SEGMENTERS.get(name)(checkpoint=checkpoint, device=device, **options)


__all__ = [
    "build_segmenter",
    "SEGMENTERS",
    "Segmenter",
    "ImageEmbedding",
    "SegmentationResult",
    "CheckpointNotFoundError",
]

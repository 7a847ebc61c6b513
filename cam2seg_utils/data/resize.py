"""The ``max_side`` route: run on downsized copies of large images (ISIC originals reach 6688 x 4439).

By default everything runs at the original resolution, as the paper measures (heatmaps, prompts
and metrics at the ground truth's size; the grid's cost per image is then dominated by the
image-size arrays, see ``benchmarks/bench_fullres.py``). A user who prefers a cheaper run sets
``max_side`` (``ExperimentConfig.max_side`` / ``--set max_side=1024``): each image whose longer
side exceeds it is scaled by ``max_side / max(H, W)`` before anything sees it -- the classifier,
the CAMs, the segmenter, **and** the metrics, whose ground truth is downsized with it. Results
of such a run are therefore at the downsized resolution; the grid records ``max_side`` in its
config (run summary, fingerprint) and the book shows it in the provenance box.

Resampling is deterministic (Pillow), one rule for every route that downsizes (this one and the
loaders' own ``max_side``, :class:`~cam2seg_utils.data.isic.ISICDataset` and
:class:`~cam2seg_utils.data.ph2.PH2Dataset`): :func:`downsize`, the image with an antialiasing
box filter (each output pixel is the area mean of the pixels it covers), the mask with the same
box filter followed by ``>= 0.5`` (a pixel is lesion when at least half of the area it covers is).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

# ``Sample`` is :class:`.isic.Sample`, named as a string: isic.py imports this module (its
# loaders' max_side), so importing it back, even for type checking, would be a cycle.

def limited_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """``(h, w)`` of an ``height x width`` image scaled so that its longer side is at most
    ``max_side`` (aspect ratio kept, each side rounded, at least 1); unchanged when it fits."""
    longer = max(height, width)
    if longer <= max_side:
        return int(height), int(width)
    scale = max_side / longer
    return max(1, round(height * scale)), max(1, round(width * scale))


def downsize(image: np.ndarray, mask: np.ndarray, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """``(image, mask)`` -- uint8 ``(H, W, 3)`` and bool ``(H, W)`` -- at :func:`limited_size`:
    the image box-filtered (area means), the mask lesion where at least half of the area a pixel
    covers is lesion (the same box filter, ``>= 0.5``). The same arrays when they fit."""
    H, W = image.shape[:2]
    h, w = limited_size(H, W, int(max_side))
    if (h, w) == (H, W):
        return image, mask
    small = np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.BOX))
    area = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((w, h), Image.Resampling.BOX))
    return np.ascontiguousarray(small), area >= 128      # 0.5 of 255, as Pillow rounds the mean


def limit_side(sample: "Sample", max_side: int | None) -> "Sample":
    """``sample`` with its image ``(H, W, 3)`` and mask ``(H, W)`` :func:`downsize`\ d (the same
    object when ``max_side`` is ``None`` or the image fits)."""
    if max_side is None:
        return sample
    image, mask = downsize(sample.image, sample.mask, int(max_side))
    if image is sample.image:
        return sample
    return replace(sample, image=image, mask=mask)


class MaxSideDataset:
    """A dataset whose ``load(image_id)`` gives :func:`limit_side` samples of ``dataset``'s
    (every other attribute -- ``ids``, ``labels``, paths -- is ``dataset``'s)."""

    def __init__(self, dataset, max_side: int) -> None:
        self.dataset = dataset
        self.max_side = int(max_side)

    def load(self, image_id: str) -> "Sample":
        return limit_side(self.dataset.load(image_id), self.max_side)

    def __getattr__(self, name: str):
        if name == "dataset":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)


__all__ = ["limited_size", "downsize", "limit_side", "MaxSideDataset"]

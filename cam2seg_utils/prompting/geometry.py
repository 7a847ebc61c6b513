"""Box and mask helpers shared by the strategies (no ground truth anywhere).

Boxes are ``[x_min, y_min, x_max, y_max]`` with inclusive pixel indices (x = column, y = row).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def tight_box(mask: np.ndarray) -> np.ndarray | None:
    """Tight box of the True pixels of an ``(H, W)`` mask, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1], rows[-1]], dtype=np.float64)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two inclusive-pixel boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    area = lambda z: (z[2] - z[0] + 1) * (z[3] - z[1] + 1)  # noqa: E731
    return float(inter / (area(a) + area(b) - inter))


def disk(radius: int) -> np.ndarray:
    """``(2r + 1, 2r + 1)`` bool disc of ``radius`` pixels (a morphology structuring element)."""
    r = int(radius)
    y, x = np.ogrid[-r:r + 1, -r:r + 1]
    return x * x + y * y <= r * r


def whole_image_box(shape: tuple[int, ...]) -> np.ndarray:
    """``[0, 0, W - 1, H - 1]``: the box of the whole image of shape ``(H, W, ...)``, a prompt that
    knows nothing about the lesion (the floor a CAM box must beat on the same images)."""
    h, w = int(shape[0]), int(shape[1])
    return np.array([0.0, 0.0, w - 1.0, h - 1.0])


def centred_box(shape: tuple[int, int], fraction: float) -> np.ndarray:
    """The centred box covering ``fraction`` of each side."""
    h, w = shape
    mx, my = (1 - fraction) / 2 * (w - 1), (1 - fraction) / 2 * (h - 1)
    return np.array([mx, my, w - 1 - mx, h - 1 - my])


def expand_box(box: np.ndarray, shape: tuple[int, int], margin: float) -> np.ndarray:
    """Grow a box by ``margin`` of its width / height on every side, clipped to the image."""
    h, w = shape
    bw, bh = box[2] - box[0] + 1, box[3] - box[1] + 1
    out = np.array([box[0] - margin * bw, box[1] - margin * bh, box[2] + margin * bw, box[3] + margin * bh])
    out[[0, 2]] = np.clip(out[[0, 2]], 0, w - 1)
    out[[1, 3]] = np.clip(out[[1, 3]], 0, h - 1)
    return out


def mass_component(mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The 8-connected component of ``mask`` holding the largest sum of ``weights`` (e.g. the
    CAM mass); an empty mask is returned unchanged. Ties go to the lower label (row-major)."""
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n <= 1:
        return mask.copy()
    mass = ndimage.sum_labels(weights, labels, index=np.arange(1, n + 1))
    return labels == (int(np.argmax(mass)) + 1)


def border_contact(mask: np.ndarray) -> float:
    """Fraction of the image border's pixels covered by the mask (0 = touches nothing)."""
    edge = np.concatenate([mask[0], mask[-1], mask[1:-1, 0], mask[1:-1, -1]])
    return float(edge.mean()) if edge.size else 0.0


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two bool masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


__all__ = ["tight_box", "box_iou", "disk", "whole_image_box", "centred_box", "expand_box", "mass_component",
           "border_contact", "mask_iou"]

"""The view of the demo (numpy only): heatmap, mask contour, box and points drawn on the image.

Coordinates: box ``[x_min, y_min, x_max, y_max]`` and points ``(x, y)`` in original-image pixels
(x = column); :func:`render_overlay` maps them onto the displayed size with pixel centres aligned.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["render_overlay", "heatmap_to_rgb", "mask_contour", "POSITIVE_RGB", "NEGATIVE_RGB", "BOX_RGB",
           "CONTOUR_RGB", "PENDING_RGB"]

_JET_ANCHORS = np.array([[0.0, 0, 0, 128], [0.125, 0, 0, 255], [0.375, 0, 255, 255],
                         [0.625, 255, 255, 0], [0.875, 255, 0, 0], [1.0, 128, 0, 0]])
_JET_LUT = np.stack([np.interp(np.linspace(0, 1, 256), _JET_ANCHORS[:, 0], _JET_ANCHORS[:, c])
                     for c in (1, 2, 3)], axis=1).astype(np.uint8)
POSITIVE_RGB = (40, 220, 60)
NEGATIVE_RGB = (235, 40, 40)
BOX_RGB = (0, 160, 255)
CONTOUR_RGB = (255, 235, 0)
PENDING_RGB = (255, 255, 255)


def heatmap_to_rgb(heatmap: np.ndarray) -> np.ndarray:
    """``(H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8 with a jet colour map."""
    idx = np.clip(np.nan_to_num(heatmap, nan=0.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return _JET_LUT[idx]


def _resize_rgb(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == tuple(size_hw):
        return image
    return np.asarray(Image.fromarray(image).resize((size_hw[1], size_hw[0]), Image.BILINEAR))


def _resize_map(values: np.ndarray, size_hw: tuple[int, int], nearest: bool) -> np.ndarray:
    if values.shape == tuple(size_hw):
        return values
    if nearest:
        rows = np.minimum((np.arange(size_hw[0]) + 0.5) * values.shape[0] / size_hw[0], values.shape[0] - 1)
        cols = np.minimum((np.arange(size_hw[1]) + 0.5) * values.shape[1] / size_hw[1], values.shape[1] - 1)
        return values[rows.astype(int)[:, None], cols.astype(int)[None, :]]
    img = Image.fromarray(values.astype(np.float32))
    return np.asarray(img.resize((size_hw[1], size_hw[0]), Image.BILINEAR))


def mask_contour(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Boundary pixels of ``mask`` (inside the mask, within ``thickness`` px of the outside)."""
    mask = np.asarray(mask, dtype=bool)
    inner = mask.copy()
    for _ in range(max(1, thickness)):
        shrunk = inner.copy()
        shrunk[1:, :] &= inner[:-1, :]
        shrunk[:-1, :] &= inner[1:, :]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        shrunk[0, :] = shrunk[-1, :] = False
        shrunk[:, 0] = shrunk[:, -1] = False
        inner = shrunk
    return mask & ~inner


def _disk(canvas: np.ndarray, cx: float, cy: float, radius: float, rgb: tuple[int, int, int],
          outline: tuple[int, int, int] | None = (255, 255, 255)) -> None:
    h, w = canvas.shape[:2]
    r_out = radius + (1.5 if outline else 0)
    y0, y1 = max(0, int(cy - r_out - 1)), min(h, int(cy + r_out + 2))
    x0, x1 = max(0, int(cx - r_out - 1)), min(w, int(cx + r_out + 2))
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    patch = canvas[y0:y1, x0:x1]
    if outline:
        patch[d2 <= r_out ** 2] = outline
    patch[d2 <= radius ** 2] = rgb


def _rect(canvas: np.ndarray, x0: float, y0: float, x1: float, y1: float, rgb: tuple[int, int, int],
          thickness: int) -> None:
    h, w = canvas.shape[:2]
    xa, xb = int(round(min(x0, x1))), int(round(max(x0, x1)))
    ya, yb = int(round(min(y0, y1))), int(round(max(y0, y1)))
    xa, xb = np.clip([xa, xb], 0, w - 1)
    ya, yb = np.clip([ya, yb], 0, h - 1)
    t = max(1, thickness)
    canvas[ya:min(ya + t, yb + 1), xa:xb + 1] = rgb
    canvas[max(yb - t + 1, ya):yb + 1, xa:xb + 1] = rgb
    canvas[ya:yb + 1, xa:min(xa + t, xb + 1)] = rgb
    canvas[ya:yb + 1, max(xb - t + 1, xa):xb + 1] = rgb


def render_overlay(image: np.ndarray, *, heatmap: np.ndarray | None = None, mask: np.ndarray | None = None,
                   box: np.ndarray | None = None, points: np.ndarray | None = None,
                   point_labels: np.ndarray | None = None,
                   pending_corner: tuple[float, float] | None = None,
                   display_size: tuple[int, int] | None = None, heatmap_alpha: float = 0.35,
                   mask_alpha: float = 0.25) -> np.ndarray:
    """Draw the heatmap, mask, box and points on ``image``.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        heatmap: ``(H, W)`` float in [0, 1], blended with a jet colour map.
        mask: ``(H, W)`` bool; tinted and outlined in yellow.
        box: ``[x_min, y_min, x_max, y_max]`` original pixels (blue rectangle).
        points: ``(N, 2)`` ``(x, y)`` original pixels; ``point_labels`` 1 -> green, 0 -> red.
        pending_corner: first corner ``(x, y)`` of a box being drawn (white dot).
        display_size: ``(H_d, W_d)`` of the output (default: original size).

    Returns:
        ``(H_d, W_d, 3)`` uint8 RGB.
    """
    h, w = image.shape[:2]
    size = (h, w) if display_size is None else (int(display_size[0]), int(display_size[1]))
    sy, sx = size[0] / h, size[1] / w
    canvas = _resize_rgb(np.ascontiguousarray(image, dtype=np.uint8), size).astype(np.float32)
    if heatmap is not None:
        hm = _resize_map(np.asarray(heatmap, dtype=np.float32), size, nearest=False)
        canvas = (1 - heatmap_alpha) * canvas + heatmap_alpha * heatmap_to_rgb(hm).astype(np.float32)
    out = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    thick = max(1, round(max(size) / 256))
    if mask is not None:
        m = _resize_map(np.asarray(mask, dtype=bool), size, nearest=True)
        if m.any():
            tint = np.array(CONTOUR_RGB, dtype=np.float32)
            out[m] = np.clip((1 - mask_alpha) * out[m].astype(np.float32) + mask_alpha * tint + 0.5,
                             0, 255).astype(np.uint8)
            out[mask_contour(m, thick)] = CONTOUR_RGB
    if box is not None:
        b = np.asarray(box, dtype=np.float64)
        _rect(out, (b[0] + 0.5) * sx - 0.5, (b[1] + 0.5) * sy - 0.5,
              (b[2] + 0.5) * sx - 0.5, (b[3] + 0.5) * sy - 0.5, BOX_RGB, thick)
    radius = max(3.0, max(size) / 110)
    if points is not None and len(points):
        labels = np.ones(len(points), np.int64) if point_labels is None else np.asarray(point_labels)
        for (x, y), lab in zip(np.asarray(points, dtype=np.float64), labels):
            _disk(out, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, radius,
                  POSITIVE_RGB if lab == 1 else NEGATIVE_RGB)
    if pending_corner is not None:
        x, y = pending_corner
        _disk(out, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, radius * 0.8, PENDING_RGB, outline=BOX_RGB)
    return out

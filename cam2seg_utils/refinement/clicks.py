"""The simulated user of the interactive evaluation: it reads the ground truth and clicks.

This is **not** a prompting strategy and never runs outside an evaluation: it looks at the ground
truth to decide where a clinician would click next. It follows the protocol of the interactive
segmentation benchmarks (RITM: Sofiiuk et al., "Reviving Iterative Training with Mask Guidance
for Interactive Segmentation", ICIP 2022, ``isegm/inference/clicker.py``,
``Clicker._get_next_click(pred_mask, padding=True)``; SimpleClick, Liu et al., ICCV 2023, reuses
that clicker unchanged; NoC@85 / NoC@90 are their metrics):

1. the error regions of the current mask are the **false negatives** (lesion pixels the mask
   misses) and the **false positives** (mask pixels outside the lesion);
2. each error map gets its Euclidean distance transform (exact, ``scipy.ndimage.
   distance_transform_edt``; RITM uses OpenCV's precise L2 transform, the same values), with the
   **image border counted as boundary**: the map is padded with one row / column of non-error
   pixels on every side before the transform, as RITM's ``padding=True`` does. A lesion cut by
   the image edge is therefore clicked inside, not on the edge;
3. pixels clicked before are excluded (RITM's ``not_clicked_map``), so a click that a refinement
   failed to fix is not repeated on the same pixel;
4. the click lands on the error pixel with the **largest** distance: the centre of the largest
   inscribed disc of any error region, i.e. inside the error region that is largest in that sense
   (the widest), as far as possible from its boundary. It is **positive** (label 1) when that
   pixel is a missed lesion pixel and **negative** (label 0) when it is a false positive.

Tie-breaking (deterministic, RITM's): a positive click only when the largest false-negative
distance is **strictly** larger than the largest false-positive distance (a tie gives a negative
click); among pixels of equal distance, the first in row-major order (smallest row, then smallest
column). When the mask is perfect (no error pixel left that was not clicked) there is no next
click (:meth:`SimulatedUser.next_click` returns ``None``) and the evaluation keeps the mask.

Coordinates: clicks are ``(x, y)`` in original-image pixels (x = column), integers here since
they are pixel centres; masks are ``(H, W)`` bool.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt

#: Clicks per image in the evaluation (the benchmarks' budget).
MAX_CLICKS = 20


@dataclass(frozen=True)
class Click:
    """One click: ``(x, y)`` original-image pixels (x = column, y = row); ``positive`` True = the
    pixel belongs to the lesion (label 1), False = it does not (label 0)."""

    x: float
    y: float
    positive: bool

    @property
    def label(self) -> int:
        """The SAM point label: 1 foreground, 0 background."""
        return 1 if self.positive else 0

    @property
    def pixel(self) -> tuple[int, int]:
        """``(row, col)`` of the pixel the click is on (rounded, for indexing masks)."""
        return int(round(self.y)), int(round(self.x))


def padded_distance(error: np.ndarray) -> np.ndarray:
    """Euclidean distance of every True pixel of ``error`` ``(H, W)`` to the nearest False pixel,
    the image border counting as False (one padding pixel on every side, RITM's ``padding=True``).
    False pixels get 0. Returns float64 ``(H, W)``."""
    error = np.asarray(error, dtype=bool)
    if not error.any():
        return np.zeros(error.shape, dtype=np.float64)
    return distance_transform_edt(np.pad(error, 1))[1:-1, 1:-1]


def next_click_for(mask: np.ndarray, gt: np.ndarray, clicked: np.ndarray | None = None) -> Click | None:
    """The next click on ``mask`` given the ground truth ``gt`` (both ``(H, W)`` bool), excluding
    the pixels where ``clicked`` ``(H, W)`` bool is True; ``None`` when no error pixel is left.
    Rule and tie-breaking: module docstring."""
    mask = np.asarray(mask, dtype=bool)
    gt = np.asarray(gt, dtype=bool)
    if mask.shape != gt.shape:
        raise ValueError(f"mask {mask.shape} and ground truth {gt.shape} differ in shape")
    fn = padded_distance(gt & ~mask)
    fp = padded_distance(mask & ~gt)
    if clicked is not None:
        fn[clicked] = 0.0
        fp[clicked] = 0.0
    fn_max, fp_max = float(fn.max()), float(fp.max())
    if fn_max <= 0.0 and fp_max <= 0.0:
        return None
    positive = fn_max > fp_max
    dist, best = (fn, fn_max) if positive else (fp, fp_max)
    flat = int(np.flatnonzero(dist.ravel() == best)[0])     # first in row-major order
    row, col = divmod(flat, mask.shape[1])
    return Click(x=float(col), y=float(row), positive=positive)


class SimulatedUser:
    """The simulated user of one image: reads the ground truth, remembers its clicks.

    >>> user = SimulatedUser(gt)                       # doctest: +SKIP
    >>> click = user.next_click(current_mask)          # Click or None (mask perfect)

    Args:
        gt: ``(H, W)`` bool ground-truth mask of the lesion (may be empty: then every mask pixel
            is a false positive).
    """

    def __init__(self, gt: np.ndarray) -> None:
        self.gt = np.asarray(gt, dtype=bool)
        if self.gt.ndim != 2:
            raise ValueError(f"ground truth must be an (H, W) mask, got shape {self.gt.shape}")
        self.clicked = np.zeros(self.gt.shape, dtype=bool)
        self.clicks: list[Click] = []

    def next_click(self, mask: np.ndarray) -> Click | None:
        """Where the user clicks on ``mask`` (``(H, W)`` bool); the click is remembered."""
        click = next_click_for(mask, self.gt, self.clicked)
        if click is not None:
            self.clicked[click.pixel] = True
            self.clicks.append(click)
        return click


__all__ = ["Click", "SimulatedUser", "next_click_for", "padded_distance", "MAX_CLICKS"]

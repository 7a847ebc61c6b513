"""The references that read the ground truth or nothing at all: the one home of the oracles.

Every row a baseline adds sits beside the strategies' rows of the same images:

==================  =====================  ==============================================================
setting             ``strategy`` column    prompt
==================  =====================  ==============================================================
``gt-box``          ``oracle-gt-box``      :func:`gt_box`: the tight box of the lesion (reads the
                                           ground truth: the ceiling)
``gt-point``        ``oracle-gt-point``    :func:`gt_point`: one point deep inside the lesion (reads the
                                           ground truth)
``whole-image-box`` ``whole-image``        :func:`~cam2seg_utils.prompting.geometry.whole_image_box`: no lesion
                                           knowledge at all (the floor)
==================  =====================  ==============================================================

These are the only prompts of the grid computed from the ground truth; the strategies
(:mod:`cam2seg_utils.prompting`) never see it. Boxes are ``[x_min, y_min, x_max, y_max]`` and
points ``(x, y)`` in original-image pixels (x = column), masks ``(H, W)`` bool.
"""
from __future__ import annotations

import numpy as np

from ..prompting.geometry import whole_image_box

#: ``strategy`` of the baseline rows: the ground-truth prompts are oracles (they read the ground
#: truth); the whole-image box is the ``whole-image`` floor.
BASELINE_STRATEGY = {"gt-box": "oracle-gt-box", "gt-point": "oracle-gt-point", "whole-image-box": "whole-image"}


def gt_box(mask: np.ndarray) -> np.ndarray:
    """Tight ``[x_min, y_min, x_max, y_max]`` (inclusive pixels) of a non-empty ``(H, W)`` mask."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("ground-truth mask is empty: no box")
    return np.array([cols.min(), rows.min(), cols.max(), rows.max()], dtype=np.float64)


def gt_point(mask: np.ndarray) -> np.ndarray:
    """One ``(1, 2)`` ``(x, y)`` point: the lesion centroid (rounded) if it lies in the lesion,
    else the lesion pixel with the largest distance transform (deepest inside), ties broken by
    the smallest distance to the centroid, then by row-major order."""
    from scipy.ndimage import distance_transform_edt

    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("ground-truth mask is empty: no point")
    cy, cx = rows.mean(), cols.mean()
    y, x = int(round(cy)), int(round(cx))
    if not mask[y, x]:
        dt = distance_transform_edt(mask)
        ys, xs = np.nonzero(dt == dt.max())
        d2 = (ys - cy) ** 2 + (xs - cx) ** 2
        j = int(np.argmin(d2))  # np.nonzero is row-major and argmin takes the first minimum
        y, x = int(ys[j]), int(xs[j])
    return np.array([[x, y]], dtype=np.float64)


def baseline_prompt(setting: str, gt: np.ndarray) -> tuple[str, int, np.ndarray | None, np.ndarray | None]:
    """``(prompt_variant, num_points, box, points)`` of the baseline ``setting`` for the image
    whose ``(H, W)`` ground truth is ``gt`` (``ValueError`` for an empty mask)."""
    if setting == "gt-box":
        return "box", 0, gt_box(gt), None
    if setting == "whole-image-box":
        return "box", 0, whole_image_box(gt.shape), None
    if setting == "gt-point":
        return "points", 1, None, gt_point(gt)
    raise KeyError(f"unknown baseline {setting!r}; known: {', '.join(BASELINE_STRATEGY)}")


__all__ = ["BASELINE_STRATEGY", "gt_box", "gt_point", "baseline_prompt"]

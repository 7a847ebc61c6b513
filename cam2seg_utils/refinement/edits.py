"""Mask and box edits shared by the refinement modes (no ground truth anywhere).

Conventions: masks ``(H, W)`` bool; boxes ``[x_min, y_min, x_max, y_max]`` inclusive pixel
indices as float (x = column); clicks :class:`~cam2seg_utils.refinement.clicks.Click` ``(x, y)``
original-image pixels. Connectivity is 8 everywhere (a diagonal step joins two pixels).

Why these edits exist (measured on the official validation split, see the book's chapter "The
human in the loop, measured"): LiteMedSAM was trained with box prompts only. Its point and
dense-mask prompts are untrained for this purpose: a point alone segments nothing, points added to
a box move the whole mask, and even its own logits fed back as ``mask_input`` lower the IoU of a
ground-truth box from 0.80 to 0.72 (first 20 images). And where the box is right, the mask
still differs from the annotation mostly by a thin band along the outline (the masks trace the
pigment a few pixels inside the annotators' smooth outline), which no prompt of a box-trained
decoder moves. So a click must change the mask **locally** (:func:`accept_local`,
:func:`push_boundary`) and reach the decoder only through boxes where a box can say what the click
means (:func:`grow_box`, :func:`shrink_box`, :func:`point_to_mask`).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..prompting.geometry import tight_box  # noqa: F401  (one home; re-exported for the modes)
from .clicks import Click

EIGHT = np.ones((3, 3), dtype=bool)


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel of ``(H, W)`` to the nearest True pixel of ``mask``
    (0 on the mask; ``inf`` everywhere when the mask is empty). float64 ``(H, W)``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(~mask)


def component_at(mask: np.ndarray, row: int, col: int) -> np.ndarray:
    """The 8-connected component of ``mask`` holding pixel ``(row, col)`` (all False when that
    pixel is False). bool ``(H, W)``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask[row, col]:
        return np.zeros(mask.shape, dtype=bool)
    labels, _ = ndimage.label(mask, structure=EIGHT)
    return labels == labels[row, col]


def clip_box(box: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``box`` clipped to the ``(H, W)`` image."""
    h, w = shape
    out = np.asarray(box, dtype=np.float64).copy()
    out[[0, 2]] = np.clip(out[[0, 2]], 0, w - 1)
    out[[1, 3]] = np.clip(out[[1, 3]], 0, h - 1)
    return out


def inside_box(box: np.ndarray, click: Click) -> bool:
    return bool(box[0] <= click.x <= box[2] and box[1] <= click.y <= box[3])


def grow_box(box: np.ndarray, click: Click, margin: float, shape: tuple[int, int]) -> np.ndarray:
    """The issue's first rule for a positive click outside the box: grow the box to include the
    click with a margin of ``margin`` times the box's width / height beyond it (clipped)."""
    b = np.asarray(box, dtype=np.float64)
    mx, my = margin * (b[2] - b[0] + 1), margin * (b[3] - b[1] + 1)
    grown = np.array([min(b[0], click.x - mx), min(b[1], click.y - my),
                      max(b[2], click.x + mx), max(b[3], click.y + my)])
    return clip_box(grown, shape)


def shrink_box(box: np.ndarray, click: Click) -> np.ndarray | None:
    """The issue's first rule for a negative click inside the mask: move the box side nearest to
    the click one pixel past it (ties: left, top, right, bottom). None when that empties the box
    or the click is outside the box."""
    b = np.asarray(box, dtype=np.float64).copy()
    if not inside_box(b, click):
        return None
    gaps = [click.x - b[0], click.y - b[1], b[2] - click.x, b[3] - click.y]
    side = int(np.argmin(gaps))
    if side == 0:
        b[0] = click.x + 1
    elif side == 1:
        b[1] = click.y + 1
    elif side == 2:
        b[2] = click.x - 1
    else:
        b[3] = click.y - 1
    if b[0] > b[2] or b[1] > b[3]:
        return None
    return b


def accept_local(previous: np.ndarray, proposal: np.ndarray, click: Click, radius: float = np.inf) -> np.ndarray | None:
    """Take from ``proposal`` only the change the click asked for.

    The change is the 8-connected component, holding the clicked pixel, of the pixels where
    ``proposal`` differs from ``previous``; it is applied to ``previous`` and nothing else
    changes (a decoder answer that also moves the outline elsewhere cannot undo earlier work).
    Returns None when the proposal leaves the clicked pixel on the wrong side (the decoder
    disagrees with the click: the caller falls back). With a finite ``radius`` only the change
    within that distance of the click is taken."""
    row, col = click.pixel
    if bool(proposal[row, col]) != click.positive:
        return None
    diff = np.asarray(previous, dtype=bool) ^ np.asarray(proposal, dtype=bool)
    if np.isfinite(radius):
        h, w = diff.shape
        yy, xx = np.ogrid[:h, :w]
        diff &= (yy - row) ** 2 + (xx - col) ** 2 <= radius * radius
    change = component_at(diff, row, col)
    return np.asarray(previous, dtype=bool) ^ change


def push_boundary(mask: np.ndarray, click: Click, depth: float = 2.0, reach: float = 0.5,
                  min_radius: float = 2.0) -> np.ndarray:
    """Move the outline locally to where the click says it is (no decoder).

    A positive click at distance ``d`` outside the mask adds the pixels within ``depth * d`` of
    the mask (the band the click lies in: the simulated user clicks the middle of a missed band,
    and a clinician clicks where the outline should have been) that are within ``R`` of the
    click; a negative click at depth ``d`` inside the mask removes, symmetrically, the pixels of
    the mask within ``depth * d`` of its outline and within ``R`` of the click. ``d`` is at least
    ``min_radius``; ``R = max(reach * r_eq, depth * d)``, with ``r_eq`` the radius of the disc of
    the mask's area (the edit reaches along the outline in proportion to the lesion's size).
    The clicked pixel always ends on the clicked side. An empty mask gets a disc of radius
    ``depth * min_radius`` at a positive click.
    """
    mask = np.asarray(mask, dtype=bool)
    row, col = click.pixel
    h, w = mask.shape
    area = float(mask.sum())
    r_eq = np.sqrt(area / np.pi) if area else 0.0
    if click.positive:
        dist = distance_to(mask)
    else:
        dist = distance_to(~mask)
    d = dist[row, col]
    d = max(float(d), float(min_radius)) if np.isfinite(d) else float(min_radius)
    radius = max(reach * r_eq, depth * d)
    yy, xx = np.ogrid[:h, :w]
    near = (yy - row) ** 2 + (xx - col) ** 2 <= radius * radius
    band = (dist <= depth * d) & near
    out = (mask | band) if click.positive else (mask & ~band)
    out[row, col] = click.positive
    return out


def full_logits(segmenter, embedding, low_res: np.ndarray) -> np.ndarray:
    """``(256, 256)`` low-resolution logits -> ``(H, W)`` float32 logits at the original size (the
    segmenter's own post-processing: crop the padding, bilinear resize)."""
    import torch

    t = torch.as_tensor(np.asarray(low_res, dtype=np.float32))[None, None].to(segmenter.device)
    return segmenter.postprocess_logits(t, embedding)[0, 0].float().cpu().numpy()


def shift_threshold(mask: np.ndarray, logits: np.ndarray, click: Click, delta: float = 0.5,
                    radius: float = np.inf) -> np.ndarray:
    """Move the outline along the decoder's own evidence: a local change of its threshold.

    The decoder's mask is ``logits > 0``; its logits rise towards the lesion and fall away from
    it, so an outline a few pixels too tight (the common error of a good box) is another level
    line of the same logits. A positive click at logit ``l`` adds the pixels with logit above
    ``l - delta`` that are connected to the click through such pixels (or through the mask) and
    lie within ``radius`` of the click; a negative click at logit ``l`` removes the mask pixels
    with logit below ``l + delta`` connected to the click within ``radius`` (far from the
    decoded box the logits carry stripes of the decoder's upsampling: keep ``radius`` to the
    click's neighbourhood). The outline thus
    follows the image's contours, not a circle. The clicked pixel always ends on the clicked side.

    Args:
        mask: ``(H, W)`` bool current mask.
        logits: ``(H, W)`` float logits at the original size (:func:`full_logits`).
    """
    mask = np.asarray(mask, dtype=bool)
    row, col = click.pixel
    h, w = mask.shape
    if np.isfinite(radius):
        yy, xx = np.ogrid[:h, :w]
        near = (yy - row) ** 2 + (xx - col) ** 2 <= radius * radius
    else:
        near = np.ones(mask.shape, dtype=bool)
    level = float(logits[row, col])
    if click.positive:
        region = (logits > level - delta) & near
        region[row, col] = True
        out = mask | (component_at(region | mask, row, col) & region)
    else:
        region = (logits < level + delta) & near & mask
        region[row, col] = True
        out = mask & ~component_at(region, row, col)
    out[row, col] = click.positive
    return out


def box_ladder(click: Click, fractions, shape: tuple[int, int]) -> np.ndarray:
    """``(B, 4)`` square boxes centred on the click, of side ``fraction * max(H, W)`` for each
    fraction (clipped to the image)."""
    h, w = shape
    side = np.asarray(fractions, dtype=np.float64) * max(h, w)
    half = (side - 1) / 2
    boxes = np.stack([click.x - half, click.y - half, click.x + half, click.y + half], axis=1)
    return np.stack([clip_box(b, shape) for b in boxes])


def touches_box(mask: np.ndarray, box: np.ndarray, shape: tuple[int, int], tolerance: int = 1) -> bool:
    """Whether ``mask`` reaches a side of ``box`` that is not the image border (within
    ``tolerance`` pixels): the object goes on beyond the box."""
    tb = tight_box(mask)
    if tb is None:
        return False
    h, w = shape
    x0, y0, x1, y1 = box
    return bool((x0 > 0 and tb[0] <= x0 + tolerance) or (y0 > 0 and tb[1] <= y0 + tolerance)
                or (x1 < w - 1 and tb[2] >= x1 - tolerance) or (y1 < h - 1 and tb[3] >= y1 - tolerance))


def point_to_mask(segmenter, embedding, click: Click, negatives, fractions,
                  closed_bonus: float = 0.02, points: np.ndarray | None = None, point_labels: np.ndarray | None = None):
    """The object under a positive click, found with boxes only (one batched decoder call).

    The boxes of :func:`box_ladder` (``fractions`` of the image's longer side) are decoded at
    once; each answer's component holding the click is a candidate unless it holds a negative
    click. The candidate with the highest score wins: the decoder's predicted IoU, plus
    ``closed_bonus`` when the component does not reach the box's sides (the whole object is
    inside the box); ties go to the smaller box. (On the first 40 images of the official
    validation split, with the click at the centre of the lesion: 0.70 mean IoU against 0.84
    for the best box of each image chosen with the ground truth, and 0.21 for "the smallest box
    that holds its object".)

    ``points`` ``(N, 2)`` / ``point_labels`` ``(N,)``: point prompts sent with every box (the
    ``hybrid`` mode's clicks), or None.

    Returns ``(component (H, W) bool, box (4,), low-res logits (256, 256))`` or None when no
    box's mask holds the click.
    """
    shape = tuple(embedding.original_size)
    boxes = box_ladder(click, fractions, shape)
    if points is None:
        results = segmenter.segment_batch(embedding, boxes, None, None)
    else:
        b = len(boxes)
        results = segmenter.segment_batch(embedding, boxes, np.broadcast_to(points, (b, *np.shape(points))).copy(),
                                          np.broadcast_to(point_labels, (b, len(point_labels))).copy())
    row, col = click.pixel
    best, best_score = None, -np.inf
    for box, res in zip(boxes, results):
        comp = component_at(res.mask, row, col)
        if not comp.any() or any(comp[n.pixel] for n in negatives):
            continue
        score = float(res.predicted_iou) + (0.0 if touches_box(comp, box, shape) else closed_bonus)
        if score > best_score:
            best, best_score = (comp, box, res.low_res_logits), score
    return best


def respects(mask: np.ndarray, clicks) -> bool:
    """Whether every click's pixel is on its side of ``mask``."""
    return all(bool(mask[c.pixel]) == c.positive for c in clicks)


__all__ = ["EIGHT", "distance_to", "component_at", "tight_box", "clip_box", "inside_box", "grow_box",
           "shrink_box", "accept_local", "push_boundary", "full_logits", "shift_threshold", "box_ladder", "touches_box", "point_to_mask",
           "respects"]

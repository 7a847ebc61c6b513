"""GT-free scores of a decoded candidate mask, and the linear score that ranks candidates.

Every feature is computed from the image, the heatmaps and the segmenter's own outputs; none
reads ground truth. Masks are compared at the prior's working resolution (longest side 256), so
scoring a 6688x4439 image costs what a 256 px one costs.

=================  ============================================================================
feature            meaning
=================  ============================================================================
``pred_iou``       the segmenter's IoU-head estimate for the mask
``log_area``       ``log10`` of the mask's fraction of the image
``border``         fraction of the image border the mask covers (vignette and skin folds touch it)
``outside_fov``    fraction of the mask in the dermatoscope's unlit vignette
``contrast``       mean ``pigment`` channel inside the mask minus in a ring around it
``fill``           mask area / its tight box area (lesions are compact)
``box_agreement``  IoU of the mask's tight box with the prompt box (a box the segmenter
                   "accepts" returns a mask that fills it)
``consensus``      mean IoU of the mask with the other candidates' masks
``cam_mass``       mean over CAMs of the fraction of the heatmap's mass inside the mask
``cam_contrast``   mean over CAMs of (mean heat inside - mean heat outside)
``artefact``       fraction of the mask on stickers / ink (:mod:`.artefacts`)
``centrality``     1 - distance of the mask's centroid to the image centre / half-diagonal
                   (in coordinates scaled to the unit square; dermoscopy centres the lesion)
``stability``      SAM's stability score: area(logits > 1) / area(logits > -1) of the
                   low-resolution logits (the mask barely moves with the threshold)
``sides``          how many of the image's four sides the mask touches, / 4 (a mask of the
                   whole skin touches all four; a lesion, none or one)
``colour_contrast`` CIE76 colour difference between the mask's median Lab colour and its
                   ring's, / 50 (perceptual contrast: lesions differ from the skin around them)
``edge``           mean lightness gradient along the mask's outline (image border excluded),
                   / the 90th percentile of the gradient in the field of view (a lesion's
                   outline follows an edge; a mask of the whole skin follows none)
=================  ============================================================================

The rankings that turn these features into a choice (the linear weight sets, ``consensus``, the
logistic rankers) live in :mod:`.weights` and the modules it names.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy import ndimage

from .geometry import border_contact, box_iou, mask_iou, tight_box
from .prior import ImagePrior

FEATURES = ("pred_iou", "log_area", "border", "outside_fov", "contrast", "fill", "box_agreement",
            "consensus", "cam_mass", "cam_contrast", "artefact", "centrality", "stability", "sides",
            "colour_contrast", "edge")
CAM_FEATURES = ("cam_mass", "cam_contrast")


def stability_score(low_res_logits: np.ndarray | None, offset: float = 1.0) -> float:
    """SAM's stability score of one mask: ``|logits > offset| / |logits > -offset|`` over the
    ``(256, 256)`` low-resolution logits (1 = the mask does not move with the threshold; 0 for
    an empty mask or no logits)."""
    if low_res_logits is None:
        return 0.0
    lo = int((low_res_logits > -offset).sum())
    return float((low_res_logits > offset).sum() / lo) if lo else 0.0


def centrality(mask: np.ndarray) -> float:
    """``1 - |centroid - centre| / |corner - centre|`` of an ``(h, w)`` bool mask, coordinates
    scaled to the unit square (1 = centred, 0 = in a corner or empty)."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return 0.0
    h, w = mask.shape
    cy = rows.mean() / max(h - 1, 1) - 0.5
    cx = cols.mean() / max(w - 1, 1) - 0.5
    return float(1.0 - np.hypot(cy, cx) / np.hypot(0.5, 0.5))


def candidate_features(masks: Sequence[np.ndarray], boxes: Sequence[np.ndarray], predicted_ious: Sequence[float],
                       prior: ImagePrior, heatmaps: Mapping[str, np.ndarray],
                       low_res_logits: Sequence[np.ndarray] | None = None) -> list[dict[str, float]]:
    """Features (see the module table) of each decoded candidate.

    Args:
        masks: ``(H, W)`` bool decoded masks, one per candidate.
        boxes: the ``[x_min, y_min, x_max, y_max]`` prompt box of each.
        predicted_ious: the segmenter's predicted IoU of each.
        prior: the image's :class:`ImagePrior` (working resolution, channels, field of view).
        heatmaps: CAM name -> ``(H, W)`` heatmap (may be empty: CAM features are then 0).
        low_res_logits: the ``(256, 256)`` decoder logits of each (``stability``; 0 without).
    """
    small = [prior.to_work(np.asarray(m, dtype=bool)) for m in masks]
    grad = _lightness_gradient(prior)
    heats = [prior.to_work(np.asarray(h, dtype=np.float32)) for _, h in sorted(heatmaps.items())]
    pigment = prior.channels["pigment"]
    out: list[dict[str, float]] = []
    logits = list(low_res_logits) if low_res_logits is not None else [None] * len(masks)
    for m, full, box, piou, lg in zip(small, masks, boxes, predicted_ious, logits):
        f = dict.fromkeys(FEATURES, 0.0)
        f["pred_iou"] = float(piou)
        f["stability"] = stability_score(lg)
        area = float(m.mean())
        f["log_area"] = float(np.log10(max(area, 1e-4)))
        if area > 0:
            f["border"] = border_contact(m)
            f["outside_fov"] = float((m & ~prior.fov).sum() / m.sum())
            f["artefact"] = float((m & prior.artefacts).sum() / m.sum())
            f["centrality"] = centrality(m)
            f["sides"] = sum(int(side.any()) for side in (m[0], m[-1], m[:, 0], m[:, -1])) / 4.0
            if grad is not None:
                outline = m & ~ndimage.binary_erosion(m)
                outline[[0, -1], :] = False
                outline[:, [0, -1]] = False
                f["edge"] = float(grad[outline].mean()) if outline.any() else 0.0
            radius = max(2.0, min(12.0, np.sqrt(m.sum() / np.pi) / 2))
            ring = (ndimage.distance_transform_edt(~m) <= radius) & ~m & prior.fov
            f["contrast"] = float(pigment[m].mean() - (pigment[ring].mean() if ring.any() else 0.0))
            if prior.lab is not None and ring.any():
                f["colour_contrast"] = float(np.linalg.norm(np.median(prior.lab[m], axis=0)
                                                            - np.median(prior.lab[ring], axis=0)) / 50.0)
            tb = tight_box(m)
            f["fill"] = float(m.sum() / ((tb[2] - tb[0] + 1) * (tb[3] - tb[1] + 1)))
            full_box = tight_box(np.asarray(full, dtype=bool))
            f["box_agreement"] = box_iou(full_box, np.asarray(box, dtype=np.float64)) if full_box is not None else 0.0
            if heats:
                f["cam_mass"] = float(np.mean([h[m].sum() / max(float(h.sum()), 1e-9) for h in heats]))
                f["cam_contrast"] = float(np.mean([h[m].mean() - (h[~m].mean() if (~m).any() else 0.0)
                                                   for h in heats]))
        out.append(f)
    for i, f in enumerate(out):
        others = [mask_iou(small[i], small[j]) for j in range(len(small)) if j != i]
        f["consensus"] = float(np.mean(others)) if others else 0.0
    return out


def _lightness_gradient(prior: ImagePrior) -> np.ndarray | None:
    """``(h, w)`` gradient magnitude of the smoothed lightness, / its 90th percentile in the
    field of view (None without the prior's Lab image)."""
    if prior.lab is None:
        return None
    L = ndimage.gaussian_filter(prior.lab[..., 0], max(1.0, max(prior.work_shape) / 128))
    g = np.hypot(ndimage.sobel(L, axis=0), ndimage.sobel(L, axis=1))
    scale = float(np.percentile(g[prior.fov], 90)) if prior.fov.any() else float(np.percentile(g, 90))
    return g / scale if scale > 1e-9 else np.zeros_like(g)


__all__ = ["FEATURES", "CAM_FEATURES", "candidate_features", "stability_score", "centrality"]

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
=================  ============================================================================

:class:`LinearScore` is ``sum(weight * feature)``; its default weights were fitted on
validation images only (see :data:`PRIOR_CAM_WEIGHTS` and the book's "Beyond the paper" chapter
for the fit and the sweep).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import ndimage

from .geometry import border_contact, box_iou, mask_iou, tight_box
from .prior import ImagePrior

FEATURES = ("pred_iou", "log_area", "border", "outside_fov", "contrast", "fill", "box_agreement",
            "consensus", "cam_mass", "cam_contrast")
CAM_FEATURES = ("cam_mass", "cam_contrast")


def candidate_features(masks: Sequence[np.ndarray], boxes: Sequence[np.ndarray], predicted_ious: Sequence[float],
                       prior: ImagePrior, heatmaps: Mapping[str, np.ndarray]) -> list[dict[str, float]]:
    """Features (see the module table) of each decoded candidate.

    Args:
        masks: ``(H, W)`` bool decoded masks, one per candidate.
        boxes: the ``[x_min, y_min, x_max, y_max]`` prompt box of each.
        predicted_ious: the segmenter's predicted IoU of each.
        prior: the image's :class:`ImagePrior` (working resolution, channels, field of view).
        heatmaps: CAM name -> ``(H, W)`` heatmap (may be empty: CAM features are then 0).
    """
    small = [prior.to_work(np.asarray(m, dtype=bool)) for m in masks]
    heats = [prior.to_work(np.asarray(h, dtype=np.float32)) for _, h in sorted(heatmaps.items())]
    pigment = prior.channels["pigment"]
    out: list[dict[str, float]] = []
    for m, full, box, piou in zip(small, masks, boxes, predicted_ious):
        f = dict.fromkeys(FEATURES, 0.0)
        f["pred_iou"] = float(piou)
        area = float(m.mean())
        f["log_area"] = float(np.log10(max(area, 1e-4)))
        if area > 0:
            f["border"] = border_contact(m)
            f["outside_fov"] = float((m & ~prior.fov).sum() / m.sum())
            radius = max(2.0, min(12.0, np.sqrt(m.sum() / np.pi) / 2))
            ring = (ndimage.distance_transform_edt(~m) <= radius) & ~m & prior.fov
            f["contrast"] = float(pigment[m].mean() - (pigment[ring].mean() if ring.any() else 0.0))
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


@dataclass(frozen=True)
class LinearScore:
    """``score = sum(weights[k] * features[k])`` (features missing from ``weights`` count 0)."""

    weights: Mapping[str, float]

    def __call__(self, features: Mapping[str, float]) -> float:
        return float(sum(w * float(features.get(k, 0.0)) for k, w in self.weights.items()))

    @property
    def uses_cam(self) -> bool:
        return any(self.weights.get(k, 0.0) != 0.0 for k in CAM_FEATURES)


__all__ = ["FEATURES", "CAM_FEATURES", "candidate_features", "LinearScore"]

#: Ranking weights of ``image-prior`` (no CAM term), ``prior-cam`` and ``candidates``, fitted by
#: :mod:`cam2seg_utils.experiments.strategy_tuning` (coarse grid, ``pred_iou`` fixed at 1) on
#: validation images of the ``local-isic`` split only (zero-shot EfficientNet-Lite0, Grad-CAM and
#: Grad-CAM++, LiteMedSAM); the fit and its cross-validation are in the book's chapter 09.
IMAGE_PRIOR_WEIGHTS: dict[str, float] = {"pred_iou": 1.0, "outside_fov": -0.5}
PRIOR_CAM_WEIGHTS: dict[str, float] = {"pred_iou": 1.0, "contrast": 0.5, "outside_fov": -0.5, "fill": 0.5,
                                       "cam_mass": 0.25}
CANDIDATE_WEIGHTS: dict[str, float] = {"pred_iou": 1.0, "contrast": 0.5, "border": -0.5, "outside_fov": -1.0,
                                       "fill": 0.5, "cam_mass": 0.25}

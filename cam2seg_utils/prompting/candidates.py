"""``candidates`` (the default): CAM boxes and image boxes in one decoder batch, ranked GT-free.

Boxes: for every heatmap given, Algorithm 1's box at each percentile of ``percentiles`` and the
box of the hot component holding the most CAM mass at the same percentiles (:func:`cam_boxes`);
then the image-only boxes of ``image-prior`` (:func:`~.image_prior.image_boxes`: the prior's
regions, stickers and ink excluded, the same grown by 15 %, centred boxes). At most
:data:`~.base.MAX_PROMPTS_PER_IMAGE` boxes (about 50 on an ISIC image), decoded in **one**
batched decoder call and ranked by the named weight set of :mod:`.weights` (its ``k_masks`` is
recorded in every row). The CAM contributes boxes; whether it also votes depends on the weight
set. ``candidates`` minus ``image-prior`` (the same without the classifier) is the CAM's
contribution, which the book's chapter 09 measures.
"""
from __future__ import annotations

import numpy as np

from .algorithm1 import noisy_mask
from .base import PromptContext, register
from .geometry import mass_component, tight_box
from .image_prior import image_boxes
from .ranking import RankedStrategy
from .weights import Ranking

#: Percentiles of the CAM box ladder.
PERCENTILES = (30.0, 50.0, 70.0, 90.0)


def cam_boxes(heatmaps: dict, percentiles: tuple[float, ...] = PERCENTILES) -> tuple[list[np.ndarray], list[str]]:
    """Algorithm 1 (all hot pixels) and max-mass-component boxes of each heatmap × percentile,
    sources ``"<cam>:p<percentile>:all"`` / ``":component"``."""
    boxes, sources = [], []
    for cam in sorted(heatmaps):
        heat = np.asarray(heatmaps[cam], dtype=np.float64)
        for p in percentiles:
            mask, _ = noisy_mask(heat, p)
            for kind, m in (("all", mask), ("component", mass_component(mask, heat))):
                b = tight_box(m)
                if b is not None:
                    boxes.append(b)
                    sources.append(f"{cam}:p{p:g}:{kind}")
    return boxes, sources


@register
class Candidates(RankedStrategy):
    name = "candidates"
    description = "CAM percentile ladder + components + image-prior regions + centred boxes, ranked GT-free"

    def __init__(self, percentiles: tuple[float, ...] = PERCENTILES, weights: str | Ranking | None = None,
                 rounds: int = 0) -> None:
        super().__init__(weights, rounds)
        self.percentiles = tuple(float(p) for p in percentiles)

    def candidate_boxes(self, ctx: PromptContext) -> tuple[list[np.ndarray], list[str]]:
        boxes, sources = cam_boxes(ctx.heatmaps, self.percentiles)
        ib, isrc = image_boxes(ctx)
        return boxes + ib, sources + isrc

    def params(self) -> dict:
        return {"percentiles": list(self.percentiles), **super().params()}

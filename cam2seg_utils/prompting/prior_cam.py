"""``prior-cam``: boxes from the image, the CAM only votes in the ranking.

The candidate boxes are exactly those of ``image-prior`` (:func:`~.image_prior.image_boxes`);
the ranking adds the CAM terms of the weight set (none in the a-priori set, whose sweep found
that the CAM's mass inside a mask prefers masks of the whole skin). Between ``image-prior`` (no
CAM at all) and ``candidates`` (CAM boxes too) it splits what the CAM adds into its vote and its
boxes. Uses every heatmap it is given (``cam`` column: their names joined by ``+``).
"""
from __future__ import annotations

import numpy as np

from .base import PromptContext, register
from .image_prior import image_boxes
from .ranking import RankedStrategy


@register
class PriorCam(RankedStrategy):
    name = "prior-cam"
    description = "image-prior boxes, ranked with the CAM terms of the weight set"

    def candidate_boxes(self, ctx: PromptContext) -> tuple[list[np.ndarray], list[str]]:
        return image_boxes(ctx)

"""``image-prior``: a floor that ignores the classifier -- the lesion as the image shows it.

Candidate boxes come from the image alone (:func:`image_boxes`): the regions of
:func:`~cam2seg_utils.prompting.prior.compute_prior` (Otsu on the darkness / pigment channels;
vignette, hair, stickers and ink handled), the same boxes grown by :data:`REGION_MARGIN` on every
side (a dark core's box misses a lighter rim; the grown box lets the segmenter find it), and
centred boxes over :data:`CENTRED_FRACTIONS` of each side (dermoscopy centres the lesion; a lesion
larger than every dark region still gets a box). All are decoded in one batch and ranked with the
default weight set of :mod:`.weights` without its CAM terms: this is exactly ``candidates``
without the classifier (no CAM boxes, no CAM vote), so ``candidates`` minus ``image-prior`` is
what the CAM adds.
"""
from __future__ import annotations

import numpy as np

from .base import PromptContext, register
from .geometry import centred_box, expand_box
from .ranking import RankedStrategy

#: Sides of the centred boxes (fractions of each image side).
CENTRED_FRACTIONS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Each prior region is also offered grown by this fraction of its width / height on every side.
REGION_MARGIN = 0.15


def image_boxes(ctx: PromptContext) -> tuple[list[np.ndarray], list[str]]:
    """Boxes from the pixels alone, with their sources: the prior's regions (``prior:<channel>/
    <level>#<i>``), the same grown by :data:`REGION_MARGIN` (``prior+15%:...``), then the centred
    boxes (``centred:<fraction>``). Original-image pixels ``[x_min, y_min, x_max, y_max]``."""
    regions = ctx.prior.regions
    boxes = [r.box for r in regions]
    sources = [f"prior:{r.source}#{i}" for i, r in enumerate(regions)]
    boxes += [expand_box(r.box, ctx.shape, REGION_MARGIN) for r in regions]
    sources += [f"prior+{REGION_MARGIN:.0%}:{r.source}#{i}" for i, r in enumerate(regions)]
    boxes += [centred_box(ctx.shape, f) for f in CENTRED_FRACTIONS]
    sources += [f"centred:{f:g}" for f in CENTRED_FRACTIONS]
    return boxes, sources


@register
class ImagePriorStrategy(RankedStrategy):
    name = "image-prior"
    uses_classifier = False
    cam_votes = False
    description = "dark / pigmented regions of the image itself and centred boxes, ranked GT-free (no classifier)"

    def candidate_boxes(self, ctx: PromptContext) -> tuple[list[np.ndarray], list[str]]:
        return image_boxes(ctx)

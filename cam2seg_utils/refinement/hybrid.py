"""``hybrid``: the box edits of ``box-edit`` with every click also sent as a point prompt.

Same rules and parameters as :mod:`.box_edit`; each decoder call of an edited box (the grown
box, the box ladder of a missed object) also carries the clicks so far as SAM point prompts (label 1 positive, 0 negative), so a segmenter trained
with points can use them. With LiteMedSAM (boxes only) the points mostly perturb the mask;
:func:`~.edits.accept_local` keeps that perturbation to the clicked region.
"""
from __future__ import annotations

import numpy as np

from .base import RefinementState, register
from .box_edit import BoxEdit, BoxEditRules
from .clicks import Click


class HybridRules(BoxEditRules):
    def prompt_points(self, state: RefinementState, click: Click):
        clicks = (*state.clicks, click)
        return (np.array([[c.x, c.y] for c in clicks], dtype=np.float64),
                np.array([c.label for c in clicks], dtype=np.int64))


@register
class Hybrid(BoxEdit):
    name = "hybrid"
    description = "the box edits of box-edit, with the clicks also sent as point prompts"

    def rules(self) -> BoxEditRules:
        return HybridRules(self)


__all__ = ["Hybrid", "HybridRules"]

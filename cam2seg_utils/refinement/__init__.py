"""Interactive refinement: a start mask + clicks -> the next mask (the human in the loop).

* :mod:`.clicks`: the simulated user of the evaluation (reads the ground truth; RITM's clicker);
* :mod:`.base`: :class:`RefinementMode`, :class:`RefinementState`, :data:`REFINEMENT_MODES`,
  :func:`replay` (the one click path of the demo and of the ``hitl`` experiment);
* one module per mode: :mod:`.points`, :mod:`.box_edit`, :mod:`.hybrid`; :mod:`.edits` holds
  the mask / box edits they share.
"""
from __future__ import annotations

from . import box_edit, hybrid, points  # noqa: F401  (registration)
from .base import REFINEMENT_MODES, RefinementMode, RefinementState, build_mode, register, replay
from .clicks import MAX_CLICKS, Click, SimulatedUser, next_click_for

#: The mode the demo uses by default: the best measured one (see the chapter "The human in the
#: loop, measured").
DEFAULT_MODE = "box-edit"

__all__ = ["REFINEMENT_MODES", "DEFAULT_MODE", "RefinementMode", "RefinementState", "build_mode", "register", "replay",
           "Click", "SimulatedUser", "next_click_for", "MAX_CLICKS"]

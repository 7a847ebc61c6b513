"""The demo's click -> mask path: the refinement modes of :mod:`cam2seg_utils.refinement`.

The clinician's prompts (a box and an ordered list of clicks, :class:`~.state.PromptState`)
become a start (the box, decoded once; no box = the whole-image box) and a click history; the
mask is :func:`cam2seg_utils.refinement.replay` of the active mode, built from
:data:`~cam2seg_utils.refinement.REFINEMENT_MODES` on every call: the very code the ``hitl``
experiment measures, not a copy. States are cached per (mode, box, click prefix), so a new click
costs one step, and undoing or removing any click replays only the clicks after it.

Coordinates as everywhere: boxes ``[x_min, y_min, x_max, y_max]`` and clicks ``(x, y)`` in
original-image pixels; labels 1 = positive, 0 = negative.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from ..refinement import REFINEMENT_MODES, Click, RefinementState


def mode_choices() -> list[str]:
    """The refinement modes the demo offers: the default (best measured) first."""
    from ..refinement import DEFAULT_MODE

    names = list(REFINEMENT_MODES.names())
    return [DEFAULT_MODE] + [n for n in names if n != DEFAULT_MODE]


def mode_label(name: str) -> str:
    """``"box-edit (default: best measured)"`` / the mode's name, for the status line."""
    from ..refinement import DEFAULT_MODE

    return f"{name} (default: best measured)" if name == DEFAULT_MODE else name


class ClickReplay:
    """One image's refinement states, cached per (mode, box, click prefix).

    Args:
        segmenter: the :class:`~cam2seg_utils.segmenters.base.Segmenter` of ``embedding``.
        embedding: the image's embedding (computed once; never re-encoded here).
        capacity: states kept (least recently used dropped first).
    """

    def __init__(self, segmenter: Any, embedding: Any, capacity: int = 256) -> None:
        self.segmenter = segmenter
        self.embedding = embedding
        self.capacity = max(2, int(capacity))
        self._states: "OrderedDict[tuple, RefinementState]" = OrderedDict()
        self.steps = 0          # mode steps run (a cache hit runs none)

    def _get(self, key: tuple) -> RefinementState | None:
        hit = self._states.get(key)
        if hit is not None:
            self._states.move_to_end(key)
        return hit

    def _put(self, key: tuple, state: RefinementState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def state(self, mode: str, box: np.ndarray | None, points: np.ndarray, labels: np.ndarray) -> RefinementState:
        """The state after the clicks ``points`` ``(N, 2)`` ``(x, y)`` / ``labels`` ``(N,)`` from
        the start ``box`` (None = the whole image) with the registered mode ``mode``."""
        from ..prompting.geometry import whole_image_box

        h, w = self.embedding.original_size
        start_box = whole_image_box((h, w)) if box is None else np.asarray(box, dtype=np.float64).reshape(4)
        clicks = tuple(Click(float(x), float(y), bool(lab == 1))
                       for (x, y), lab in zip(np.asarray(points, dtype=np.float64).reshape(-1, 2),
                                              np.asarray(labels).reshape(-1)))
        base = (str(mode), start_box.tobytes())
        done = len(clicks)
        while done > 0 and (base, clicks[:done]) not in self._states:
            done -= 1
        state = self._get((base, clicks[:done]))
        if state is None:
            instance = REFINEMENT_MODES.get(mode)()
            state = instance.start(self.segmenter, self.embedding, start_box)
            self._put((base, ()), state)
        if done < len(clicks):
            instance = REFINEMENT_MODES.get(mode)()
            for k in range(done, len(clicks)):
                state = instance.step(self.segmenter, self.embedding, state, clicks[k])
                self.steps += 1
                self._put((base, clicks[:k + 1]), state)
        return state


__all__ = ["ClickReplay", "mode_choices", "mode_label"]

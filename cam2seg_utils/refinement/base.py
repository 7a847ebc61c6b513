"""The refinement layer's contract: a start + a click history + the image embedding -> the next mask.

A :class:`RefinementMode` turns one click into the next mask. It gets the segmenter and the
image's embedding (computed **once** per image; a mode only adds decoder calls, never a second
encoder pass), the current :class:`RefinementState` and the new
:class:`~cam2seg_utils.refinement.clicks.Click`, and returns the next state. The first state
comes from :meth:`RefinementMode.start` (a start box, and optionally the start's own mask, e.g.
a prompting strategy's final mask). :func:`replay` runs a whole click history; the demo and the
``hitl`` experiment both go through it, so the clinician's clicks and the simulated user's
clicks meet the same code.

Conventions (as everywhere in cam2seg): masks ``(H, W)`` bool; boxes
``[x_min, y_min, x_max, y_max]`` and clicks ``(x, y)`` in original-image pixels (x = column);
low-resolution logits ``(256, 256)`` float32 on the segmenter's model canvas.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from ..registry import Registry
from .clicks import Click


@dataclass(frozen=True)
class RefinementState:
    """Where one image's refinement stands.

    box: ``(4,)`` float64 ``[x_min, y_min, x_max, y_max]``: the box the mode sends now (modes
        that edit the box move it; the others keep the start box).
    mask: ``(H, W)`` bool, the current mask.
    logits: ``(256, 256)`` float32 low-resolution logits of the last decoder call (for a
        ``mask_input``), or None.
    clicks: every click so far, in order.
    start_box: the start's box (never changed).
    last: what the last step did (``"start"``, or a mode's short word such as ``"decoded"``,
        ``"local"``, ``"kept"``): shown by the demo, counted by the experiment.
    """

    box: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    logits: np.ndarray | None = field(repr=False)
    clicks: tuple[Click, ...] = ()
    start_box: np.ndarray | None = field(default=None, repr=False)
    last: str = "start"

    @property
    def n_clicks(self) -> int:
        return len(self.clicks)

    def then(self, click: Click, **changes: Any) -> "RefinementState":
        """The next state: ``click`` appended, ``changes`` applied."""
        return replace(self, clicks=(*self.clicks, click), **changes)


class RefinementMode(ABC):
    """Base class: a named way of turning one click into the next mask.

    Class attributes: ``name`` (registry name), ``description`` (one line, shown by the demo).
    Subclasses override :meth:`step`; their constructor keywords are their parameters
    (:meth:`params`, recorded by the experiment and part of its results' identity).
    """

    name: str = ""
    description: str = ""

    def start(self, segmenter, embedding, box: np.ndarray, mask: np.ndarray | None = None) -> RefinementState:
        """The state before any click: ``box`` ``(4,)`` decoded once (its logits are kept for
        ``mask_input``); ``mask`` ``(H, W)`` bool replaces the decoded mask when given (a
        strategy's final mask)."""
        box = np.asarray(box, dtype=np.float64).reshape(4).copy()
        res = segmenter.segment(embedding, box=box)
        start_mask = res.mask if mask is None else np.asarray(mask, dtype=bool)
        if start_mask.shape != tuple(embedding.original_size):
            raise ValueError(f"start mask has shape {start_mask.shape}, the image is {tuple(embedding.original_size)}")
        return RefinementState(box=box, mask=start_mask.copy(), logits=res.low_res_logits, start_box=box.copy())

    @abstractmethod
    def step(self, segmenter, embedding, state: RefinementState, click: Click) -> RefinementState:
        """The state after ``click`` (the mode itself; at most a few decoder calls)."""

    def params(self) -> dict[str, Any]:
        """The mode's parameters (its constructor keywords)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


REFINEMENT_MODES: Registry[type[RefinementMode]] = Registry("refinement mode")


def register(cls: type[RefinementMode]) -> type[RefinementMode]:
    """Class decorator: register a mode under its ``name``."""
    REFINEMENT_MODES.register(cls.name, cls)
    return cls


def build_mode(name: str, **params: Any) -> RefinementMode:
    """Instantiate the registered mode ``name`` with ``params`` (its constructor keywords)."""
    return REFINEMENT_MODES.get(name)(**params)


def replay(mode: RefinementMode | str, segmenter, embedding, start: RefinementState,
           clicks: Sequence[Click]) -> list[RefinementState]:
    """Run ``clicks`` one after the other from ``start``; returns the ``len(clicks) + 1`` states
    (``[start, after click 1, ...]``). The demo's click path and the experiment's both call this
    (or :meth:`RefinementMode.step`, which it calls)."""
    if isinstance(mode, str):
        mode = build_mode(mode)
    states = [start]
    for click in clicks:
        states.append(mode.step(segmenter, embedding, states[-1], click))
    return states


__all__ = ["RefinementState", "RefinementMode", "REFINEMENT_MODES", "register", "build_mode", "replay"]

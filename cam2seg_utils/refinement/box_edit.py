"""``box-edit``: clicks become box edits and local edits of the decoder's own outline.

The decoder only ever sees **boxes**, the prompt LiteMedSAM was trained with. A click is read
by where it lands (rules and parameters chosen on the first 40 images of the official
validation split, 40 ground-truth masks; the chapter "The human in the loop, measured" gives the
sweep). ``margin``, ``grow_fallback`` and ``outside`` were chosen later, on all 150 images of that
split from the current default strategy's masks (NoC@85 4.56 -> 3.53):

* **positive, far from the mask** (farther than ``far`` times the mask's equivalent radius, or
  the mask is empty): a missed object. :func:`~.edits.point_to_mask` decodes a ladder of
  boxes centred on the click in one batch and adds the object the decoder is surest of; the
  box becomes that object's tight box;
* **positive, outside the box** (the issue's first rule, ``grow``): the box grows to include the
  click with a ``margin`` (a quarter of the box's side); the decoded change around the click is
  taken (:func:`~.edits.accept_local`). When the decoder's answer to the grown box still leaves
  the click out (``grow_fallback="logits"``), the outline moves locally along **that answer's**
  logits, which are those of a box holding the click; the old state's logits are not used there,
  since beyond the box they carry the stripes of the decoder's upsampling, not an outline
  (``outside="geometric"``: a local edit outside the box is geometric);
* **negative, in the core of a mask component** that holds no positive click (the click's depth
  in the component is at least ``core`` times the component's largest depth): that component
  is a wrong object and is removed whole;
* **negative, elsewhere** (the issue's first rule, ``shrink``: the nearest box side moves past
  the click; off by default: it cut lesions in two and lowered the ground-truth-box curve);
* everything else, and any of the above that the decoder does not carry out (the clicked pixel
  stays on the wrong side, or an earlier click would flip): a **local** edit. A positive click
  moves the outline out along the decoder's own logits (:func:`~.edits.shift_threshold`: a local
  change of the decoder's threshold, ``delta`` below the clicked pixel's logit, within
  ``min(reach * r_eq, scale * d)`` of the click, at least ``min_reach`` pixels, ``r_eq`` the
  mask's equivalent radius, ``d`` the click's distance to the outline); a negative click pulls
  the outline in geometrically (:func:`~.edits.push_boundary`, ``depth``), since the logits
  inside a mask do not separate a leak from the lesion (``negative_local="logits"`` measured
  worse). A box cannot say "a bit further here"; the logits can.

The low-resolution logits of the state are the element-wise maximum of the decoder answers the
mode took (the union of the decoded objects, at threshold 0). ``refine_object`` (decode the
found object's tight box once more) and ``threshold`` (cut the found object's logits elsewhere
than 0) are measured options, off by default (no gain).
"""
from __future__ import annotations

import numpy as np

from .base import RefinementMode, RefinementState, register
from .clicks import Click
from .edits import (accept_local, component_at, distance_to, full_logits, grow_box, inside_box, point_to_mask,
                    push_boundary, respects, shift_threshold, shrink_box, tight_box)

#: Sides of the boxes :func:`~.edits.point_to_mask` tries, as fractions of the image's longer side.
LADDER = (0.06, 0.09, 0.13, 0.19, 0.27, 0.38, 0.54, 0.76, 1.0)


class BoxEditRules:
    """The click -> edit rules of ``box-edit``; ``hybrid`` overrides :meth:`decode` only (it adds
    the clicks as points to each box)."""

    def __init__(self, mode: "BoxEdit") -> None:
        self.p = mode

    def prompt_points(self, state: RefinementState, click: Click):
        """Point prompts sent with every box: none here (``hybrid``: the clicks)."""
        return None, None

    def decode(self, segmenter, embedding, box, state: RefinementState, click: Click):
        points, labels = self.prompt_points(state, click)
        return segmenter.segment(embedding, box=box, points=points, point_labels=labels)

    def local(self, segmenter, embedding, state: RefinementState, click: Click) -> np.ndarray:
        p = self.p
        mask = state.mask
        if p.local == "geometric" or state.logits is None or (not click.positive and p.negative_local == "geometric"):
            return push_boundary(mask, click, p.depth, 0.0, p.min_radius)
        if click.positive and p.outside == "geometric" and not inside_box(state.box, click):
            # beyond the box the decoder's logits carry the stripes of its upsampling, no outline
            return push_boundary(mask, click, p.depth, 0.0, p.min_radius)
        return self.shift_local(mask, full_logits(segmenter, embedding, state.logits), click)

    def shift_local(self, mask: np.ndarray, logits: np.ndarray, click: Click) -> np.ndarray:
        """:func:`~.edits.shift_threshold` of ``logits`` ``(H, W)`` within the mode's reach of the
        click: ``max(min(reach * r_eq, scale * d), min_reach)``."""
        p = self.p
        area = float(mask.sum())
        row, col = click.pixel
        d = float((distance_to(mask) if click.positive else distance_to(~mask))[row, col])
        d = d if np.isfinite(d) else np.inf
        radius = max(min(p.reach * np.sqrt(area / np.pi), p.scale * d), p.min_reach)
        return shift_threshold(mask, logits, click, p.delta, radius)

    def object_mask(self, segmenter, embedding, low_res, click: Click) -> np.ndarray:
        """The component holding the click of ``logits > threshold`` of one decoder answer."""
        row, col = click.pixel
        return component_at(full_logits(segmenter, embedding, low_res) > self.p.threshold, row, col)

    def apply(self, segmenter, embedding, state: RefinementState, click: Click) -> RefinementState:
        p = self.p
        mask = state.mask
        shape = mask.shape
        row, col = click.pixel
        if bool(mask[row, col]) == click.positive:          # already on the clicked side
            return state.then(click, last="kept")
        box, logits, new, how = state.box, state.logits, None, ""
        earlier = state.clicks
        if click.positive:
            area = float(mask.sum())
            r_eq = np.sqrt(area / np.pi)
            if not area or distance_to(mask)[row, col] > p.far * max(r_eq, 1.0):
                found = point_to_mask(segmenter, embedding, click, [c for c in earlier if not c.positive],
                                      p.ladder, p.closed_bonus, *self.prompt_points(state, click))
                if found is not None:
                    comp, box, low = found
                    negatives = [c for c in earlier if not c.positive]
                    if p.refine_object:          # once more with the object's own tight box
                        tb = tight_box(comp)
                        res = self.decode(segmenter, embedding, tb, state, click)
                        again = self.object_mask(segmenter, embedding, res.low_res_logits, click)
                        if again.any() and not any(again[c.pixel] for c in negatives):
                            comp, box, low = again, tb, res.low_res_logits
                    elif p.threshold != 0.0:
                        again = self.object_mask(segmenter, embedding, low, click)
                        if again.any() and not any(again[c.pixel] for c in negatives):
                            comp = again
                    new, how, box = mask | comp, "object", tight_box(comp)
                    logits = low if state.logits is None else np.maximum(state.logits, low)
            elif p.grow and not inside_box(box, click):
                grown = grow_box(box, click, p.margin, shape)
                res = self.decode(segmenter, embedding, grown, state, click)
                new, how = accept_local(mask, res.mask, click), "grow"
                if new is None and p.grow_fallback == "logits":
                    # the answer to the grown box leaves the click out, but its logits around the
                    # click are those of a box that holds it: move the outline along them
                    new, how = self.shift_local(mask, full_logits(segmenter, embedding, res.low_res_logits), click), "grow-local"
                if new is not None:
                    box = grown
                    logits = res.low_res_logits if state.logits is None else np.maximum(state.logits, res.low_res_logits)
        else:
            comp = component_at(mask, row, col)
            depth = distance_to(~comp)
            holds_positive = any(comp[c.pixel] for c in earlier if c.positive)
            if not holds_positive and depth[row, col] >= p.core * depth.max():
                new, how = mask & ~comp, "remove"
            elif p.shrink:
                shrunk = shrink_box(box, click)
                if shrunk is not None:
                    res = self.decode(segmenter, embedding, shrunk, state, click)
                    new = accept_local(mask, res.mask, click)
                    if new is not None:
                        box, how = shrunk, "shrink"
        if new is None or not respects(new, earlier):
            new, how = self.local(segmenter, embedding, state, click), "local"
            box, logits = state.box, state.logits
            if not respects(new, earlier):   # the local edit reached an earlier click: keep those pixels
                for c in earlier:
                    new[c.pixel] = c.positive
        return state.then(click, box=np.asarray(box, dtype=np.float64), mask=new, logits=logits, last=how)


@register
class BoxEdit(RefinementMode):
    name = "box-edit"
    description = "box edits (grow, shrink, a box ladder for a missed object) + local moves of the decoder's outline"

    def __init__(self, margin: float = 0.25, far: float = 1.0, core: float = 0.5, delta: float = 1.0,
                 reach: float = 1.0, scale: float = 4.0, min_reach: float = 8.0,
                 grow: bool = True, shrink: bool = False, local: str = "logits",
                 negative_local: str = "geometric", depth: float = 1.5, min_radius: float = 2.0,
                 ladder: tuple[float, ...] = LADDER, closed_bonus: float = 0.02,
                 refine_object: bool = False, threshold: float = 0.0, grow_fallback: str = "logits",
                 outside: str = "geometric") -> None:
        for name, value, allowed in (("local", local, ("logits", "geometric")),
                                     ("negative_local", negative_local, ("logits", "geometric")),
                                     ("grow_fallback", grow_fallback, ("logits", "none")),
                                     ("outside", outside, ("logits", "geometric"))):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        self.margin = float(margin)
        self.far = float(far)
        self.core = float(core)
        self.delta = float(delta)
        self.reach = float(reach)
        self.scale = float(scale)
        self.min_reach = float(min_reach)
        self.grow = bool(grow)
        self.shrink = bool(shrink)
        self.local = local
        self.negative_local = negative_local
        self.depth = float(depth)
        self.min_radius = float(min_radius)
        self.ladder = tuple(float(f) for f in ladder)
        self.closed_bonus = float(closed_bonus)
        self.refine_object = bool(refine_object)
        self.threshold = float(threshold)
        self.grow_fallback = grow_fallback
        self.outside = outside

    def rules(self) -> BoxEditRules:
        return BoxEditRules(self)

    def step(self, segmenter, embedding, state: RefinementState, click: Click) -> RefinementState:
        return self.rules().apply(segmenter, embedding, state, click)


__all__ = ["BoxEdit", "BoxEditRules", "LADDER"]

"""The prompting layer's contract: one strategy = heatmaps + image embedding -> final mask.

A :class:`PromptingStrategy` receives a :class:`PromptContext` for **one** image (the pixels,
the segmenter's image embedding computed once, the heatmaps of one classifier and an RNG) and
returns a :class:`StrategyOutcome`: the final mask, the prompts it sent last, and a confidence
computed **without ground truth**. Strategies never see the ground-truth mask: the context has
no field for it, and :func:`run_strategy` refuses one.

Conventions (as everywhere in cam2seg): images ``(H, W, 3)`` uint8 RGB; heatmaps ``(H, W)``
float in ``[0, 1]`` indexed ``[row, col] = [y, x]``; masks ``(H, W)`` bool; boxes
``[x_min, y_min, x_max, y_max]`` and points ``(x, y)`` in original-image pixels.

Cost: a strategy may only add decoder calls (about 50 ms each on a CPU for LiteMedSAM), never a
second encoder pass; :attr:`PromptContext.decoder_prompts` counts the prompts it decoded and
:data:`MAX_PROMPTS_PER_IMAGE` bounds them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..registry import Registry

#: A strategy decodes at most this many prompts per image (the issue's speed bar: <= 64).
MAX_PROMPTS_PER_IMAGE = 64


@dataclass
class Decoded:
    """One decoded prompt: the mask ``(H, W)`` bool, the segmenter's predicted IoU and its
    ``(256, 256)`` low-resolution logits (for ``mask_input`` re-prompting)."""

    mask: np.ndarray = field(repr=False)
    predicted_iou: float
    low_res_logits: np.ndarray = field(repr=False)


class PromptContext:
    """Everything a strategy may use for one image; the ground truth is not here.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        embedding: the segmenter's :class:`~cam2seg_utils.segmenters.base.ImageEmbedding` of
            ``image`` (computed once per image and shared by every strategy).
        segmenter: the :class:`~cam2seg_utils.segmenters.base.Segmenter` that made it.
        heatmaps: CAM name -> ``(H, W)`` heatmap in ``[0, 1]`` of one classifier (empty for
            strategies that ignore the classifier).
        rng: the only source of randomness.
        prior: an already computed :class:`~cam2seg_utils.prompting.prior.ImagePrior` of
            ``image`` to share between contexts of one image (computed lazily otherwise).
        decode_cache: a dict shared by the contexts of one image (same embedding): a prompt
            decoded once is answered from it (the decoder is deterministic).

    Counters: ``decoder_prompts`` = prompts this context was asked to decode (the per-strategy
    budget); ``decoder_calls`` = batched decoder calls that really ran (cache misses).
    """

    def __init__(self, image: np.ndarray, embedding, segmenter, heatmaps: Mapping[str, np.ndarray],
                 rng: np.random.Generator, prior=None, decode_cache: dict | None = None) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        self.image = image
        self.embedding = embedding
        self.segmenter = segmenter
        self.heatmaps = dict(heatmaps)
        for name, h in self.heatmaps.items():
            if np.shape(h) != tuple(image.shape[:2]):
                raise ValueError(f"heatmap {name!r} has shape {np.shape(h)}, expected the image's {image.shape[:2]}")
        self.rng = rng
        self._prior = prior
        self._cache = decode_cache if decode_cache is not None else {}
        self.decoder_prompts = 0
        self.decoder_calls = 0

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.image.shape[0]), int(self.image.shape[1])

    @property
    def prior(self):
        """The image-only prior (:func:`~cam2seg_utils.prompting.prior.compute_prior`), computed once."""
        if self._prior is None:
            from .prior import compute_prior

            self._prior = compute_prior(self.image)
        return self._prior

    @property
    def computed_prior(self):
        """The prior if some strategy computed it, else None (to share it without computing it)."""
        return self._prior

    def decode(self, boxes: np.ndarray | None = None, points: np.ndarray | None = None,
               point_labels: np.ndarray | None = None, mask_input: np.ndarray | None = None) -> list[Decoded]:
        """Decode ``B`` prompts in one batched decoder call (shapes as
        :meth:`Segmenter.segment_batch`: boxes ``(B, 4)``, points ``(B, N, 2)``, labels ``(B, N)``,
        mask_input ``(B, 256, 256)``)."""
        n = next(len(x) for x in (boxes, points, mask_input) if x is not None)
        if self.decoder_prompts + n > MAX_PROMPTS_PER_IMAGE:
            raise RuntimeError(f"a strategy may decode at most {MAX_PROMPTS_PER_IMAGE} prompts per image "
                               f"({self.decoder_prompts} done, {n} more asked)")
        self.decoder_prompts += n
        arrays = [None if x is None else np.ascontiguousarray(x) for x in (boxes, points, point_labels, mask_input)]
        keys = [tuple(None if a is None else (a[i].dtype.str, a[i].tobytes()) for a in arrays) for i in range(n)]
        todo = [i for i in range(n) if keys[i] not in self._cache]
        if todo:
            sub = [None if a is None else a[todo] for a in arrays]
            res = self.segmenter.segment_batch(self.embedding, *sub[:3], mask_input=sub[3])
            self.decoder_calls += 1
            for i, r in zip(todo, res):
                self._cache[keys[i]] = Decoded(r.mask, float(r.predicted_iou), r.low_res_logits)
        return [self._cache[k] for k in keys]

    def decode_boxes(self, boxes: Sequence[np.ndarray]) -> list[Decoded]:
        """Decode box prompts ``[x_min, y_min, x_max, y_max]`` (one batched call)."""
        if len(boxes) == 0:
            return []
        return self.decode(boxes=np.stack([np.asarray(b, dtype=np.float64) for b in boxes]))


@dataclass
class StrategyOutcome:
    """What a strategy returns for one image.

    mask: ``(H, W)`` bool final mask.
    box: ``(4,)`` ``[x_min, y_min, x_max, y_max]`` of the last prompt sent, or None.
    points: ``(N, 2)`` ``(x, y)`` points of the last prompt (``(0, 2)`` when none).
    point_labels: ``(N,)`` 1 foreground / 0 background.
    confidence: GT-free score in ``[0, 1]``-ish (the strategy's own; e.g. predicted IoU).
    cam: which heatmap(s) the prompt came from (``""`` when none).
    details: JSON-serialisable extras (chosen candidate, rounds, scores).
    candidate_boxes: ``(N, 4)`` the boxes a ranking strategy decoded and chose among (``None``
        for the others). Not a result: the grid's ``oracle-<strategy>`` reference row picks the
        best of them by ground truth, to split the loss into generation and selection.
    """

    mask: np.ndarray = field(repr=False)
    box: np.ndarray | None
    points: np.ndarray
    point_labels: np.ndarray
    confidence: float
    cam: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    candidate_boxes: np.ndarray | None = field(default=None, repr=False)


def no_points() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, 2), dtype=np.float64), np.zeros((0,), dtype=np.int64)


class PromptingStrategy(ABC):
    """Base class: a named way of turning one image's heatmaps into a final mask.

    Class attributes:
        name: registry name (anything that reads ground truth would have ``oracle`` in it; no
            registered strategy does).
        uses_classifier: False for the floors that ignore the CAM (whole-image box, centred box,
            image prior); the grid runs those once per image, not once per model.
        per_cam: True when the strategy uses one heatmap (the grid runs it once per CAM);
            False when it combines all heatmaps it is given.
        tuned_on: how many ground-truth masks chose its parameters, and where (the headline
            table's "ground-truth masks that tuned it" column; ``"0"``: nothing was tuned).
    """

    name: str = ""
    uses_classifier: bool = True
    per_cam: bool = True
    description: str = ""
    tuned_on: str = "0"

    @classmethod
    def label(cls, cam_label: str = "") -> str:
        """The strategy's row label in tables: ```name```, with the CAM's label when it runs once
        per CAM, or "(no classifier)" for the floors that ignore the CAM."""
        if not cls.uses_classifier:
            return f"`{cls.name}` (no classifier)"
        return f"`{cls.name}`, {cam_label}" if cls.per_cam and cam_label else f"`{cls.name}`"

    def __call__(self, ctx: PromptContext) -> StrategyOutcome:
        if self.uses_classifier and not ctx.heatmaps:
            raise ValueError(f"strategy {self.name!r} needs at least one heatmap")
        if self.per_cam and self.uses_classifier and len(ctx.heatmaps) != 1:
            raise ValueError(f"strategy {self.name!r} uses one heatmap, got {sorted(ctx.heatmaps)}")
        return self.run(ctx)

    @abstractmethod
    def run(self, ctx: PromptContext) -> StrategyOutcome:
        """The strategy itself (the only method a subclass overrides)."""

    def params(self) -> dict[str, Any]:
        """The strategy's parameters (recorded in the grid's rows and config)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


STRATEGIES: Registry[type[PromptingStrategy]] = Registry("prompting strategy")


def register(cls: type[PromptingStrategy]) -> type[PromptingStrategy]:
    """Class decorator: register a strategy under its ``name``."""
    STRATEGIES.register(cls.name, cls)
    return cls


def build_strategy(name: str, ranking_weights: Any = None, **params: Any) -> PromptingStrategy:
    """Instantiate the registered strategy ``name`` with ``params`` (its constructor's keywords).

    ``ranking_weights`` (a weight set name of :mod:`.weights`, or ``None`` = the default) goes to
    the strategies that rank candidates (``takes_ranking_weights``) and is ignored by the others,
    so that one config value can be handed to every strategy of a run."""
    cls = STRATEGIES.get(name)
    if ranking_weights is not None and getattr(cls, "takes_ranking_weights", False):
        params = {**params, "weights": ranking_weights}
    return cls(**params)


def run_strategy(strategy: PromptingStrategy | str, ctx: PromptContext, **kwargs: Any) -> StrategyOutcome:
    """Run a strategy on a context. Passing ground truth (``mask=``, ``gt=``) is an error:
    strategies are GT-free by construction."""
    if kwargs:
        raise TypeError(f"strategies take no ground truth or other inputs, got {sorted(kwargs)}")
    if isinstance(strategy, str):
        strategy = build_strategy(strategy)
    return strategy(ctx)


__all__ = ["MAX_PROMPTS_PER_IMAGE", "Decoded", "PromptContext", "StrategyOutcome", "PromptingStrategy",
           "STRATEGIES", "register", "build_strategy", "run_strategy", "no_points"]

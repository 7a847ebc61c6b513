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
from collections import abc
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..registry import Registry

#: A strategy decodes at most this many prompts per image (the issue's speed bar: <= 64).
MAX_PROMPTS_PER_IMAGE = 64


#: A decoded mask of at most this many pixels is kept as it is; a larger one (a full-size
#: image: 6688 x 4439 is 30 MB per mask) is kept run-length encoded (:class:`RunLengthMask`).
KEEP_MASK_PIXELS = 2 ** 22


class RunLengthMask:
    """A ``(H, W)`` bool mask as the runs of ``True`` of its row-major flattening: ``starts`` /
    ``ends`` (int64, end exclusive). A lesion mask has a few runs per row: about 100 KB at
    6688 x 4439 instead of 30 MB."""

    def __init__(self, mask: np.ndarray) -> None:
        flat = np.asarray(mask, dtype=bool).ravel()
        self.shape = tuple(int(v) for v in np.shape(mask))
        edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        bounds = np.concatenate([[0], edges, [flat.size]]).astype(np.int64)
        first = bool(flat[0]) if flat.size else False
        self.starts = bounds[0 if first else 1:-1:2]
        self.ends = bounds[1 if first else 2::2]

    def decode(self) -> np.ndarray:
        out = np.zeros(int(np.prod(self.shape)), dtype=bool)
        for s, e in zip(self.starts.tolist(), self.ends.tolist()):
            out[s:e] = True
        return out.reshape(self.shape)


class Decoded:
    """One decoded prompt: the segmenter's predicted IoU, its ``(256, 256)`` low-resolution
    logits (for ``mask_input`` re-prompting and the stability score) and the mask ``(H, W)``
    bool at the image size.

    The mask is made from the logits when first asked for (``upscale(low_res_logits) -> (H, W)
    bool``, e.g. :meth:`~cam2seg_utils.segmenters.base.Segmenter.upscale_masks` of one prompt)
    and then kept as it is up to :data:`KEEP_MASK_PIXELS` pixels, run-length encoded above: a
    batch of candidates costs the decoder's resolution, not the image's, until a row keeps one.
    ``Decoded(mask, predicted_iou, low_res_logits)`` holds a mask already made.
    """

    def __init__(self, mask: np.ndarray | None, predicted_iou: float, low_res_logits: np.ndarray,
                 upscale: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if mask is None and upscale is None:
            raise ValueError("Decoded needs a mask or an upscale function")
        self.predicted_iou = float(predicted_iou)
        self.low_res_logits = low_res_logits
        self._upscale = upscale
        self._mask = None if mask is None else self._keep(np.asarray(mask, dtype=bool))

    @staticmethod
    def _keep(mask: np.ndarray):
        return mask if mask.size <= KEEP_MASK_PIXELS else RunLengthMask(mask)

    @property
    def mask(self) -> np.ndarray:
        """``(H, W)`` bool at the image size (``sigmoid(logits) > 0.5``)."""
        if self._mask is None:
            full = np.asarray(self._upscale(self.low_res_logits), dtype=bool)
            self._mask = self._keep(full)
            return full
        return self._mask.decode() if isinstance(self._mask, RunLengthMask) else self._mask

    def __repr__(self) -> str:
        return f"Decoded(predicted_iou={self.predicted_iou:.4f})"


class DecodedMasks(abc.Sequence):
    """The masks of decoded prompts as a sequence made one at a time on access (at the image
    size a list of ~50 candidate masks would hold them all at once)."""

    def __init__(self, decoded: Sequence[Decoded]) -> None:
        self._decoded = list(decoded)

    def __len__(self) -> int:
        return len(self._decoded)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return DecodedMasks(self._decoded[i])
        return self._decoded[i].mask


def prompt_keys(segmenter, embedding, boxes=None, points=None, point_labels=None, mask_input=None) -> list[tuple]:
    """One hashable key per prompt: the bytes of what the decoder receives for it
    (:meth:`~cam2seg_utils.segmenters.base.Segmenter.prompt_tensors`), so that equal keys mean
    equal decoder outputs (the decoder is deterministic)."""
    tensors = segmenter.prompt_tensors(embedding.original_size, boxes, points, point_labels, mask_input)
    arrays = [None if t is None else t.cpu().numpy() for t in tensors]
    n = next(len(a) for a in arrays if a is not None)
    return [tuple(None if a is None else (a.dtype.str, a.shape[1:], a[i].tobytes()) for a in arrays)
            for i in range(n)]


class _Upscale:
    """``low_res_logits (256, 256) -> (H, W)`` bool mask of one prompt on ``embedding``."""

    def __init__(self, segmenter, embedding) -> None:
        self.segmenter, self.embedding = segmenter, embedding

    def __call__(self, low_res_logits: np.ndarray) -> np.ndarray:
        return self.segmenter.upscale_masks(low_res_logits[None], self.embedding)[0]


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
        max_prompts: the budget of :meth:`decode` (``None``: no budget, for the pipeline's plan
            that decodes every strategy's announced prompts at once).

    Counters: ``decoder_prompts`` = prompts this context was asked to decode (the per-strategy
    budget); ``decoder_calls`` = batched decoder calls that really ran (cache misses);
    ``duplicate_prompts`` = prompts answered by an identical prompt of the same call (dropped
    before decoding); ``cached_prompts`` = prompts answered by the shared decode cache.
    """

    def __init__(self, image: np.ndarray, embedding, segmenter, heatmaps: Mapping[str, np.ndarray],
                 rng: np.random.Generator, prior=None, decode_cache: dict | None = None,
                 max_prompts: int | None = MAX_PROMPTS_PER_IMAGE) -> None:
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
        self.max_prompts = max_prompts
        self.decoder_prompts = 0
        self.decoder_calls = 0
        self.duplicate_prompts = 0
        self.cached_prompts = 0

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
        mask_input ``(B, 256, 256)``).

        Two prompts that reach the decoder as the same tensors (after clipping to the image and
        mapping to the model canvas) are decoded once: a repeat within this call counts in
        :attr:`duplicate_prompts`, one decoded by an earlier call of a context sharing the cache
        in :attr:`cached_prompts`. The masks are made at the image size only when read
        (:class:`Decoded`)."""
        n = next(len(x) for x in (boxes, points, mask_input) if x is not None)
        if self.max_prompts is not None and self.decoder_prompts + n > self.max_prompts:
            raise RuntimeError(f"a strategy may decode at most {self.max_prompts} prompts per image "
                               f"({self.decoder_prompts} done, {n} more asked)")
        self.decoder_prompts += n
        arrays = [None if x is None else np.ascontiguousarray(x) for x in (boxes, points, point_labels, mask_input)]
        keys = prompt_keys(self.segmenter, self.embedding, *arrays)
        todo: list[int] = []
        seen: set = set()
        for i, key in enumerate(keys):
            if key in self._cache:
                self.cached_prompts += 1
            elif key in seen:
                self.duplicate_prompts += 1
            else:
                seen.add(key)
                todo.append(i)
        if todo:
            sub = [None if a is None else a[todo] for a in arrays]
            low, iou = self.segmenter.decode_low_res(self.embedding, *sub[:3], mask_input=sub[3])
            self.decoder_calls += 1
            upscale = _Upscale(self.segmenter, self.embedding)
            for i, lg, q in zip(todo, low, iou):
                self._cache[keys[i]] = Decoded(None, float(q), lg, upscale)
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
        per_cam: True when the strategy uses one heatmap (the grid runs it once per CAM of
            ``strategy_cams``); False when it combines all heatmaps it is given.
        every_cam: True for a strategy that runs on every CAM the pipeline makes, as each is
            made (Algorithm 1: ``draw`` on the heatmap, ``request`` the prompt, ``finish`` with
            its decoded mask once the image's prompts are decoded together).
        tuned_on: how many ground-truth masks chose its parameters, and where (the headline
            table's "ground-truth masks that tuned it" column; ``"0"``: nothing was tuned).
    """

    name: str = ""
    uses_classifier: bool = True
    per_cam: bool = True
    every_cam: bool = False
    description: str = ""
    tuned_on: str = "0"

    @classmethod
    def label(cls, cam_label: str = "") -> str:
        """The strategy's row label in tables: ```name```, with the CAM's label when it runs once
        per CAM, or "(no classifier)" for the floors that ignore the CAM."""
        if not cls.uses_classifier:
            return f"`{cls.name}` (no classifier)"
        return f"`{cls.name}`, {cam_label}" if cls.per_cam and cam_label else f"`{cls.name}`"

    def rng_key(self, cam: str | None) -> tuple:
        """What this run's generator adds to the pipeline's seeds: ``make_rng(*seeds,
        *rng_key(cam))`` (``cam``: the heatmap of a per-CAM run, else None)."""
        return (*([cam] if cam else []), self.name)

    def planned_boxes(self, ctx: "PromptContext") -> list[np.ndarray]:
        """Box prompts this strategy will decode first, known before it runs (none by default);
        the pipeline decodes the announced boxes of every strategy of an image in one call."""
        return []

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


__all__ = ["MAX_PROMPTS_PER_IMAGE", "KEEP_MASK_PIXELS", "Decoded", "DecodedMasks", "RunLengthMask", "prompt_keys",
           "PromptContext", "StrategyOutcome", "PromptingStrategy",
           "STRATEGIES", "register", "build_strategy", "run_strategy", "no_points"]

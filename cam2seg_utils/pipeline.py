"""One image, one pipeline: classify -> CAMs -> strategy -> mask (:func:`segment_image`).

The grid's engine (:mod:`cam2seg_utils.experiments.engine`, every setting x model of every
test image) and the demo (:func:`cam2seg_utils.demo.state.analyse_image`, one uploaded image)
both run this function; what differs between them is passed in, never re-implemented:

* where a heatmap comes from (``heatmap``: the grid's on-disk cache, or :class:`CamComputer`);
* where the random generators start (``seeds``: the grid's seed, image id, setting and model;
  the demo's image SHA-256); each run draws from ``make_rng(*seeds, *strategy.rng_key(cam))``;
* the state the strategies of one image share (``shared``: the image prior and the decode
  cache; the grid keeps one per image across its classifiers).

Steps of :class:`ImagePass` (an iterator; :func:`segment_image` runs it through), for one image
``(H, W, 3)`` uint8 RGB:

1. the classifier predicts once; the argmax is the CAM target (Algorithm 1, step 4);
2. each CAM of ``cams`` gives a ``(H, W)`` float32 heatmap in ``[0, 1]``; a failing CAM is
   recorded (:attr:`SegmentedImage.cam_errors`) and the others go on. The strategies that run on
   every CAM (``every_cam``: Algorithm 1, one strategy per percentile x points x amplification
   x variant) draw their prompts from it at once; the pass yields it (:class:`CamMap`), then
   keeps only the heatmaps of ``strategy_cams``: one other full-size heatmap at a time;
3. the segmenter's image encoder runs once, unless ``embedding`` is given;
4. the prompts known in advance (Algorithm 1's, the ranked strategies' candidate boxes) are
   decoded together, one decoder call per prompt shape;
5. the runs, each yielded as it ends (:class:`StrategyRun`): Algorithm 1's per CAM, then each
   other strategy on the heatmaps of ``strategy_cams`` (a ``per_cam`` strategy once per
   heatmap, the others once on all of them, the floors that ignore the classifier once without
   any); a failing run is recorded (:attr:`StrategyRun.error`) and the others go on. Its
   outcome's ``mask`` ``(H, W)`` bool is the image's segmentation.

Ground truth never enters: nothing here takes a mask.
"""
from __future__ import annotations

import dataclasses
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator, Mapping, Sequence

import numpy as np

from .cam_options import (DEFAULT_ABLATION_CHANNELS, DEFAULT_SCORECAM_CHANNELS, DEFAULT_SCORECAM_SELECTION,
                          CamOptions)

#: The CAM options of :class:`~cam2seg_utils.cams.CamExtractor`'s defaults (ScoreCAM on its
#: top-64 variance-ranked channels, AblationCAM on every channel).
DEFAULT_CAM_OPTIONS = CamOptions(batch_size=32, ablation_channels=DEFAULT_ABLATION_CHANNELS,
                                 scorecam_channels=DEFAULT_SCORECAM_CHANNELS,
                                 scorecam_selection=DEFAULT_SCORECAM_SELECTION)

#: ``heatmap(cam, target_class) -> ((H, W) float32 heatmap, seconds spent computing it)``
HeatmapSource = Callable[[str, int], "tuple[np.ndarray, float]"]


class ClassifierFailed(RuntimeError):
    """The classifier could not predict the image (step 1); the original error is ``__cause__``."""


@dataclass
class StrategyRun:
    """One strategy run: the heatmaps it got (``cams``, sorted), its outcome (``None`` when it
    failed with ``error``), the seconds it took and the decoder calls it really made."""

    strategy: Any                       # cam2seg_utils.prompting.PromptingStrategy
    cams: tuple[str, ...]
    outcome: Any | None                 # cam2seg_utils.prompting.StrategyOutcome
    seconds: float = 0.0
    decoder_calls: int = 0
    error: BaseException | None = None


@dataclass
class SharedDecodes:
    """What the strategy runs on one image embedding share: the image-only prior (computed by
    the first strategy that needs it) and the decode cache (a prompt decoded once is answered
    from it: the decoder is deterministic)."""

    prior: Any = None
    decode_cache: dict = field(default_factory=dict)


@dataclass
class SegmentedImage:
    """What :func:`segment_image` returns.

    ``prediction``: the classifier's :class:`~cam2seg_utils.models.Prediction` (``None``
    without a classifier). ``heatmaps``: CAM name -> ``(H, W)`` heatmap, the ``strategy_cams``
    that were computed (the other heatmaps are only held while their :class:`CamMap` is the
    pass's current item, so an image's memory holds one of them at a time). ``cam_seconds`` /
    ``cam_errors``: per CAM, in
    the order of ``cams``. ``runs``: one :class:`StrategyRun` per strategy run. ``embedding``: the
    segmenter's image embedding. ``seconds``: ``classify``, ``cams``, ``embed``, ``plan``,
    ``strategies``.
    """

    prediction: Any
    heatmaps: dict[str, np.ndarray]
    cam_seconds: dict[str, float]
    cam_errors: dict[str, BaseException]
    runs: list[StrategyRun]
    embedding: Any
    seconds: dict[str, float]

    @property
    def mask(self) -> np.ndarray | None:
        """``(H, W)`` bool mask of the first strategy run that succeeded (``None``: none did)."""
        for run in self.runs:
            if run.outcome is not None:
                return run.outcome.mask
        return None


class CamComputer:
    """The CAMs of one image for one classifier, without a cache: the classifier input is
    computed once and shared by the CAMs; each CAM is computed at its own resolution
    (``resize=False``) and made the image-size heatmap by
    :func:`~cam2seg_utils.cams.normalize_heatmap`, as the grid's cache does on a hit.

    ``cam_rng(cam)``: the generator a CAM needs (``randomcam``), or ``None``.
    """

    def __init__(self, classifier, image: np.ndarray, options: CamOptions = DEFAULT_CAM_OPTIONS,
                 cam_rng: Callable[[str], np.random.Generator | None] | None = None) -> None:
        self.classifier, self.image, self.options = classifier, image, options
        self.cam_rng = cam_rng
        self._input = None

    def raw(self, cam: str, target_class: int, rng: np.random.Generator | None = None):
        """The :class:`~cam2seg_utils.cams.HeatmapResult` of ``cam`` at the CAM's resolution."""
        from .cams import CamExtractor

        if self._input is None:
            self._input = self.classifier.preprocess(self.image)
        with CamExtractor(self.classifier, cam, progress=False, **dataclasses.asdict(self.options)) as extractor:
            return extractor(self.image, target_class=target_class, rng=rng, input_tensor=self._input, resize=False)

    def __call__(self, cam: str, target_class: int) -> tuple[np.ndarray, float]:
        from .cams import normalize_heatmap

        t0 = time.perf_counter()
        res = self.raw(cam, target_class, self.cam_rng(cam) if self.cam_rng is not None else None)
        return normalize_heatmap(res.raw, self.image.shape[:2]), time.perf_counter() - t0


@dataclass
class Draw:
    """Algorithm 1's prompts of one heatmap for one parameter combination
    (:meth:`~cam2seg_utils.prompting.algorithm1.Algorithm1.draw`), shared by the strategies that
    draw the same (the ``box``, ``box+points`` and ``points`` variants of one combination).
    ``prompts.noisy_mask`` ``(H, W)`` is only held while its :class:`CamMap` is the current one."""

    strategy: Any                       # the first Algorithm1 strategy that drew it
    prompts: Any                        # cam2seg_utils.prompting.algorithm1.Prompts (None: failed)
    seconds: float = 0.0
    error: BaseException | None = None


@dataclass
class CamMap:
    """One CAM of the image: ``heatmap`` ``(H, W)`` float32 in ``[0, 1]`` (``None`` when the CAM
    failed with ``error``), ``seconds`` spent computing it (0 when it came from a cache), and the
    Algorithm 1 draws on it (``draws``; ``draw_error`` when Algorithm 1 failed on it).

    An image pass yields each CamMap as soon as it is made; its heatmap (unless the strategies
    need it) and its draws' noisy masks are dropped when the pass moves on, so at 6688 x 4439
    (120 MB per float32 heatmap) one heatmap beyond the strategies' is alive at a time."""

    cam: str
    heatmap: np.ndarray | None = field(repr=False)
    seconds: float = 0.0
    error: BaseException | None = None
    draws: list[Draw] = field(default_factory=list, repr=False)
    draw_error: BaseException | None = None


class ImagePass:
    """One image through the method, as an iterator (the steps of the module docstring).

    Iterating yields, in order, a :class:`CamMap` per CAM of ``cams`` as it is made, then a
    :class:`StrategyRun` per strategy run: first those of the strategies that run on every CAM
    as it is made (``every_cam``: Algorithm 1, one run per CAM and strategy), then the others (a
    ``per_cam`` strategy once per heatmap of ``strategy_cams``, the others once on all of them,
    the floors that ignore the classifier once without any). A consumer scores each item as it
    comes; nothing it is given is kept by the pass. After the iteration: ``prediction``,
    ``embedding``, ``heatmaps`` (those of ``strategy_cams``), ``cam_seconds``, ``cam_errors``,
    ``seconds`` (``classify``, ``cams``, ``embed``, ``plan``, ``strategies``), and the decoder
    counters of the plan (``plan_calls``, ``plan_prompts``, ``duplicate_prompts``).

    The plan: before any strategy runs, every prompt known in advance -- each Algorithm 1 draw
    in each variant, and the boxes a strategy announces (:meth:`PromptingStrategy.planned_boxes`:
    the ranked strategies' candidates) -- is decoded into the shared decode cache, one decoder
    call per prompt shape (all box prompts of the image's classifier in one call); identical
    prompts are decoded once (:class:`~cam2seg_utils.prompting.PromptContext.decode`).

    Args: see :func:`segment_image`. ``seeds``: the parts every generator of a run starts from
    (``make_rng(*seeds, *strategy.rng_key(cam))``: the grid's ``(seed, image_id, setting,
    model)``).
    """

    def __init__(self, image: np.ndarray, classifier, segmenter, strategies: Sequence[Any] = (), *,
                 cams: Sequence[str] = (), strategy_cams: Sequence[str] | None = None, embedding=None,
                 heatmap: HeatmapSource | None = None, cam_rng: Callable[[str], Any] | None = None,
                 seeds: tuple = (), shared: SharedDecodes | None = None,
                 model_lock: ContextManager | None = None) -> None:
        from .prompting import build_strategy

        self.image, self.classifier, self.segmenter = image, classifier, segmenter
        self.strategies = [build_strategy(s) if isinstance(s, str) else s for s in strategies]
        self.cams, self.keep = list(cams), set(cams if strategy_cams is None else strategy_cams)
        self.embedding, self.source, self.cam_rng = embedding, heatmap, cam_rng
        self.seeds = tuple(seeds)
        if self.strategies and not self.seeds:
            raise TypeError("an image pass with strategies needs seeds (randomness only through generators "
                            "made from them: make_rng(*seeds, *strategy.rng_key(cam)))")
        self.shared = shared if shared is not None else SharedDecodes()
        self.model_lock = model_lock
        self.prediction = None
        self.heatmaps: dict[str, np.ndarray] = {}
        self.cam_seconds: dict[str, float] = {}
        self.cam_errors: dict[str, BaseException] = {}
        self.seconds = {"classify": 0.0, "cams": 0.0, "embed": 0.0, "plan": 0.0, "strategies": 0.0}
        self.plan_calls = self.plan_prompts = self.duplicate_prompts = 0
        self.plan_error: BaseException | None = None
        self._draws: list[tuple[str, Any, Draw]] = []   # (cam, strategy, its draw) in the order made

    def rng(self, strategy, cam: str | None) -> np.random.Generator:
        from .seeding import make_rng

        return make_rng(*self.seeds, *strategy.rng_key(cam))

    def __iter__(self) -> Iterator[CamMap | StrategyRun]:
        every = [s for s in self.strategies if s.uses_classifier and getattr(s, "every_cam", False)]
        if self.classifier is not None:
            yield from self._cam_maps(every)
        if self.embedding is None:
            t0 = time.perf_counter()
            self.embedding = self.segmenter.embed(self.image)
            self.seconds["embed"] = time.perf_counter() - t0
        others = [s for s in self.strategies if s not in every]
        t0 = time.perf_counter()
        self._plan(others)
        self.seconds["plan"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for cam, strategy, draw in self._draws:
            yield self._finish(strategy, cam, draw)
        for strategy in others:
            if not strategy.uses_classifier:
                yield self._run(strategy, {}, None)
            elif not self.heatmaps:
                continue
            elif strategy.per_cam:
                for cam in sorted(self.heatmaps):
                    yield self._run(strategy, {cam: self.heatmaps[cam]}, cam)
            else:
                yield self._run(strategy, self.heatmaps, None)
        self.seconds["strategies"] = time.perf_counter() - t0

    # -- steps 1-2: the prediction, then each CAM and its Algorithm 1 draws ---------------------
    def _cam_maps(self, every: list) -> Iterator[CamMap]:
        with self.model_lock if self.model_lock is not None else nullcontext():
            t0 = time.perf_counter()
            try:
                self.prediction = self.classifier.predict(self.image)
            except Exception as exc:  # noqa: BLE001 - named and re-raised
                raise ClassifierFailed(f"classifier failed: {type(exc).__name__}: {exc}") from exc
            t1 = time.perf_counter()
            self.seconds["classify"] = t1 - t0
            source = self.source if self.source is not None else CamComputer(self.classifier, self.image,
                                                                              cam_rng=self.cam_rng)
            for cam in self.cams:
                t2 = time.perf_counter()
                try:
                    heat, dt = source(cam, int(self.prediction.class_index))
                    cam_map = CamMap(cam, heat, dt)
                except Exception as exc:  # noqa: BLE001 - this CAM fails, the others go on
                    cam_map = CamMap(cam, None, 0.0, exc)
                self.cam_seconds[cam] = cam_map.seconds
                if cam_map.error is not None:
                    self.cam_errors[cam] = cam_map.error
                else:
                    if cam in self.keep:
                        self.heatmaps[cam] = cam_map.heatmap
                    self._draw(cam_map, every)
                self.seconds["cams"] += time.perf_counter() - t2
                yield cam_map
                for d in cam_map.draws:     # the noisy masks were the consumer's to score
                    d.prompts = dataclasses.replace(d.prompts, noisy_mask=None)
                cam_map.heatmap = None if cam not in self.keep else cam_map.heatmap

    def _draw(self, cam_map: CamMap, every: list) -> None:
        """Algorithm 1 on one heatmap: one draw per parameter combination, shared by the
        strategies with the same generator key (the variants of one combination). A draw that
        fails is kept with its error (its runs fail with it; :attr:`CamMap.draw_error` is the
        first such error)."""
        by_key: dict[tuple, Draw] = {}
        for strategy in every:
            key = strategy.rng_key(cam_map.cam)
            if key not in by_key:
                t0 = time.perf_counter()
                try:
                    by_key[key] = Draw(strategy, strategy.draw(cam_map.heatmap, self.rng(strategy, cam_map.cam)),
                                       time.perf_counter() - t0)
                    cam_map.draws.append(by_key[key])
                except Exception as exc:  # noqa: BLE001 - this draw fails, the others go on
                    by_key[key] = Draw(strategy, None, time.perf_counter() - t0, exc)
                    cam_map.draw_error = cam_map.draw_error or exc
            self._draws.append((cam_map.cam, strategy, by_key[key]))

    # -- step 4: the plan, then the runs -----------------------------------------------------------
    def _context(self, given: Mapping[str, np.ndarray], rng: np.random.Generator, **kw):
        from .prompting import PromptContext

        return PromptContext(self.image, self.embedding, self.segmenter, given, rng, prior=self.shared.prior,
                             decode_cache=self.shared.decode_cache, **kw)

    def _plan(self, others: list) -> None:
        """Decode every prompt known before the runs, one decoder call per prompt shape."""
        from .seeding import make_rng

        groups: dict[tuple[bool, int], list] = {}
        for _, strategy, draw in self._draws:
            if draw.error is not None:
                continue
            box, pts, labels = strategy.request(draw.prompts)
            groups.setdefault((box is not None, 0 if pts is None else len(pts)), []).append((box, pts, labels))
        ctx = self._context(self.heatmaps, make_rng(*self.seeds, "plan"), max_prompts=None)
        try:
            for strategy in others:
                if strategy.uses_classifier and (not self.heatmaps or strategy.per_cam):
                    continue
                given = self.heatmaps if strategy.uses_classifier else {}
                pctx = self._context(given, make_rng(*self.seeds, "plan"))
                planned = strategy.planned_boxes(pctx)
                self.shared.prior = pctx.computed_prior or self.shared.prior
                groups.setdefault((True, 0), []).extend((np.asarray(b, dtype=np.float64), None, None)
                                                        for b in planned)
            for (has_box, n_pts), prompts in groups.items():
                ctx.decode(boxes=np.stack([p[0] for p in prompts]) if has_box else None,
                           points=np.stack([p[1] for p in prompts]) if n_pts else None,
                           point_labels=np.stack([p[2] for p in prompts]) if n_pts else None)
        except Exception as exc:  # noqa: BLE001 - the runs decode what they need themselves
            self.plan_error = exc
        finally:
            self.shared.prior = ctx.computed_prior or self.shared.prior
        self.plan_calls, self.plan_prompts = ctx.decoder_calls, ctx.decoder_prompts - ctx.cached_prompts
        self.duplicate_prompts = ctx.duplicate_prompts

    def _finish(self, strategy, cam: str, draw: Draw) -> StrategyRun:
        from .seeding import make_rng

        ctx = self._context({}, make_rng(*self.seeds, "finish"))
        record = StrategyRun(strategy, (cam,), None, draw.seconds, error=draw.error)
        if draw.error is not None:
            return record
        try:
            record.outcome = strategy.finish(ctx, cam, draw.prompts)
        except Exception as exc:  # noqa: BLE001 - this run fails, the others go on
            record.error = exc
        record.decoder_calls = ctx.decoder_calls
        return record

    def _run(self, strategy, given: dict[str, np.ndarray], cam: str | None) -> StrategyRun:
        ctx = self._context(given, self.rng(strategy, cam))
        record = StrategyRun(strategy, tuple(sorted(given)), None)
        try:
            t0 = time.perf_counter()
            record.outcome = strategy(ctx)
            record.seconds = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - this strategy fails, the others go on
            record.error = exc
        finally:
            self.shared.prior = ctx.computed_prior or self.shared.prior
            record.decoder_calls = ctx.decoder_calls
        return record


def segment_image(image: np.ndarray, classifier, segmenter, strategies: Sequence[Any] = (), *,
                  cams: Sequence[str] = (), strategy_cams: Sequence[str] | None = None, embedding=None,
                  heatmap: HeatmapSource | None = None, cam_rng: Callable[[str], Any] | None = None,
                  seeds: tuple = (), shared: SharedDecodes | None = None,
                  model_lock: ContextManager | None = None) -> SegmentedImage:
    """Classify ``image``, make its CAMs, embed it, run ``strategies``: the steps of the module
    docstring, all at once (:class:`ImagePass` gives them one at a time).

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        classifier: a :class:`~cam2seg_utils.models.Classifier`, or ``None`` (no prediction and
            no CAMs: only the strategies that ignore the classifier run).
        segmenter: a :class:`~cam2seg_utils.segmenters.base.Segmenter`.
        strategies: :class:`~cam2seg_utils.prompting.PromptingStrategy` objects (or names).
        cams: the CAMs to make, in order. ``strategy_cams``: those of them the strategies get
            (default: all); the others only go to the strategies that run on every CAM.
        embedding: the segmenter's embedding of ``image``, if already computed.
        heatmap: where a heatmap comes from, ``heatmap(cam, target_class) -> (heatmap,
            seconds)`` (default: a :class:`CamComputer` with ``cam_rng``).
        seeds: what every run's generator starts from: ``make_rng(*seeds,
            *strategy.rng_key(cam))`` (randomness only through generators).
        shared: the prior and decode cache to share with other passes on the same embedding.
        model_lock: held while the classifier and the CAM hooks run (a model shared between
            users must not interleave).

    Raises:
        ClassifierFailed: the classifier could not predict (nothing else can go on).
    """
    p = ImagePass(image, classifier, segmenter, strategies, cams=cams, strategy_cams=strategy_cams,
                  embedding=embedding, heatmap=heatmap, cam_rng=cam_rng, seeds=seeds, shared=shared,
                  model_lock=model_lock)
    runs = [item for item in p if isinstance(item, StrategyRun)]
    return SegmentedImage(p.prediction, p.heatmaps, p.cam_seconds, p.cam_errors, runs, p.embedding, p.seconds)


__all__ = ["segment_image", "ImagePass", "Draw", "SegmentedImage", "CamMap", "StrategyRun", "SharedDecodes",
           "CamComputer",
           "ClassifierFailed", "DEFAULT_CAM_OPTIONS", "HeatmapSource"]

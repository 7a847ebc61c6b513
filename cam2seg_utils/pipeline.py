"""One image, one pipeline: classify -> CAMs -> strategy -> mask (:func:`segment_image`).

The grid's engine (:mod:`cam2seg_utils.experiments.engine`, every setting x model of every
test image) and the demo (:func:`cam2seg_utils.demo.state.analyse_image`, one uploaded image)
both run this function; what differs between them is passed in, never re-implemented:

* where a heatmap comes from (``heatmap``: the grid's on-disk cache, or :class:`CamComputer`);
* the random generators (``cam_rng``, ``strategy_rng``: the grid seeds by image id, setting and
  model; the demo by the image's SHA-256);
* what happens to each heatmap as it is made (``on_heatmap``: the grid's Algorithm 1 rows for
  every prompt-parameter combination, one heatmap in memory at a time);
* the state the strategies of one image share (``shared``: the image prior and the decode
  cache; the grid keeps one per image across its classifiers).

Steps of :func:`segment_image`, for one image ``(H, W, 3)`` uint8 RGB:

1. the classifier predicts once; the argmax is the CAM target (Algorithm 1, step 4);
2. each CAM of ``cams`` gives a ``(H, W)`` float32 heatmap in ``[0, 1]``; a failing CAM is
   recorded (:attr:`SegmentedImage.cam_errors`) and the others go on;
3. the segmenter's image encoder runs once, unless ``embedding`` is given;
4. each strategy runs on the heatmaps of ``strategy_cams`` (a ``per_cam`` strategy once per
   heatmap, the others once on all of them, the floors that ignore the classifier once without
   any); a failing strategy is recorded (:attr:`StrategyRun.error`) and the others go on. Its
   outcome's ``mask`` ``(H, W)`` bool is the image's segmentation.

Ground truth never enters: nothing here takes a mask.
"""
from __future__ import annotations

import dataclasses
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Sequence

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
#: ``strategy_rng(strategy name, CAM of a per-CAM run or None) -> numpy.random.Generator``
StrategyRng = Callable[[str, "str | None"], np.random.Generator]


class ClassifierFailed(RuntimeError):
    """The classifier could not predict the image (step 1); the original error is ``__cause__``."""


@dataclass
class CamMap:
    """One CAM of the image: ``heatmap`` ``(H, W)`` float32 in ``[0, 1]`` (``None`` when the CAM
    failed with ``error``), ``seconds`` spent computing it (0 when it came from a cache)."""

    cam: str
    heatmap: np.ndarray | None = field(repr=False)
    seconds: float = 0.0
    error: BaseException | None = None


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
    that were computed (the other heatmaps are only held while ``on_heatmap`` sees them, so an
    image's memory holds one of them at a time). ``cam_seconds`` / ``cam_errors``: per CAM, in
    the order of ``cams``. ``runs``: one :class:`StrategyRun` per strategy run. ``embedding``: the
    segmenter's image embedding. ``seconds``: ``classify``, ``cams``, ``embed``, ``strategies``.
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


def segment_image(image: np.ndarray, classifier, segmenter, strategies: Sequence[Any] = (), *,
                  cams: Sequence[str] = (), strategy_cams: Sequence[str] | None = None, embedding=None,
                  heatmap: HeatmapSource | None = None, cam_rng: Callable[[str], Any] | None = None,
                  strategy_rng: StrategyRng | None = None, shared: SharedDecodes | None = None,
                  on_heatmap: Callable[[CamMap, Any], None] | None = None,
                  model_lock: ContextManager | None = None) -> SegmentedImage:
    """Classify ``image``, make its CAMs, embed it, run ``strategies``: the steps of the module
    docstring.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        classifier: a :class:`~cam2seg_utils.models.Classifier`, or ``None`` (no prediction and
            no CAMs: only the strategies that ignore the classifier run).
        segmenter: a :class:`~cam2seg_utils.segmenters.base.Segmenter`.
        strategies: :class:`~cam2seg_utils.prompting.PromptingStrategy` objects (or names).
        cams: the CAMs to make, in order. ``strategy_cams``: those of them the strategies get
            (default: all); the others only go to ``on_heatmap``.
        embedding: the segmenter's embedding of ``image``, if already computed.
        heatmap: where a heatmap comes from (default: a :class:`CamComputer` with ``cam_rng``).
        strategy_rng: the generator of each run (required when there are strategies: randomness
            only through generators passed in).
        shared: the prior and decode cache to share with other calls on the same embedding.
        on_heatmap: called with each :class:`CamMap` as soon as it is made (or has failed) and
            the prediction: ``on_heatmap(cam_map, prediction)``.
        model_lock: held while the classifier and the CAM hooks run (a model shared between
            users must not interleave).

    Raises:
        ClassifierFailed: the classifier could not predict (nothing else can go on).
    """
    from .prompting import PromptContext, build_strategy

    strategies = [build_strategy(s) if isinstance(s, str) else s for s in strategies]
    if strategies and strategy_rng is None:
        raise TypeError("segment_image: strategies need strategy_rng(name, cam) -> numpy.random.Generator")
    shared = shared if shared is not None else SharedDecodes()
    keep = set(cams if strategy_cams is None else strategy_cams)
    seconds = {"classify": 0.0, "cams": 0.0, "embed": 0.0, "strategies": 0.0}
    prediction, heatmaps, cam_seconds, cam_errors = None, {}, {}, {}
    if classifier is not None:
        with model_lock if model_lock is not None else nullcontext():
            t0 = time.perf_counter()
            try:
                prediction = classifier.predict(image)
            except Exception as exc:  # noqa: BLE001 - named and re-raised
                raise ClassifierFailed(f"classifier failed: {type(exc).__name__}: {exc}") from exc
            t1 = time.perf_counter()
            source = heatmap if heatmap is not None else CamComputer(classifier, image, cam_rng=cam_rng)
            for cam in cams:
                try:
                    heat, dt = source(cam, int(prediction.class_index))
                    cam_map = CamMap(cam, heat, dt)
                except Exception as exc:  # noqa: BLE001 - this CAM fails, the others go on
                    cam_map = CamMap(cam, None, 0.0, exc)
                if cam_map.error is None and cam in keep:
                    heatmaps[cam] = cam_map.heatmap
                cam_seconds[cam] = cam_map.seconds
                if cam_map.error is not None:
                    cam_errors[cam] = cam_map.error
                if on_heatmap is not None:
                    on_heatmap(cam_map, prediction)
            seconds["classify"], seconds["cams"] = t1 - t0, time.perf_counter() - t1
    if embedding is None:
        t0 = time.perf_counter()
        embedding = segmenter.embed(image)
        seconds["embed"] = time.perf_counter() - t0

    runs: list[StrategyRun] = []
    def run(strategy, given: dict[str, np.ndarray], cam: str | None) -> StrategyRun:
        ctx = PromptContext(image, embedding, segmenter, given, strategy_rng(strategy.name, cam), prior=shared.prior,
                            decode_cache=shared.decode_cache)
        record = StrategyRun(strategy, tuple(sorted(given)), None)
        try:
            t0 = time.perf_counter()
            record.outcome = strategy(ctx)
            record.seconds = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - this strategy fails, the others go on
            record.error = exc
        finally:
            shared.prior = ctx.computed_prior or shared.prior
            record.decoder_calls = ctx.decoder_calls
        return record

    t0 = time.perf_counter()
    for strategy in strategies:
        if not strategy.uses_classifier:
            runs.append(run(strategy, {}, None))
        elif not heatmaps:
            continue
        elif strategy.per_cam:
            runs.extend(run(strategy, {cam: heatmaps[cam]}, cam) for cam in sorted(heatmaps))
        else:
            runs.append(run(strategy, heatmaps, None))
    seconds["strategies"] = time.perf_counter() - t0
    return SegmentedImage(prediction, heatmaps, cam_seconds, cam_errors, runs, embedding, seconds)


__all__ = ["segment_image", "SegmentedImage", "CamMap", "StrategyRun", "SharedDecodes", "CamComputer",
           "ClassifierFailed", "DEFAULT_CAM_OPTIONS", "HeatmapSource", "StrategyRng"]

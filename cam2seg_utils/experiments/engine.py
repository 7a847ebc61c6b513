"""The per-image evaluator of the grid: one image's rows, written as one shard (:class:`GridEngine`).

For one test image:

1. the segmenter's image encoder runs **once** (``segmenter.embed``): the embedding serves every
   setting, model, CAM, prompt variant, strategy and baseline of that image;
2. for each setting (``zero-shot``: ImageNet / embedded weights, the CAM explains the predicted
   ImageNet class; ``fine-tuned``: the best fine-tuning checkpoint, the CAM explains the
   predicted benign/melanoma class) and model, :func:`cam2seg_utils.pipeline.segment_image`
   classifies the image once, makes each CAM (from the on-disk cache, :meth:`GridEngine.heatmap`)
   and runs the strategies that use the classifier on the heatmaps of ``strategy_cams``;
3. as each heatmap is made, Algorithm 1
   (:func:`cam2seg_utils.prompting.algorithm1.generate_prompts`) runs for every prompt-parameter
   combination (``percentile`` x ``num_points`` x ``amplification``) with
   ``rng = make_rng(seed, image_id, setting, model, cam, params_key)``: one draw shared by the
   ``box``, ``box+points`` and ``points`` variants, so that they differ only in what is sent to
   the segmenter; the step-7 noisy mask itself gives a ``cam-mask`` row (paper Table 1);
4. the strategies that ignore the classifier (the floors) run once (``setting = "no-classifier"``),
   then the baselines of :mod:`.baselines` (ground-truth prompts, whole-image box);
5. the Algorithm 1 and baseline prompts are decoded with ``segment_batch`` (one decoder call per
   prompt shape) and every mask is scored with :func:`cam2seg_utils.metrics.segmentation_metrics`.

Ground truth is used only for scoring, for the baselines and for the report slices
(``gt_area_fraction``, ``gt_border_fraction``), never to choose a prompt. RandomCAM draws from
``make_rng(seed, image_id, model, "randomcam")``, strategy ``s`` from
``make_rng(seed, image_id, setting, model[, cam], s)``. A failing image (corrupt file, empty
mask) gives one row with ``error`` filled; a failing classifier, CAM or strategy gives error
rows for that part and the others go on.

Memory per image: the image, its mask, the heatmaps of ``strategy_cams`` plus one other heatmap
at a time (float32 ``(H, W)``; 12 bytes per pixel while one is made) and the masks of the
decoder batch; ``benchmarks/bench_fullres.py`` measures it up to 6688 x 4439.

:class:`GridEngine` is public for the worker pool (:mod:`.workers`): each worker process builds
one with :func:`build_engine` and computes whole images with :func:`compute_image`.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..pipeline import CamComputer, CamMap, ClassifierFailed, ImagePass, SharedDecodes, StrategyRun
from ..prompting.algorithm1 import params_key
from ..seeding import make_rng
from .baselines import BASELINE_STRATEGY, baseline_prompt
from ..file_digest import file_sha256, image_digest
from .cache import HeatmapCache, heatmap_key
from .config import ExperimentConfig
from .identity import RESULTS_VERSION
from .shards import ShardStore
from .table import METRIC_KEYS, box_columns, cam_param_values, points_json, rows_to_frame

#: ``setting`` of the rows of strategies that ignore the classifier (the floors).
NO_CLASSIFIER = "no-classifier"


@dataclass
class LoadedClassifier:
    setting: str            # "zero-shot" | "fine-tuned"
    model: str
    classifier: Any         # cam2seg_utils.models.Classifier
    weights_label: str      # the table's `weights` column
    weights_id: str         # cache identity: "imagenet", "embedded" or the checkpoint's SHA-256


@dataclass
class GridCounters:
    encoder_calls: int = 0
    classifier_calls: int = 0
    cam_calls: int = 0
    cam_cache_hits: int = 0
    decoder_calls: int = 0
    decoder_prompts: int = 0     # prompts the decoder really decoded in the images' plans
    duplicate_prompts: int = 0   # prompts of a plan identical to another one of it: dropped before decoding
    images_processed: int = 0
    images_resumed: int = 0
    images_retried: int = 0      # recomputed: an error shard, a changed input file or an unreadable shard

    def add(self, other: "GridCounters") -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def minus(self, other: "GridCounters") -> "GridCounters":
        return GridCounters(**{f.name: getattr(self, f.name) - getattr(other, f.name)
                               for f in dataclasses.fields(self)})

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


COUNT_KEYS = tuple(f.name for f in dataclasses.fields(GridCounters))


@dataclass(frozen=True)
class ImageJob:
    """One image a task computes."""

    index: int                  # position in the evaluated id list (slow CAMs: the first ones)
    image_id: str
    input_sha256: str | None    # :func:`.identity.input_digest` of its files when planned
    reason: str                 # "new" | "error" | "input changed" | "unreadable shard"


def load_classifiers(config: ExperimentConfig) -> list[LoadedClassifier]:
    """Build the classifiers of every setting × model of ``config`` (kept loaded for the run)."""
    from ..models import build_classifier
    from .finetune import load_finetuned

    out = []
    for setting in config.settings:
        for model in config.models:
            if setting == "zero-shot":
                clf = build_classifier(model, weights=config.zero_shot_weights, device=config.device)
                out.append(LoadedClassifier(setting, model, clf, config.zero_shot_weights, config.zero_shot_weights))
            else:
                path = config.finetuned_checkpoint(model, must_exist=True)
                clf = load_finetuned(model, path, device=config.device)
                sha = file_sha256(path)
                out.append(LoadedClassifier(setting, model, clf, f"{path.name}@sha256:{sha[:12]}", sha))
    return out


class GridEngine:
    """The rows of one image (:meth:`image_rows`) with the models, heatmap cache and counters of
    a run; see the module docstring for the steps."""

    def __init__(self, config: ExperimentConfig, segmenter, classifiers: Sequence[LoadedClassifier],
                 cache: HeatmapCache, counters: GridCounters, split_name: str) -> None:
        self.cfg = config
        self.seg = segmenter
        self.classifiers = list(classifiers)
        self.cache = cache
        self.counters = counters
        self.split_name = split_name
        self.param_grid = list(itertools.product(config.percentile, config.num_points, config.amplification))

    # ---------------------------------------------------------------------------------------
    def heatmap(self, lc: LoadedClassifier, computer: CamComputer, image_id: str, image_sha: str,
                size_hw: tuple[int, int], cam: str, target_class: int) -> tuple[np.ndarray, float]:
        """``(heatmap, seconds)``: the float32 ``(H, W)`` heatmap at the image's own size and the
        CAM's compute time (0 on a cache hit).

        The cache holds the CAM at the resolution it is computed (the target layer's grid, a
        few hundred bytes compressed, whatever the image size); the ``(H, W)`` heatmap is made
        from that map by :func:`~cam2seg_utils.cams.normalize_heatmap` on a hit and on a miss
        alike, so a cached run and a cache-less run give the same numbers. ``computer`` holds
        the classifier input of the image, computed once and shared by its CAMs. Memory per
        call: one float64 + one float32 ``(H, W)`` array while the heatmap is made.
        """
        from ..cams import CAM_METHODS, normalize_heatmap

        clf = lc.classifier
        options = self.cfg.cam_options()
        cam_params: dict[str, Any] = {"input_size": list(clf.input_size), "mean": list(clf.mean),
                                      "std": list(clf.std), "stored": "cam-resolution",
                                      **CAM_METHODS.get(cam).cache_params(options)}
        if CAM_METHODS.get(cam).needs_rng:
            cam_params["seed"] = self.cfg.seed
        key = heatmap_key(image_id, image_sha, lc.model, lc.weights_id, cam, target_class, cam_params)
        hit = self.cache.get(key)
        dt = 0.0
        if hit is not None:
            self.counters.cam_cache_hits += 1
            raw = hit.raw
        else:
            rng = make_rng(self.cfg.seed, image_id, lc.model, cam) if CAM_METHODS.get(cam).needs_rng else None
            t0 = time.perf_counter()
            res = computer.raw(cam, target_class, rng)
            dt = time.perf_counter() - t0
            self.counters.cam_calls += 1
            raw = res.raw
            self.cache.put(key, raw, int(res.target_class), float(res.raw_min), float(res.raw_max))
        return normalize_heatmap(raw, size_hw), dt

    # ---------------------------------------------------------------------------------------
    def image_rows(self, index: int, image_id: str, dataset) -> list[dict[str, Any]]:
        """Every row of image ``image_id`` at position ``index`` of the evaluated ids."""
        from ..prompting import build_strategy
        from ..prompting.algorithm1 import Algorithm1

        cfg = self.cfg
        base_img = {"image_id": image_id, "split": self.split_name, **cam_param_values(cfg)}
        try:
            sample = dataset.load(image_id)
        except Exception as exc:  # noqa: BLE001 - recorded as an error row; the run goes on
            return [{**base_img, "error": f"{type(exc).__name__}: {exc}"}]
        image, gt = sample.image, sample.mask
        # image-level descriptors of the ground truth, for the small-lesion / border slices of the
        # reports (never given to a prompt or a strategy)
        base_img["gt_area_fraction"] = float(np.mean(gt))
        base_img["gt_border_fraction"] = _border_fraction(gt)
        try:
            embedding = self.seg.embed(image)
        except Exception as exc:  # noqa: BLE001
            return [{**base_img, "error": f"segmenter embed failed: {type(exc).__name__}: {exc}"}]
        self.counters.encoder_calls += 1
        image_sha = image_digest(image)
        seg_name = self.seg.name
        rows: list[dict[str, Any]] = []
        decoded_rows: list[dict[str, Any]] = []   # Algorithm 1's decoded rows, after the others (as before)
        slow_ok = cfg.slow_cams_max_images is None or index < cfg.slow_cams_max_images
        cams = [c for c in cfg.cams if slow_ok or c not in cfg.slow_cams]
        # the paper's loop: Algorithm 1 for every parameter combination x variant, on every CAM
        algorithm1 = [Algorithm1(p, n, a, variant) for p, n, a in self.param_grid for variant in cfg.prompt_variants]
        strategies = [build_strategy(n, cfg.ranking_weights) for n in cfg.strategies if n != Algorithm1.name]
        shared = SharedDecodes()   # the image prior and decode cache, shared by every strategy run

        def scored(run: StrategyRun, base: dict[str, Any]) -> list[dict[str, Any]]:
            self.counters.decoder_calls += run.decoder_calls
            out = [_strategy_row(run, base, gt)]
            if cfg.selection_oracles and run.outcome is not None and run.outcome.candidate_boxes is not None:
                out.append(_selection_oracle_row(run, base, gt, image, embedding, self.seg, shared))
            return out

        def consume(image_pass: ImagePass, base: dict[str, Any]) -> None:
            failed_draws = set()
            for item in image_pass:
                if isinstance(item, CamMap):
                    if item.draw_error is not None:
                        failed_draws.add(item.cam)
                    rows.extend(self.cam_mask_rows(item, {**_predicted(base, image_pass.prediction),
                                                          "cam": item.cam, "strategy": Algorithm1.name}, gt))
                elif isinstance(item.strategy, Algorithm1):
                    if item.cams[0] not in failed_draws:   # a CAM's failed Algorithm 1 is one error row
                        decoded_rows.append(self.algorithm1_row(item, image_pass, base, gt))
                else:
                    rows.extend(scored(item, base if image_pass.prediction is None
                                       else {**_predicted(base, image_pass.prediction), "segmenter": seg_name}))
            self.counters.decoder_calls += image_pass.plan_calls
            self.counters.decoder_prompts += image_pass.plan_prompts
            self.counters.duplicate_prompts += image_pass.duplicate_prompts

        for lc in self.classifiers:
            base_model = {**base_img, "setting": lc.setting, "model": lc.model, "weights": lc.weights_label}
            image_pass = ImagePass(
                image, lc.classifier, self.seg, algorithm1 + [s for s in strategies if s.uses_classifier], cams=cams,
                strategy_cams=[c for c in cams if c in cfg.strategy_cams], embedding=embedding, shared=shared,
                heatmap=CachedHeatmaps(self, lc, image, image_id, image_sha),
                seeds=(cfg.seed, image_id, lc.setting, lc.model))
            try:
                consume(image_pass, base_model)
            except ClassifierFailed as exc:
                rows.append({**base_model, "error": str(exc)})
                continue
            self.counters.classifier_calls += 1

        consume(ImagePass(image, None, self.seg, [s for s in strategies if not s.uses_classifier],
                          embedding=embedding, shared=shared, seeds=(cfg.seed, image_id, NO_CLASSIFIER)),
                {**base_img, "setting": NO_CLASSIFIER, "segmenter": seg_name})

        failed, baselines = self.baseline_rows(base_img, gt, image, embedding, shared)
        return rows + failed + decoded_rows + baselines

    # ---------------------------------------------------------------------------------------
    def cam_mask_rows(self, cam_map: CamMap, base_cam: dict[str, Any], gt: np.ndarray) -> list[dict[str, Any]]:
        """The ``cam-mask`` rows of one heatmap (Algorithm 1's step-7 mask against ``gt``, one
        per parameter combination; none without ``cam_mask_rows``), or one error row when the
        CAM or Algorithm 1 failed on it."""
        from ..metrics import segmentation_metrics

        exc = cam_map.error or cam_map.draw_error
        if exc is not None:
            return [{**base_cam, "error": f"{type(exc).__name__}: {exc}"}]
        if not self.cfg.cam_mask_rows:
            return []
        out = []
        for draw in cam_map.draws:
            m = segmentation_metrics(draw.prompts.noisy_mask, gt)
            out.append({**base_cam, **_algorithm1_columns(draw.strategy),
                        "used_fallback": bool(draw.prompts.used_fallback),
                        "t_cam_s": cam_map.seconds, "t_prompt_s": draw.seconds, "prompt_variant": "cam-mask",
                        "t_decoder_s": 0.0, **box_columns(np.asarray(draw.prompts.box, dtype=np.float64)),
                        **{k: m[k] for k in METRIC_KEYS}})
        return out

    def algorithm1_row(self, run: StrategyRun, image_pass: ImagePass, base_model: dict[str, Any],
                       gt: np.ndarray) -> dict[str, Any]:
        """The row of one Algorithm 1 run (one CAM, parameter combination and variant), scored
        against ``gt`` (Algorithm 1 never saw it)."""
        from ..metrics import segmentation_metrics

        strategy, (cam,) = run.strategy, run.cams
        row = {**_predicted(base_model, image_pass.prediction), "cam": cam, "strategy": strategy.name,
               **_algorithm1_columns(strategy), "t_cam_s": image_pass.cam_seconds[cam], "t_prompt_s": run.seconds,
               "prompt_variant": strategy.variant, "segmenter": self.seg.name}
        self.counters.decoder_calls += run.decoder_calls
        if run.error is not None:
            exc = run.error
            return {**row, "error": f"segmenter failed: {type(exc).__name__}: {exc}"}
        out = run.outcome
        m = segmentation_metrics(out.mask, gt)
        return {**row, "used_fallback": bool(out.details["used_fallback"]), **box_columns(out.box),
                "points": points_json(out.points if len(out.points) else None),
                "seg_predicted_iou": float(out.confidence),
                "t_decoder_s": image_pass.seconds["plan"] / max(1, image_pass.plan_prompts),
                **{k: m[k] for k in METRIC_KEYS}}

    def baseline_rows(self, base_img: dict[str, Any], gt: np.ndarray, image: np.ndarray, embedding,
                      shared: SharedDecodes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The ground-truth and whole-image baselines (:mod:`.baselines`), decoded through the
        image's decode cache (one call per prompt shape): ``(error rows, decoded rows)``."""
        from ..metrics import segmentation_metrics
        from ..prompting import PromptContext

        rows, requests = [], []
        for setting in self.cfg.gt_baselines:
            base_gt = {**base_img, "setting": setting, "segmenter": self.seg.name, "used_fallback": False,
                       "t_cam_s": 0.0, "t_prompt_s": 0.0, "strategy": BASELINE_STRATEGY[setting]}
            try:
                variant, num_points, box, points = baseline_prompt(setting, gt)
                requests.append(({**base_gt, "prompt_variant": variant, "num_points": num_points}, box, points))
            except Exception as exc:  # noqa: BLE001
                rows.append({**base_gt, "error": f"{type(exc).__name__}: {exc}"})
        ctx = PromptContext(image, embedding, self.seg, {}, np.random.default_rng(0), decode_cache=shared.decode_cache,
                            max_prompts=None)
        groups: dict[tuple[bool, int], list[int]] = {}
        for i, (_, box, pts) in enumerate(requests):
            groups.setdefault((box is not None, 0 if pts is None else len(pts)), []).append(i)
        out: list[dict[str, Any] | None] = [None] * len(requests)
        for (has_box, n_pts), idx in groups.items():
            try:
                t0 = time.perf_counter()
                calls = ctx.decoder_calls
                decoded = ctx.decode(boxes=np.stack([requests[i][1] for i in idx]) if has_box else None,
                                     points=np.stack([requests[i][2] for i in idx]) if n_pts else None,
                                     point_labels=np.ones((len(idx), n_pts), dtype=np.int64) if n_pts else None)
                dt = (time.perf_counter() - t0) / len(idx)
                self.counters.decoder_calls += ctx.decoder_calls - calls
            except Exception as exc:  # noqa: BLE001
                for i in idx:
                    out[i] = {**requests[i][0], "error": f"segmenter failed: {type(exc).__name__}: {exc}"}
                continue
            for i, dec in zip(idx, decoded):
                row, box, pts = requests[i]
                m = segmentation_metrics(dec.mask, gt)
                out[i] = {**row, **box_columns(box), "points": points_json(pts),
                          "seg_predicted_iou": float(dec.predicted_iou), "t_decoder_s": dt,
                          **{k: m[k] for k in METRIC_KEYS}}
        return rows, [r for r in out if r is not None]


class CachedHeatmaps:
    """The heatmaps of one image and classifier for the pipeline: ``(cam, target_class) ->
    (heatmap, seconds)`` through the engine's on-disk cache (:meth:`GridEngine.heatmap`); the
    classifier input is computed once and shared by the image's CAMs."""

    def __init__(self, engine: "GridEngine", lc: LoadedClassifier, image: np.ndarray, image_id: str,
                 image_sha: str) -> None:
        self.engine, self.lc, self.image_id, self.image_sha = engine, lc, image_id, image_sha
        self.size_hw = image.shape[:2]
        self.computer = CamComputer(lc.classifier, image, engine.cfg.cam_options())

    def __call__(self, cam: str, target_class: int) -> tuple[np.ndarray, float]:
        return self.engine.heatmap(self.lc, self.computer, self.image_id, self.image_sha, self.size_hw, cam,
                                   target_class)


def _algorithm1_columns(strategy) -> dict[str, Any]:
    return {"percentile": strategy.percentile, "num_points": strategy.num_points,
            "amplification": strategy.amplification}


def _predicted(base: dict[str, Any], prediction) -> dict[str, Any]:
    return {**base, "predicted_class": int(prediction.class_index), "predicted_label": str(prediction.class_name),
            "predicted_prob": float(prediction.probability)}


def _border_fraction(mask: np.ndarray) -> float:
    from ..prompting.geometry import border_contact

    return border_contact(np.asarray(mask, dtype=bool))


def _strategy_row(run: StrategyRun, base: dict[str, Any], gt: np.ndarray) -> dict[str, Any]:
    """The grid row of one strategy run, scored against ``gt`` (the strategy never saw it)."""
    from ..metrics import segmentation_metrics

    strategy = run.strategy
    row = {**base, "strategy": strategy.name, "cam": "+".join(run.cams)}
    if run.error is not None:
        exc = run.error
        return {**row, "error": f"strategy {strategy.name} failed: {type(exc).__name__}: {exc}"}
    out = run.outcome
    m = segmentation_metrics(out.mask, gt)
    params = strategy.params()
    variant = "box" if len(out.points) == 0 else ("box+points" if out.box is not None else "points")
    return {**row, "cam": out.cam, "prompt_variant": variant,
            "percentile": float(params.get("percentile", float("nan"))), "num_points": int(len(out.points)),
            **box_columns(out.box), "points": points_json(out.points if len(out.points) else None),
            "seg_predicted_iou": float(out.confidence), "t_prompt_s": run.seconds, "t_cam_s": 0.0, "t_decoder_s": 0.0,
            "strategy_details": json.dumps({"params": params, **out.details}, sort_keys=True, default=str),
            **{k: m[k] for k in METRIC_KEYS}}


def _selection_oracle_row(run: StrategyRun, base: dict[str, Any], gt: np.ndarray, image: np.ndarray, embedding,
                         segmenter, shared) -> dict[str, Any]:
    """The ``oracle-<strategy>`` reference row: of the boxes the ranking strategy chose among,
    the one whose mask has the highest IoU with ``gt`` (ties: the first). The masks come from the
    image's decode cache, where the strategy left them (no new decoder call)."""
    from ..metrics import segmentation_metrics
    from ..prompting import PromptContext

    name = f"oracle-{run.strategy.name}"
    row = {**base, "strategy": name, "cam": "+".join(run.cams)}
    try:
        boxes = run.outcome.candidate_boxes
        ctx = PromptContext(image, embedding, segmenter, {}, np.random.default_rng(0),
                            decode_cache=shared.decode_cache)
        decoded = ctx.decode_boxes(list(boxes))
        metrics = [segmentation_metrics(d.mask, gt) for d in decoded]
        best = int(np.argmax([m["iou"] for m in metrics]))
    except Exception as exc:  # noqa: BLE001 - the reference fails, the strategy's row stands
        return {**row, "error": f"{name} failed: {type(exc).__name__}: {exc}"}
    m = metrics[best]
    return {**row, "cam": run.outcome.cam, "prompt_variant": "box", "num_points": 0, **box_columns(boxes[best]),
            "points": points_json(None), "seg_predicted_iou": float(decoded[best].predicted_iou),
            "t_prompt_s": 0.0, "t_cam_s": 0.0, "t_decoder_s": 0.0,
            "strategy_details": json.dumps({"reads_ground_truth": True, "of": run.strategy.name,
                                            "n_candidates": int(len(boxes)), "best_index": best,
                                            "decoder_calls": int(ctx.decoder_calls)}, sort_keys=True),
            **{k: m[k] for k in METRIC_KEYS}}


def build_engine(config: ExperimentConfig, split_name: str, segmenter=None,
                 classifiers: Sequence[LoadedClassifier] | None = None,
                 counters: GridCounters | None = None) -> GridEngine:
    """A :class:`GridEngine` with the models of ``config`` (built unless passed in) and its heatmap cache."""
    if segmenter is None:
        from ..segmenters import build_segmenter

        segmenter = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    if classifiers is None:
        classifiers = load_classifiers(config)
    return GridEngine(config, segmenter, classifiers, HeatmapCache(config.heatmap_cache_dir()),
                      counters if counters is not None else GridCounters(), split_name)


def compute_image(engine: GridEngine, store: ShardStore, dataset, job: ImageJob) -> None:
    """Compute one image's rows and write its shard, with the input digest it was computed
    from and its number of error rows in the shard's metadata."""
    frame = rows_to_frame(engine.image_rows(job.index, job.image_id, dataset))
    store.write_shard(job.image_id, frame, {"image_id": job.image_id, "input_sha256": job.input_sha256,
                                            "n_errors": int(frame["error"].notna().sum()),
                                            "results_version": RESULTS_VERSION})
    engine.counters.images_processed += 1


__all__ = ["GridEngine", "GridCounters", "COUNT_KEYS", "LoadedClassifier", "ImageJob", "NO_CLASSIFIER",
           "CachedHeatmaps",
           "build_engine", "compute_image", "load_classifiers", "params_key"]

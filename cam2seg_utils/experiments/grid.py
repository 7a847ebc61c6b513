"""The experiment grid: image × setting × model × CAM × prompt variant -> one tidy table.

For each test image (outermost loop):

1. the segmenter's image encoder runs **once** (``segmenter.embed``) — the embedding serves every
   setting, model, CAM, prompt variant and ground-truth baseline of that image;
2. for each setting (``zero-shot``: ImageNet / embedded weights, the CAM explains the predicted
   ImageNet class; ``fine-tuned``: the best fine-tuning checkpoint, the CAM explains the predicted
   benign/melanoma class) and model, the classifier predicts **once** (Algorithm 1, step 4);
3. for each CAM, the CAM-resolution map comes from the on-disk cache (:mod:`.cache`) or is
   computed (the classifier input shared by the image's CAMs) and stored, and becomes the
   image-size heatmap (:meth:`_Grid.heatmap`); for each prompt-parameter combination (``percentile`` × ``num_points`` ×
   ``amplification``) Algorithm 1 (:func:`cam2seg_utils.prompts.generate_prompts`) makes a box
   and points with ``rng = make_rng(seed, image_id, setting, model, cam, params_key)`` — one
   draw shared by the ``box``, ``box+points`` and ``points`` variants, so that they differ only
   in what is sent to the segmenter; the step-7 noisy mask itself gives a ``cam-mask`` row
   (paper Table 1, no segmenter);
4. baselines (``whole-image-box``: the box ``[0, 0, W-1, H-1]``, no lesion knowledge at all;
   ``gt-box``: the tight box of the lesion; ``gt-point``: one point at
   the lesion centroid — when the centroid falls outside a non-convex lesion it is moved to the
   lesion pixel deepest inside it (largest Euclidean distance transform; ties: nearest to the
   centroid));
5. all prompts of the image are decoded with ``segment_batch`` (one decoder call per prompt
   shape) and scored with :func:`cam2seg_utils.metrics.segmentation_metrics`.

Ground truth is used only for scoring and for the GT baselines, never to choose a prompt.

RandomCAM draws from ``make_rng(seed, image_id, model, "randomcam")``. ScoreCAM's top-k
(``scorecam_channels``, ``scorecam_selection``) and AblationCAM's channel ratio
(``ablation_ratio``) are recorded in every row (:data:`CAM_PARAM_COLUMNS`). With
``slow_cams_max_images`` set, ScoreCAM / AblationCAM (``slow_cams``) only run on the first that
many images of the sorted test ids (no profile but ``smoke`` sets it); the run summary records it.

Resolution: heatmaps, prompts and metrics are at each image's own size (the ground truth's), as
the paper measures; ``max_side`` downsizes larger images (and masks) first. Per image the grid
holds the image, its mask, one heatmap at a time (float32 ``(H, W)``; 12 bytes per pixel while
it is made) and the masks of the decoder batch; ``benchmarks/bench_fullres.py`` measures time,
peak memory and cache bytes per image up to 6688 x 4439.

Robustness (files: :mod:`.shards`): each image's rows are written to
``<output_dir>/shards/<image>.parquet`` atomically, with the digest of the image's files and its
number of error rows in the shard's metadata. A rerun resumes the images whose shard is valid and
computes the others: missing shards, **error shards** (a fixed input is retried) and shards whose
image or mask file changed since; the run summary counts them (``images_resumed``,
``images_retried``). A run killed at any moment (even ``kill -9``) completes on the next call and
the final table equals an uninterrupted run's (timings aside). A failing image (corrupt file,
empty mask) gives one row with ``error`` filled and the run goes on; a failing CAM or classifier
gives error rows for that CAM / model.

Identity (:mod:`.identity`): ``grid_config.json`` records what decides the numbers (results
version, config fields, resolved weights of every model, the segmenter checkpoint, the evaluated
ids); a run whose identity differs is refused, naming each difference.

Scaling out: ``shard="K/N"`` computes task K's share of the images into the same folder (one
encoder pass per image across all tasks) and :func:`merge_grid` builds ``grid.parquet`` and
``run_summary.json`` (counts added up over the tasks, missing images named); ``workers=N`` runs a
local process pool (:mod:`.workers`). A plain run is task ``0/1`` and merges at once.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..atomic import atomic_open, progress_bar
from ..seeding import make_rng
from .cache import HeatmapCache, heatmap_key, image_digest
from .config import ExperimentConfig
from .identity import (RESULTS_VERSION, ResultsMismatchError, cached_file_sha256, dataset_digest, grid_identity,
                       input_digest)
from .shards import IncompleteGridError, ShardSpec, ShardStore, shard_indices, shard_name, write_json_atomic

STRING_COLUMNS = ["image_id", "split", "setting", "model", "weights", "cam", "strategy", "prompt_variant",
                  "segmenter", "predicted_label", "points", "strategy_details", "error", "scorecam_selection"]
FLOAT_COLUMNS = ["percentile", "amplification", "predicted_prob", "box_x0", "box_y0", "box_x1",
                 "box_y1", "seg_predicted_iou", "precision", "recall", "f1", "iou", "dice",
                 "t_cam_s", "t_prompt_s", "t_decoder_s", "gt_area_fraction", "gt_border_fraction",
                 "scorecam_channels", "ablation_ratio"]
INT_COLUMNS = ["num_points", "predicted_class"]
BOOL_COLUMNS = ["used_fallback"]
COLUMNS = ["image_id", "split", "setting", "model", "weights", "cam", "strategy", "prompt_variant", "percentile",
           "num_points", "amplification", "segmenter", "predicted_class", "predicted_label",
           "predicted_prob", "box_x0", "box_y0", "box_x1", "box_y1", "points", "used_fallback",
           "seg_predicted_iou", "precision", "recall", "f1", "iou", "dice", "t_cam_s", "t_prompt_s",
           "t_decoder_s", "strategy_details", "gt_area_fraction", "gt_border_fraction", "error",
           "scorecam_channels", "scorecam_selection", "ablation_ratio"]
# the CAM parameters of the run, in every row (scorecam_channels NaN = every channel, the full
# method; tables written before these columns existed read NaN / "" here)
CAM_PARAM_COLUMNS = ["scorecam_channels", "scorecam_selection", "ablation_ratio"]
TIMING_COLUMNS = ["t_cam_s", "t_prompt_s", "t_decoder_s"]
SORT_KEY = ["image_id", "setting", "model", "strategy", "cam", "prompt_variant", "percentile", "num_points",
            "amplification"]
METRIC_KEYS = ("precision", "recall", "f1", "iou", "dice")


def cam_param_values(config: ExperimentConfig) -> dict[str, Any]:
    """The :data:`CAM_PARAM_COLUMNS` values of ``config`` (ScoreCAM's k and channel ranking,
    AblationCAM's channel ratio) as the grid writes them into every row."""
    o = config.cam_options()
    full = o.scorecam_channels is None
    return {"scorecam_channels": float("nan") if full else float(o.scorecam_channels),
            "scorecam_selection": "all" if full else o.scorecam_selection,
            "ablation_ratio": 1.0 if o.ablation_channels is None else float(o.ablation_channels)}


def _defaults() -> dict[str, Any]:
    d: dict[str, Any] = {c: "" for c in STRING_COLUMNS}
    d["error"] = None
    d["points"] = "[]"
    d.update({c: float("nan") for c in FLOAT_COLUMNS})
    d.update({c: -1 for c in INT_COLUMNS})
    d["used_fallback"] = False
    return d


def coerce_table(df: pd.DataFrame) -> pd.DataFrame:
    """The grid table with its columns in order and fixed dtypes (strings, float64, int64, bool;
    ``error`` missing = no error), so that shards and whole runs compare equal."""
    df = df.reindex(columns=COLUMNS).copy()
    for c in FLOAT_COLUMNS:
        df[c] = df[c].astype("float64")
    for c in INT_COLUMNS:
        df[c] = df[c].astype("int64")
    for c in BOOL_COLUMNS:
        df[c] = df[c].astype(bool)
    major = int(pd.__version__.split(".")[0])
    for c in STRING_COLUMNS:
        col = df[c].astype(object)
        col = col.where(col.notna(), None)
        df[c] = col.astype("str") if major >= 3 else col
    return df


def rows_to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = _defaults()
    return coerce_table(pd.DataFrame([{**base, **r} for r in rows], columns=COLUMNS))


def sort_table(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(SORT_KEY, kind="mergesort", na_position="first").reset_index(drop=True)


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    with atomic_open(path, "wb") as fh:
        df.to_parquet(fh, index=False)


def git_commit() -> str:
    """``git rev-parse HEAD`` of the checkout holding this package (``+dirty`` when modified),
    or ``"unknown"`` outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except Exception:  # noqa: BLE001 - not a checkout / no git: recorded as unknown
        return "unknown"


# --------------------------------------------------------------------------------------------
# ground-truth prompts
# --------------------------------------------------------------------------------------------


def gt_box(mask: np.ndarray) -> np.ndarray:
    """Tight ``[x_min, y_min, x_max, y_max]`` (inclusive pixels) of a non-empty ``(H, W)`` mask."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("ground-truth mask is empty: no box")
    return np.array([cols.min(), rows.min(), cols.max(), rows.max()], dtype=np.float64)


def whole_image_box(shape_hw: tuple[int, ...]) -> np.ndarray:
    """``[0, 0, W - 1, H - 1]``: the box of the whole ``(H, W)`` image, a prompt that knows
    nothing about the lesion (the floor a CAM box must beat on the same images)."""
    from ..prompting.geometry import whole_image_box as box_of

    return box_of((int(shape_hw[0]), int(shape_hw[1])))


#: ``strategy`` of the baseline rows: the ground-truth prompts are oracles (they read the ground
#: truth); the whole-image box is the ``whole-image`` floor.
BASELINE_STRATEGY = {"gt-box": "oracle-gt-box", "gt-point": "oracle-gt-point", "whole-image-box": "whole-image"}


def gt_point(mask: np.ndarray) -> np.ndarray:
    """One ``(1, 2)`` ``(x, y)`` point: the lesion centroid (rounded) if it lies in the lesion,
    else the lesion pixel with the largest distance transform (deepest inside), ties broken by
    the smallest distance to the centroid, then by row-major order."""
    from scipy.ndimage import distance_transform_edt

    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError("ground-truth mask is empty: no point")
    cy, cx = rows.mean(), cols.mean()
    y, x = int(round(cy)), int(round(cx))
    if not mask[y, x]:
        dt = distance_transform_edt(mask)
        ys, xs = np.nonzero(dt == dt.max())
        d2 = (ys - cy) ** 2 + (xs - cx) ** 2
        j = int(np.argmin(d2))  # np.nonzero is row-major and argmin takes the first minimum
        y, x = int(ys[j]), int(xs[j])
    return np.array([[x, y]], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


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


@dataclass
class GridResult:
    table: pd.DataFrame
    summary: dict[str, Any]
    counters: GridCounters = field(default_factory=GridCounters)


def params_key(percentile: float, num_points: int, amplification: float) -> str:
    return f"p{percentile:g}-n{int(num_points)}-a{amplification:g}"


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
                sha = cached_file_sha256(path)
                out.append(LoadedClassifier(setting, model, clf, f"{path.name}@sha256:{sha[:12]}", sha))
    return out


class _Grid:
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
    def heatmap(self, lc: LoadedClassifier, cam: str, image_id: str, image: np.ndarray, image_sha: str,
                target_class: int):
        """``(heatmap, seconds)``: the float32 ``(H, W)`` heatmap of ``image`` at its own size and
        the CAM's compute time (0 on a cache hit).

        The cache holds the CAM at the resolution it is computed (the target layer's grid, a
        few hundred bytes compressed, whatever the image size); the ``(H, W)`` heatmap is made
        from that map by :func:`~cam2seg_utils.cams.normalize_heatmap` on a hit and on a miss
        alike, so a cached run and a cache-less run give the same numbers. The classifier input
        (the whole image resized to the network's grid) is computed once per image and
        classifier and shared by its CAMs. Memory per call: one float64 + one float32 ``(H, W)``
        array while the heatmap is made (12 bytes per pixel), then the float32 heatmap.
        """
        from ..cams import CamExtractor, normalize_heatmap

        clf = lc.classifier
        options = self.cfg.cam_options()
        cam_params: dict[str, Any] = {"input_size": list(clf.input_size), "mean": list(clf.mean),
                                      "std": list(clf.std), "stored": "cam-resolution",
                                      **options.params_for(cam)}
        if cam == "randomcam":
            cam_params["seed"] = self.cfg.seed
        key = heatmap_key(image_id, image_sha, lc.model, lc.weights_id, cam, target_class, cam_params)
        hit = self.cache.get(key)
        dt = 0.0
        if hit is not None:
            self.counters.cam_cache_hits += 1
            raw = hit.raw
        else:
            rng = make_rng(self.cfg.seed, image_id, lc.model, "randomcam") if cam == "randomcam" else None
            t0 = time.perf_counter()
            memo = getattr(self, "_input_memo", None)  # (classifier id, image sha, tensor): one image at a time
            if memo is None or memo[0] != id(clf) or memo[1] != image_sha:
                memo = self._input_memo = (id(clf), image_sha, clf.preprocess(image))
            with CamExtractor(clf, cam, progress=False, **dataclasses.asdict(options)) as extractor:
                res = extractor(image, target_class=target_class, rng=rng, input_tensor=memo[2], resize=False)
            dt = time.perf_counter() - t0
            self.counters.cam_calls += 1
            raw = res.raw
            self.cache.put(key, raw, int(res.target_class), float(res.raw_min), float(res.raw_max))
        return normalize_heatmap(raw, image.shape[:2]), dt

    # ---------------------------------------------------------------------------------------
    def image_rows(self, index: int, image_id: str, dataset) -> list[dict[str, Any]]:
        from ..metrics import segmentation_metrics
        from ..prompts import PromptParams, generate_prompts

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
        requests: list[tuple[dict[str, Any], np.ndarray | None, np.ndarray | None]] = []
        slow_ok = cfg.slow_cams_max_images is None or index < cfg.slow_cams_max_images

        strategy_runner = StrategyRunner(cfg, image_id, image, embedding, self.seg, gt, self.counters)
        for lc in self.classifiers:
            base_model = {**base_img, "setting": lc.setting, "model": lc.model, "weights": lc.weights_label}
            try:
                pred = lc.classifier.predict(image)
            except Exception as exc:  # noqa: BLE001
                rows.append({**base_model, "error": f"classifier failed: {type(exc).__name__}: {exc}"})
                continue
            self.counters.classifier_calls += 1
            base_pred = {**base_model, "predicted_class": int(pred.class_index),
                         "predicted_label": str(pred.class_name), "predicted_prob": float(pred.probability)}
            strategy_heatmaps: dict[str, np.ndarray] = {}
            for cam in cfg.cams:
                if cam in cfg.slow_cams and not slow_ok:
                    continue
                base_cam = {**base_pred, "cam": cam, "strategy": "algorithm1"}
                try:
                    heat, t_cam = self.heatmap(lc, cam, image_id, image, image_sha, int(pred.class_index))
                    if cam in cfg.strategy_cams:
                        strategy_heatmaps[cam] = heat
                    for p, n, a in self.param_grid:
                        rng = make_rng(cfg.seed, image_id, lc.setting, lc.model, cam, params_key(p, n, a))
                        t0 = time.perf_counter()
                        prompts = generate_prompts(heat, PromptParams(percentile=p, num_points=n, amplification=a), rng)
                        t_prompt = time.perf_counter() - t0
                        row = {**base_cam, "percentile": p, "num_points": n, "amplification": a,
                               "used_fallback": bool(prompts.used_fallback), "t_cam_s": t_cam,
                               "t_prompt_s": t_prompt}
                        box = np.asarray(prompts.box, dtype=np.float64)
                        pts = np.asarray(prompts.points, dtype=np.float64)
                        if cfg.cam_mask_rows:
                            m = segmentation_metrics(prompts.noisy_mask, gt)
                            rows.append({**row, "prompt_variant": "cam-mask", "t_decoder_s": 0.0,
                                         **_box_cols(box), **{k: m[k] for k in METRIC_KEYS}})
                        for variant in cfg.prompt_variants:
                            use_box = box if variant in ("box", "box+points") else None
                            use_pts = pts if variant in ("points", "box+points") else None
                            requests.append(({**row, "prompt_variant": variant, "segmenter": seg_name},
                                             use_box, use_pts))
                except Exception as exc:  # noqa: BLE001 - this CAM fails, the others go on
                    rows.append({**base_cam, "error": f"{type(exc).__name__}: {exc}"})
            rows.extend(strategy_runner.classifier_rows({**base_pred, "segmenter": seg_name}, strategy_heatmaps))
        rows.extend(strategy_runner.floor_rows({**base_img, "setting": NO_CLASSIFIER, "segmenter": seg_name}))

        for setting in cfg.gt_baselines:
            base_gt = {**base_img, "setting": setting, "segmenter": seg_name, "used_fallback": False,
                       "t_cam_s": 0.0, "t_prompt_s": 0.0, "strategy": BASELINE_STRATEGY[setting]}
            try:
                if setting == "gt-box":
                    requests.append(({**base_gt, "prompt_variant": "box", "num_points": 0}, gt_box(gt), None))
                elif setting == "whole-image-box":
                    requests.append(({**base_gt, "prompt_variant": "box", "num_points": 0},
                                     whole_image_box(gt.shape), None))
                else:
                    requests.append(({**base_gt, "prompt_variant": "points", "num_points": 1}, None, gt_point(gt)))
            except Exception as exc:  # noqa: BLE001
                rows.append({**base_gt, "error": f"{type(exc).__name__}: {exc}"})

        rows.extend(self.decode(embedding, requests, gt))
        return rows

    # ---------------------------------------------------------------------------------------
    def decode(self, embedding, requests, gt: np.ndarray) -> list[dict[str, Any]]:
        """Decode all prompts of one image, one ``segment_batch`` call per prompt shape."""
        from ..metrics import segmentation_metrics

        groups: dict[tuple[bool, int], list[int]] = {}
        for i, (_, box, pts) in enumerate(requests):
            groups.setdefault((box is not None, 0 if pts is None else len(pts)), []).append(i)
        out: list[dict[str, Any] | None] = [None] * len(requests)
        for (has_box, n_pts), idx in groups.items():
            boxes = np.stack([requests[i][1] for i in idx]) if has_box else None
            points = np.stack([requests[i][2] for i in idx]) if n_pts else None
            labels = np.ones((len(idx), n_pts), dtype=np.int64) if n_pts else None
            try:
                t0 = time.perf_counter()
                results = self.seg.segment_batch(embedding, boxes, points, labels)
                dt = (time.perf_counter() - t0) / len(idx)
                self.counters.decoder_calls += 1
            except Exception as exc:  # noqa: BLE001
                for i in idx:
                    out[i] = {**requests[i][0], "error": f"segmenter failed: {type(exc).__name__}: {exc}"}
                continue
            for i, res in zip(idx, results):
                row, box, pts = requests[i]
                m = segmentation_metrics(res.mask, gt)
                out[i] = {**row, **_box_cols(box), "points": _points_json(pts),
                          "seg_predicted_iou": float(res.predicted_iou), "t_decoder_s": dt,
                          **{k: m[k] for k in METRIC_KEYS}}
        return [r for r in out if r is not None]


#: ``setting`` of the rows of strategies that ignore the classifier (the floors).
NO_CLASSIFIER = "no-classifier"


def _border_fraction(mask: np.ndarray) -> float:
    from ..prompting.geometry import border_contact

    return border_contact(np.asarray(mask, dtype=bool))


class StrategyRunner:
    """Runs the configured prompting strategies (:mod:`cam2seg_utils.prompting`) on one image.

    ``algorithm1`` rows come from the grid's own Algorithm 1 loop (one row per CAM × prompt
    parameters × variant, ``strategy="algorithm1"``), so it is not run again here. Every other
    strategy reuses the image's one embedding, shares the image prior and a decode cache with
    the others (two strategies sending the same box pay one decoder call), and gets no ground
    truth: the mask is only used to score its output.
    """

    def __init__(self, cfg: ExperimentConfig, image_id: str, image: np.ndarray, embedding, segmenter,
                 gt: np.ndarray, counters: "GridCounters") -> None:
        from ..prompting import build_strategy

        self.cfg, self.image_id, self.image, self.embedding, self.seg = cfg, image_id, image, embedding, segmenter
        self.gt = gt
        self.counters = counters
        self.prior = None
        self.decode_cache: dict = {}
        self.strategies = [build_strategy(n) for n in cfg.strategies if n != "algorithm1"]

    def _run(self, strategy, heatmaps: dict[str, np.ndarray], base: dict[str, Any], rng_parts: tuple) -> dict[str, Any]:
        from ..metrics import segmentation_metrics
        from ..prompting import PromptContext

        ctx = PromptContext(self.image, self.embedding, self.seg, heatmaps,
                            make_rng(self.cfg.seed, self.image_id, *rng_parts, strategy.name),
                            prior=self.prior, decode_cache=self.decode_cache)
        row = {**base, "strategy": strategy.name, "cam": "+".join(sorted(heatmaps))}
        try:
            t0 = time.perf_counter()
            out = strategy(ctx)
            dt = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - this strategy fails, the others go on
            return {**row, "error": f"strategy {strategy.name} failed: {type(exc).__name__}: {exc}"}
        finally:
            self.prior = ctx.computed_prior or self.prior
            self.counters.decoder_calls += ctx.decoder_calls
        m = segmentation_metrics(out.mask, self.gt)
        params = strategy.params()
        variant = "box" if len(out.points) == 0 else ("box+points" if out.box is not None else "points")
        return {**row, "cam": out.cam, "prompt_variant": variant,
                "percentile": float(params.get("percentile", float("nan"))), "num_points": int(len(out.points)),
                **_box_cols(out.box), "points": _points_json(out.points if len(out.points) else None),
                "seg_predicted_iou": float(out.confidence), "t_prompt_s": dt, "t_cam_s": 0.0, "t_decoder_s": 0.0,
                "strategy_details": json.dumps({"params": params, **out.details}, sort_keys=True, default=str),
                **{k: m[k] for k in METRIC_KEYS}}

    def classifier_rows(self, base: dict[str, Any], heatmaps: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """Rows of the strategies that use the classifier, for one setting × model's heatmaps."""
        rows = []
        if not heatmaps:
            return rows
        parts = (base.get("setting"), base.get("model"))
        for strategy in self.strategies:
            if not strategy.uses_classifier:
                continue
            if strategy.per_cam:
                for cam in sorted(heatmaps):
                    rows.append(self._run(strategy, {cam: heatmaps[cam]}, base, (*parts, cam)))
            else:
                rows.append(self._run(strategy, heatmaps, base, parts))
        return rows

    def floor_rows(self, base: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of the strategies that ignore the classifier (once per image)."""
        return [self._run(s, {}, base, (NO_CLASSIFIER,)) for s in self.strategies if not s.uses_classifier]


def _box_cols(box: np.ndarray | None) -> dict[str, float]:
    if box is None:
        return {}
    return {"box_x0": float(box[0]), "box_y0": float(box[1]), "box_x1": float(box[2]), "box_y1": float(box[3])}


def _points_json(points: np.ndarray | None) -> str:
    if points is None:
        return "[]"
    return json.dumps([[float(x), float(y)] for x, y in np.asarray(points)])


@dataclass(frozen=True)
class ImageJob:
    """One image a task computes."""

    index: int                  # position in the evaluated id list (slow CAMs: the first ones)
    image_id: str
    input_sha256: str | None    # :func:`.identity.input_digest` of its files when planned
    reason: str                 # "new" | "error" | "input changed" | "unreadable shard"


def plan_images(store: ShardStore, dataset, image_ids: Sequence[str], spec: ShardSpec
                ) -> tuple[list[ImageJob], int]:
    """``(jobs, n_resumed)`` of task ``spec``: its images without a valid shard. A shard is
    valid (resumed) when it is readable, has no error row and was computed from files with the
    digest they have now; an error shard is retried, a changed input is recomputed."""
    jobs: list[ImageJob] = []
    resumed = 0
    for index in shard_indices(len(image_ids), spec):
        image_id = image_ids[index]
        digest = input_digest(dataset, image_id)
        meta = store.shard_meta(image_id)
        if meta is None:
            reason = "new"
        elif "unreadable" in meta:
            reason = "unreadable shard"
        elif int(meta.get("n_errors", 0)) > 0:
            reason = "error"
        elif digest is not None and meta.get("input_sha256") != digest:
            reason = "input changed"
        else:
            resumed += 1
            continue
        jobs.append(ImageJob(index, image_id, digest, reason))
    return jobs, resumed


def compute_image(grid: "_Grid", store: ShardStore, dataset, job: ImageJob) -> None:
    """Compute one image's rows and write its shard, with the input digest it was computed
    from and its number of error rows in the shard's metadata."""
    frame = rows_to_frame(grid.image_rows(job.index, job.image_id, dataset))
    store.write_shard(job.image_id, frame, {"image_id": job.image_id, "input_sha256": job.input_sha256,
                                            "n_errors": int(frame["error"].notna().sum()),
                                            "results_version": RESULTS_VERSION})
    grid.counters.images_processed += 1


def build_grid(config: ExperimentConfig, split_name: str, segmenter=None,
               classifiers: Sequence[LoadedClassifier] | None = None,
               counters: GridCounters | None = None) -> "_Grid":
    """A :class:`_Grid` with the models of ``config`` (built unless passed in) and its heatmap cache."""
    if segmenter is None:
        from ..segmenters import build_segmenter

        segmenter = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    if classifiers is None:
        classifiers = load_classifiers(config)
    return _Grid(config, segmenter, classifiers, HeatmapCache(config.heatmap_cache_dir()),
                 counters if counters is not None else GridCounters(), split_name)


def check_cam_names(config: ExperimentConfig) -> None:
    """Raise ``ValueError`` before any work for a CAM name in ``cams`` / ``strategy_cams`` that
    the registry does not know (a typo would otherwise become an error row per image).
    ``strategy_cams`` outside ``cams`` are allowed: the strategies use those of them the grid
    computes."""
    from ..cams import CAM_METHODS

    bad = [c for c in [*config.cams, *config.strategy_cams] if c not in CAM_METHODS]
    if bad:
        raise ValueError(f"cams / strategy_cams: unknown CAM method(s) {bad}; known: {', '.join(CAM_METHODS.names())}")


def run_grid(config: ExperimentConfig, *, segmenter=None, classifiers: Sequence[LoadedClassifier] | None = None,
             dataset=None, image_ids: Sequence[str] | None = None, resume: bool = True,
             progress: bool | None = None, shard: str | tuple[int, int] | ShardSpec | None = None,
             workers: int = 1) -> GridResult:
    """Run (or finish) the grid of ``config``; return its table and summary.

    ``segmenter`` / ``classifiers`` / ``dataset`` + ``image_ids`` may be passed in (already
    loaded objects, e.g. in tests or notebooks); by default they are built from ``config``
    (:func:`load_classifiers`, :func:`cam2seg_utils.segmenters.build_segmenter`,
    :func:`.datasets.evaluation_ids`); models are only built when an image needs computing.
    ``resume=False`` deletes the folder's results first.

    ``shard="K/N"``: compute only task K's share of the images (:func:`.shards.shard_indices`)
    into the same folder and write its task summary; the table and summary returned are the
    task's own, and :func:`merge_grid` (``grid --merge``) builds ``grid.parquet`` once all tasks
    are done. Without ``shard`` (= ``0/1``) the run merges at once.

    ``workers=N`` computes the images in a pool of N processes, each building its models once
    from ``config`` (so ``segmenter`` and ``classifiers`` cannot be passed); the table is the
    single-process one.

    The returned ``counters`` are this invocation's; the summary is the folder's run summary,
    whose counts are those of the last invocation of each task that computed something (an
    invocation that finds every image done changes neither the task summary nor the merge).
    """
    t_start, started_at = time.perf_counter(), time.time()
    progress = config.progress if progress is None else progress
    spec = ShardSpec.parse(shard)
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not resume and spec.count > 1:
        raise ValueError(f"resume=False (--no-resume) with shard {spec} would delete the other tasks' results; "
                         "delete the results folder once before starting the tasks instead")
    if workers > 1 and (segmenter is not None or classifiers is not None):
        raise ValueError("workers > 1 builds the models in each worker from the config: "
                         "do not pass segmenter / classifiers")
    check_cam_names(config)
    store = ShardStore(config.output_dir)

    split_name = config.test_split
    if dataset is None:
        from .datasets import evaluation_ids

        dataset, image_ids, split_name = evaluation_ids(config)
    elif image_ids is None:
        image_ids = list(dataset.ids)
    image_ids = [str(i) for i in image_ids]
    if config.max_side is not None:  # the documented downsized route (cam2seg_utils.data.resize)
        from ..data.resize import MaxSideDataset

        dataset = MaxSideDataset(dataset, config.max_side)
    identity, sources = grid_identity(config, image_ids, split_name, classifiers)
    if not resume:
        store.reset()
    store.claim(identity, sources)

    jobs, n_resumed = plan_images(store, dataset, image_ids, spec)
    counters = GridCounters(images_resumed=n_resumed, images_retried=sum(j.reason != "new" for j in jobs))
    if jobs and workers > 1:
        from .workers import compute_in_pool

        counters.add(compute_in_pool(config, dataset, split_name, jobs, int(workers), progress))
    elif jobs:
        grid = build_grid(config, split_name, segmenter, classifiers, counters)
        desc = "grid" if spec.count == 1 else f"grid {spec}"
        for job in progress_bar(jobs, progress, desc=desc, unit="img"):
            compute_image(grid, store, dataset, job)

    task = {**counters.as_dict(),
            "n_images_in_task": len(shard_indices(len(image_ids), spec)),
            "retried": [{"image_id": j.image_id, "reason": j.reason} for j in jobs if j.reason != "new"][:200],
            "workers": int(workers), "wall_time_s": time.perf_counter() - t_start,
            "started_at": started_at, "finished_at": time.time(), "host": socket.gethostname(),
            "git_commit": git_commit(), "config": config.to_dict()}
    # an invocation with nothing to do keeps the task summary of the one that did the work (so
    # e.g. the book reading back a SLURM array's results does not replace the array's counts)
    if jobs or spec not in {ShardSpec(int(t["shard_index"]), int(t["num_shards"])) for t in store.tasks()}:
        store.write_task(spec, task)
    if spec.count == 1:
        if jobs or grid_needs_merge(config.output_dir):
            merged = merge_grid(config.output_dir)
            return GridResult(merged.table, merged.summary, counters)
        return GridResult(load_table(config.output_dir), json.loads(store.summary_path.read_text(encoding="utf-8")),
                          counters)
    own = [store.read_shard(image_ids[i]) for i in shard_indices(len(image_ids), spec)]
    table = sort_table(coerce_table(pd.concat(own, ignore_index=True))) if own else rows_to_frame([])
    return GridResult(table, {**task, "shard": str(spec), "n_rows": int(len(table)),
                              "n_errors": int(table["error"].notna().sum())}, counters)


COUNT_KEYS = tuple(f.name for f in dataclasses.fields(GridCounters))


def _slow_cams_note(cfg: dict[str, Any], n_images: int) -> str | None:
    slow = [c for c in cfg.get("cams", []) if c in cfg.get("slow_cams", [])]
    if not slow:
        return None
    limit = cfg.get("slow_cams_max_images")
    if limit is None or limit >= n_images:
        return f"slow CAMs {slow} ran on all {n_images} images"
    return f"slow CAMs {slow} ran on the first {limit} of {n_images} images only"


def merge_grid(output_dir: str | os.PathLike, *, allow_missing: bool = False) -> GridResult:
    """Build ``grid.parquet`` and ``run_summary.json`` of a results folder from its shards.

    The run summary adds up the counts of the task summaries of the latest sharding
    (:meth:`.shards.ShardStore.latest_tasks`), lists the tasks, and names the images that have
    no shard yet. With missing images it raises :class:`.shards.IncompleteGridError` naming
    them and the shard tasks they belong to, unless ``allow_missing`` (then the partial table is
    written, with ``complete: false`` in the summary).
    """
    store = ShardStore(output_dir)
    stored = store.read_identity()
    if stored is None or "identity" not in stored:
        raise FileNotFoundError(f"{store.identity_path} not found (or from an older cam2seg): no grid "
                                f"was started in {store.root}; run `cam2seg grid` first")
    identity, sources = stored["identity"], stored.get("sources", {})
    ids = list(identity["images"]["ids"])
    state = store.state()   # before reading: a shard written during the merge makes it stale
    n_tasks, tasks = store.latest_tasks()
    metas = {i: store.shard_meta(i) for i in ids}
    missing = [i for i in ids if metas[i] is None or "unreadable" in metas[i]]
    if missing and not allow_missing:
        owner = (lambda pos: f"{pos % n_tasks}/{n_tasks}") if n_tasks else (lambda pos: "0/1")
        position = {i: k for k, i in enumerate(ids)}
        owners = sorted({owner(position[i]) for i in missing}, key=lambda t: int(t.split("/")[0]))
        shown = ", ".join(missing[:20]) + (", ..." if len(missing) > 20 else "")
        raise IncompleteGridError(
            f"{store.root}: {len(missing)} of {len(ids)} images have no result yet: {shown} (shard task(s) "
            f"{', '.join(owners)}); run them (`cam2seg grid --shard K/N` with the same config) or the plain "
            "`cam2seg grid`, then merge again; --allow-missing writes a partial table", missing)
    present = [i for i in ids if i not in set(missing)]
    frames = [store.read_shard(i) for i in present]
    table = sort_table(coerce_table(pd.concat(frames, ignore_index=True))) if frames else rows_to_frame([])
    write_parquet_atomic(table, store.table_path)

    cfg = identity["config"]
    counts = {k: sum(int(t.get(k, 0)) for t in tasks) for k in COUNT_KEYS}
    done_specs = {int(t["shard_index"]) for t in tasks}
    latest = tasks[-1] if tasks else {}
    summary = {
        **counts,
        "n_images": len(ids),
        "n_rows": int(len(table)),
        "n_errors": int(table["error"].notna().sum()),
        "images_with_errors": sorted(table.loc[table["error"].notna(), "image_id"].unique().tolist()),
        "complete": not missing,
        "missing_images": missing,
        "num_shards": n_tasks,
        "tasks": [{k: t.get(k) for k in ("shard", "host", "workers", "wall_time_s", "finished_at",
                                         "images_processed", "images_resumed", "images_retried", "git_commit")}
                  for t in tasks],
        "tasks_without_summary": [f"{k}/{n_tasks}" for k in range(n_tasks) if k not in done_specs],
        "retried": [r for t in tasks for r in t.get("retried", [])],
        "wall_time_s": float(sum(float(t.get("wall_time_s", 0.0)) for t in tasks)),
        "slow_cams": [c for c in cfg["cams"] if c in cfg["slow_cams"]],
        "slow_cams_max_images": cfg.get("slow_cams_max_images"),
        "slow_cams_note": _slow_cams_note(cfg, len(ids)),
        "segmenter": identity["segmenter"]["name"],
        "segmenter_checkpoint": {"file": sources.get("segmenter"), "id": identity["segmenter"]["checkpoint"]},
        "classifiers": [{"setting": key.split("/", 1)[0], "model": key.split("/", 1)[1],
                         "weights": sources.get("weights", {}).get(key), "weights_id": wid}
                        for key, wid in identity["weights"].items()],
        "results_version": identity["results_version"],
        "split": identity["images"]["split"],
        "dataset_digest": dataset_digest({i: metas[i].get("input_sha256") for i in present}),
        "config": latest.get("config", cfg),
        "config_fingerprint": stored["fingerprint"],
        "git_commit": latest.get("git_commit", git_commit()),
        "git_commits": sorted({str(t.get("git_commit")) for t in tasks}),
        "shards_state": state,
        "counts_note": ("call counts add up the last invocation of each task of the latest sharding "
                        f"({n_tasks} task(s)); images_resumed were computed by an earlier invocation"),
    }
    write_json_atomic(summary, store.summary_path)
    counters = GridCounters(**{k: counts[k] for k in COUNT_KEYS})
    return GridResult(table, summary, counters)


def grid_needs_merge(output_dir: str | os.PathLike) -> bool:
    """Whether ``grid.parquet`` is missing or older than the shards and task summaries."""
    store = ShardStore(output_dir)
    if not (store.table_path.is_file() and store.summary_path.is_file()):
        return True
    try:
        merged_state = json.loads(store.summary_path.read_text(encoding="utf-8")).get("shards_state")
    except (OSError, json.JSONDecodeError):
        return True
    return merged_state != store.state()


class UnreadableTableError(ResultsMismatchError):
    """``grid.parquet`` exists but cannot be read (truncated, corrupt); the shards may be intact."""


def load_table(output_dir: str | os.PathLike) -> pd.DataFrame:
    """Read ``<output_dir>/grid.parquet`` with the grid's dtypes; a file that cannot be read
    (a copy cut short, a full disk) raises :class:`UnreadableTableError` in one line saying that
    ``grid --merge`` rebuilds it from the shards."""
    p = Path(output_dir) / "grid.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found: run `cam2seg grid` first")
    try:
        table = pd.read_parquet(p)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnreadableTableError(
            f"{p}: cannot be read ({type(exc).__name__}: {reason}); it is built from the per-image shards in "
            f"{p.parent / 'shards'}: `cam2seg grid --merge` with the same config rebuilds it") from exc
    return coerce_table(table)


__all__ = ["COLUMNS", "CAM_PARAM_COLUMNS", "cam_param_values", "TIMING_COLUMNS", "SORT_KEY", "GridResult",
           "GridCounters", "LoadedClassifier", "ImageJob", "check_cam_names", "run_grid", "merge_grid", "grid_needs_merge", "plan_images",
           "UnreadableTableError",
           "compute_image", "build_grid", "load_classifiers", "load_table", "coerce_table", "rows_to_frame", "gt_box",
           "whole_image_box",
           "gt_point", "shard_name", "params_key", "git_commit"]

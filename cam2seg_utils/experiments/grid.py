"""The experiment grid: image × setting × model × CAM × prompt variant -> one tidy table.

For each test image (outermost loop):

1. the segmenter's image encoder runs **once** (``segmenter.embed``) — the embedding serves every
   setting, model, CAM, prompt variant and ground-truth baseline of that image;
2. for each setting (``zero-shot``: ImageNet / embedded weights, the CAM explains the predicted
   ImageNet class; ``fine-tuned``: the best fine-tuning checkpoint, the CAM explains the predicted
   benign/melanoma class) and model, the classifier predicts **once** (Algorithm 1, step 4);
3. for each CAM, the heatmap comes from the on-disk cache (:mod:`.cache`) or is computed and
   stored; for each prompt-parameter combination (``percentile`` × ``num_points`` ×
   ``amplification``) Algorithm 1 (:func:`cam2seg_utils.prompts.generate_prompts`) makes a box
   and points with ``rng = make_rng(seed, image_id, setting, model, cam, params_key)`` — one
   draw shared by the ``box``, ``box+points`` and ``points`` variants, so that they differ only
   in what is sent to the segmenter; the step-7 noisy mask itself gives a ``cam-mask`` row
   (paper Table 1, no segmenter);
4. ground-truth baselines (``gt-box``: the tight box of the lesion; ``gt-point``: one point at
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

Resolution: the cache holds each CAM at the resolution it is computed and
:meth:`_Grid.heatmap` makes the image-size heatmap from it; heatmaps, prompts and metrics are at
each image's own size (the ground truth's), as the paper measures; ``max_side`` downsizes larger images (and masks) first. Per image the grid
holds the image, its mask, one heatmap at a time (float32 ``(H, W)``; 12 bytes per pixel while
it is made) and the masks of the decoder batch; ``benchmarks/bench_fullres.py`` measures time,
peak memory and cache bytes per image up to 6688 x 4439.

Robustness: each image's rows are written to ``<output_dir>/shards/<image>.parquet`` through a
temporary file and ``os.replace``; a rerun skips images whose shard exists, so a run killed at
any moment (even ``kill -9``) completes on the next call and the final table equals an
uninterrupted run's (timings aside). The final table is the concatenation of the shards sorted
by :data:`SORT_KEY`, written atomically to ``<output_dir>/grid.parquet``, with
``run_summary.json`` beside it (encoder / classifier / CAM call counts, rows, errors, wall time,
config, git commit). A failing image (corrupt file, empty mask) gives one row with ``error``
filled and the run goes on; a failing CAM or classifier gives error rows for that CAM / model.
The grid's config fingerprint is stored in ``grid_config.json``; resuming into a folder of a
different configuration is refused.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..atomic import atomic_open, progress_bar
from ..seeding import make_rng
from .cache import HeatmapCache, file_sha256, heatmap_key, image_digest
from .config import ExperimentConfig

STRING_COLUMNS = ["image_id", "split", "setting", "model", "weights", "cam", "prompt_variant",
                  "segmenter", "predicted_label", "points", "error", "scorecam_selection"]
FLOAT_COLUMNS = ["percentile", "amplification", "predicted_prob", "box_x0", "box_y0", "box_x1",
                 "box_y1", "seg_predicted_iou", "precision", "recall", "f1", "iou", "dice",
                 "t_cam_s", "t_prompt_s", "t_decoder_s", "scorecam_channels", "ablation_ratio"]
INT_COLUMNS = ["num_points", "predicted_class"]
BOOL_COLUMNS = ["used_fallback"]
COLUMNS = ["image_id", "split", "setting", "model", "weights", "cam", "prompt_variant", "percentile",
           "num_points", "amplification", "segmenter", "predicted_class", "predicted_label",
           "predicted_prob", "box_x0", "box_y0", "box_x1", "box_y1", "points", "used_fallback",
           "seg_predicted_iou", "precision", "recall", "f1", "iou", "dice", "t_cam_s", "t_prompt_s",
           "t_decoder_s", "error", "scorecam_channels", "scorecam_selection", "ablation_ratio"]
# the CAM parameters of the run, in every row (scorecam_channels NaN = every channel, the full
# method; tables written before these columns existed read NaN / "" here)
CAM_PARAM_COLUMNS = ["scorecam_channels", "scorecam_selection", "ablation_ratio"]
TIMING_COLUMNS = ["t_cam_s", "t_prompt_s", "t_decoder_s"]
SORT_KEY = ["image_id", "setting", "model", "cam", "prompt_variant", "percentile", "num_points",
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


def _atomic_write_bytes(data: bytes, path: Path) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    with atomic_open(path, "wb") as fh:
        df.to_parquet(fh, index=False)


def write_json_atomic(obj: Any, path: Path) -> None:
    _atomic_write_bytes(json.dumps(obj, indent=2, sort_keys=True, default=str).encode(), path)


def shard_name(image_id: str) -> str:
    """File name of an image's shard: a filesystem-safe id plus 8 hex digits of its SHA-256 (two
    ids that sanitise alike never collide)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(image_id))[:80]
    return f"{safe}-{hashlib.sha256(str(image_id).encode()).hexdigest()[:8]}.parquet"


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
                path = config.finetuned_checkpoint(model)
                if not path.is_file():
                    raise FileNotFoundError(
                        f"fine-tuned checkpoint {path} for {model} not found: run `cam2seg finetune` with "
                        "this config first (or set finetuned_checkpoints, or drop 'fine-tuned' from settings)")
                clf = load_finetuned(model, path, device=config.device)
                sha = file_sha256(path)
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
            for cam in cfg.cams:
                if cam in cfg.slow_cams and not slow_ok:
                    continue
                base_cam = {**base_pred, "cam": cam}
                try:
                    heat, t_cam = self.heatmap(lc, cam, image_id, image, image_sha, int(pred.class_index))
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

        for setting in cfg.gt_baselines:
            base_gt = {**base_img, "setting": setting, "segmenter": seg_name, "used_fallback": False,
                       "t_cam_s": 0.0, "t_prompt_s": 0.0}
            try:
                if setting == "gt-box":
                    requests.append(({**base_gt, "prompt_variant": "box", "num_points": 0}, gt_box(gt), None))
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


def _box_cols(box: np.ndarray | None) -> dict[str, float]:
    if box is None:
        return {}
    return {"box_x0": float(box[0]), "box_y0": float(box[1]), "box_x1": float(box[2]), "box_y1": float(box[3])}


def _points_json(points: np.ndarray | None) -> str:
    if points is None:
        return "[]"
    return json.dumps([[float(x), float(y)] for x, y in np.asarray(points)])


def run_grid(config: ExperimentConfig, *, segmenter=None, classifiers: Sequence[LoadedClassifier] | None = None,
             dataset=None, image_ids: Sequence[str] | None = None, resume: bool = True,
             progress: bool | None = None) -> GridResult:
    """Run (or finish) the grid of ``config``; return the final table and the run summary.

    ``segmenter`` / ``classifiers`` / ``dataset`` + ``image_ids`` may be passed in (already
    loaded objects, e.g. in tests or notebooks); by default they are built from ``config``
    (:func:`load_classifiers`, :func:`cam2seg_utils.segmenters.build_segmenter`,
    :func:`.datasets.resolve_splits` test ids). ``resume=False`` deletes existing shards first.
    """
    t_start = time.perf_counter()
    progress = config.progress if progress is None else progress
    out = Path(config.output_dir)
    shards = out / "shards"
    fp_path = out / "grid_config.json"
    fingerprint = config.fingerprint()
    if fp_path.is_file() and resume:
        old = json.loads(fp_path.read_text())
        if old.get("fingerprint") != fingerprint:
            raise ValueError(
                f"{out} holds results of a different grid configuration (fingerprint {old.get('fingerprint')} "
                f"!= {fingerprint}); choose another output_dir or rerun with resume=False (--no-resume)")
    if not resume and shards.is_dir():
        for p in shards.glob("*.parquet"):
            p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic({"fingerprint": fingerprint, "config": config.to_dict()}, fp_path)

    split_name = config.test_split
    if dataset is None:
        from .datasets import evaluation_ids

        dataset, image_ids, split_name = evaluation_ids(config)
    elif image_ids is None:
        image_ids = list(dataset.ids)
    image_ids = list(image_ids)
    if config.max_side is not None:  # the documented downsized route (cam2seg_utils.data.resize)
        from ..data.resize import MaxSideDataset

        dataset = MaxSideDataset(dataset, config.max_side)
    if segmenter is None:
        from ..segmenters import build_segmenter

        segmenter = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    if classifiers is None:
        classifiers = load_classifiers(config)

    counters = GridCounters()
    cache = HeatmapCache(config.heatmap_cache_dir())
    grid = _Grid(config, segmenter, classifiers, cache, counters, split_name)
    shards.mkdir(parents=True, exist_ok=True)
    for index, image_id in enumerate(progress_bar(image_ids, progress, desc="grid", unit="img")):
        shard = shards / shard_name(image_id)
        if shard.is_file():
            counters.images_resumed += 1
            continue
        rows = grid.image_rows(index, image_id, dataset)
        write_parquet_atomic(rows_to_frame(rows), shard)
        counters.images_processed += 1

    frames = [pd.read_parquet(shards / shard_name(i)) for i in image_ids]
    table = sort_table(coerce_table(pd.concat(frames, ignore_index=True))) if frames else rows_to_frame([])
    write_parquet_atomic(table, out / "grid.parquet")
    n_slow = (min(len(image_ids), config.slow_cams_max_images) if config.slow_cams_max_images is not None
              else len(image_ids))
    summary = {
        "encoder_calls": counters.encoder_calls,
        "classifier_calls": counters.classifier_calls,
        "cam_calls": counters.cam_calls,
        "cam_cache_hits": counters.cam_cache_hits,
        "decoder_calls": counters.decoder_calls,
        "images_processed": counters.images_processed,
        "images_resumed": counters.images_resumed,
        "n_images": len(image_ids),
        "n_rows": int(len(table)),
        "n_errors": int(table["error"].notna().sum()),
        "wall_time_s": time.perf_counter() - t_start,
        "slow_cams": [c for c in config.cams if c in config.slow_cams],
        "slow_cams_max_images": config.slow_cams_max_images,
        "slow_cams_note": (f"slow CAMs {[c for c in config.cams if c in config.slow_cams]} ran on the first "
                           f"{n_slow} of {len(image_ids)} images only"),
        "segmenter": getattr(segmenter, "name", config.segmenter),
        "classifiers": [{"setting": c.setting, "model": c.model, "weights": c.weights_label} for c in classifiers],
        "config": config.to_dict(),
        "config_fingerprint": fingerprint,
        "git_commit": git_commit(),
        "counts_note": "call counts are for this invocation; images_resumed were done by an earlier one",
    }
    write_json_atomic(summary, out / "run_summary.json")
    return GridResult(table, summary, counters)


def load_table(output_dir: str | os.PathLike) -> pd.DataFrame:
    """Read ``<output_dir>/grid.parquet`` with the grid's dtypes."""
    p = Path(output_dir) / "grid.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found: run `cam2seg grid` first")
    return coerce_table(pd.read_parquet(p))


__all__ = ["COLUMNS", "CAM_PARAM_COLUMNS", "cam_param_values", "TIMING_COLUMNS", "SORT_KEY", "GridResult",
           "GridCounters", "LoadedClassifier", "run_grid", "load_classifiers", "load_table", "coerce_table",
           "rows_to_frame", "gt_box", "gt_point", "shard_name", "params_key", "git_commit"]

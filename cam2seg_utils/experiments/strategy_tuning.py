"""Fit the ranking weights of the prompting strategies on **validation** images only.

For each validation image (``resolve_splits(config).val_ids``; test ids are never read) this
decodes every candidate box of the ``candidates`` strategy (CAM percentile ladder and components
of ``strategy_cams``, image-prior regions, centred boxes), records the GT-free features of each
mask (:func:`cam2seg_utils.prompting.scoring.candidate_features`) and its IoU with the ground
truth, one atomic parquet file per image (a killed run resumes). Then, per strategy (its
candidate sources and feature set), a coarse grid over weights picks the one with the highest
mean IoU of the top-ranked candidate; ties go to the smallest weights (fewest features).

    python -m cam2seg_utils tune-strategies --profile local-isic \\
        --data-root ../shared/isic2017 --max-images 60

prints the best weights per strategy and writes ``<output_dir>/strategy_tuning.json``; the
defaults in :mod:`cam2seg_utils.prompting.scoring` are copied from such a run (recorded there).
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..atomic import atomic_open, progress_bar

#: Weight values tried for each feature (pred_iou is fixed at 1: the scale of the score).
WEIGHT_LADDER = {"contrast": (0.0, 0.5, 1.0), "border": (0.0, -0.5, -1.0), "outside_fov": (0.0, -0.5, -1.0),
                 "cam_mass": (0.0, 0.25, 0.5, 1.0), "fill": (0.0, 0.5)}
#: Candidate sources and features of each ranked strategy.
STRATEGY_SPACES = {
    "image-prior": (("prior", "centred"), ("contrast", "border", "outside_fov", "fill")),
    "prior-cam": (("prior", "centred"), ("contrast", "border", "outside_fov", "fill", "cam_mass")),
    "candidates": (("prior", "cam", "centred"), ("contrast", "border", "outside_fov", "fill", "cam_mass")),
}


def harvest_image(image: np.ndarray, gt: np.ndarray, embedding, segmenter, heatmaps: dict) -> pd.DataFrame:
    """Decode every ``candidates`` box of one image; one row per candidate with its source kind
    (``prior`` / ``cam`` / ``centred``), features and IoU against ``gt``."""
    from ..metrics import segmentation_metrics
    from ..prompting import PromptContext, build_strategy
    from ..prompting.candidates import cam_boxes
    from ..prompting.image_prior import prior_boxes
    from ..prompting.scoring import candidate_features

    ctx = PromptContext(image, embedding, segmenter, heatmaps, np.random.default_rng(0))
    strat = build_strategy("candidates")
    boxes, sources = cam_boxes(heatmaps, strat.percentiles)
    pb, ps = prior_boxes(ctx)
    boxes, sources = boxes + pb, sources + ps
    decoded = ctx.decode_boxes(boxes)
    feats = candidate_features([d.mask for d in decoded], boxes, [d.predicted_iou for d in decoded], ctx.prior,
                               heatmaps)
    rows = []
    for src, f, d in zip(sources, feats, decoded):
        kind = src.split(":")[0] if src.split(":")[0] in ("prior", "centred") else "cam"
        rows.append({"source": src, "kind": kind, **f, "iou": segmentation_metrics(d.mask, gt)["iou"],
                     "gt_area_fraction": float(gt.mean())})
    return pd.DataFrame(rows)


def pick_iou(table: pd.DataFrame, weights: dict[str, float]) -> float:
    """Mean over images of the IoU of the candidate ranked first by ``pred_iou + sum(w * f)``."""
    score = table["pred_iou"].to_numpy(dtype=float).copy()
    for k, w in weights.items():
        score += w * table[k].to_numpy(dtype=float)
    t = table.assign(_s=score)
    return float(t.loc[t.groupby("image_id")["_s"].idxmax(), "iou"].mean())


def fit_weights(table: pd.DataFrame, kinds: Sequence[str], features: Sequence[str]) -> tuple[dict[str, float], float]:
    """Coarse grid search (:data:`WEIGHT_LADDER`) of the weights over ``features`` on the rows
    of ``kinds``; returns ``(weights incl. pred_iou=1, mean IoU)``. Ties: fewer / smaller weights."""
    sub = table[table["kind"].isin(kinds)]
    best: tuple[float, float, dict[str, float]] | None = None
    for values in itertools.product(*(WEIGHT_LADDER[f] for f in features)):
        w = dict(zip(features, values))
        v = pick_iou(sub, w)
        key = (round(v, 6), -sum(abs(x) for x in values))
        if best is None or key > best[:2]:
            best = (key[0], key[1], w)
    assert best is not None
    return {"pred_iou": 1.0, **{k: v for k, v in best[2].items() if v != 0.0}}, best[0]


def run(config, out_dir: Path, progress: bool = True) -> dict:
    """Harvest the validation images of ``config`` (resumable) and fit every strategy's weights."""
    from ..cams import CamExtractor
    from ..models import build_classifier
    from ..segmenters import build_segmenter
    from .datasets import resolve_splits

    splits = resolve_splits(config)
    ids = splits.val_ids[: config.max_images] if config.max_images else splits.val_ids
    shards = out_dir / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    seg = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    clf = build_classifier(config.models[0], weights=config.zero_shot_weights, device=config.device)
    cams = [c for c in config.strategy_cams if c != "randomcam"]
    frames = []
    for image_id in progress_bar(ids, progress, desc="tuning", unit="img"):
        path = shards / f"{image_id}.parquet"
        if not path.is_file():
            sample = splits.train_dataset.load(image_id)
            target = clf.predict(sample.image).class_index
            heatmaps = {}
            for cam in cams:
                with CamExtractor(clf, cam, progress=False) as ex:
                    heatmaps[cam] = ex(sample.image, target_class=target).heatmap
            table = harvest_image(sample.image, sample.mask, seg.embed(sample.image), seg, heatmaps)
            with atomic_open(path, "wb") as fh:
                table.assign(image_id=image_id).to_parquet(fh, index=False)
        frames.append(pd.read_parquet(path))
    table = pd.concat(frames, ignore_index=True)
    result = {"n_images": len(ids), "split": "validation", "model": config.models[0], "cams": cams,
              "strategies": {}}
    for name, (kinds, features) in STRATEGY_SPACES.items():
        w, v = fit_weights(table, kinds, features)
        small = table[table["gt_area_fraction"] < 0.10]
        result["strategies"][name] = {"weights": w, "mean_iou": v,
                                      "mean_iou_small_lesions": pick_iou(small[small["kind"].isin(kinds)], w)
                                      if len(small) else None}
    with atomic_open(out_dir / "strategy_tuning.json", "w") as fh:
        fh.write(json.dumps(result, indent=2))
    return result

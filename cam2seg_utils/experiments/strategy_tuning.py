"""Fit the ranked strategies' weights on ``k`` training masks, and measure what each ``k`` buys.

Protocol (the official ISIC 2017 one): weights are **fitted** on masks of the *training* split --
the images fine-tuning holds out for early stopping (``resolve_splits(config).val_ids``: the
fine-tuned classifier never trained on them, so its CAMs there are not over-fitted) -- and
**reported** on the evaluation split of ``config`` (the official validation split for the
``isic-official`` profile), never on what they were fitted on.

1. :func:`harvest` decodes every candidate box of ``candidates`` (CAM boxes of each setting's
   heatmaps and the image boxes) for each image and records the GT-free features of each mask
   (:func:`~cam2seg_utils.prompting.scoring.candidate_features`) and its IoU with the ground
   truth: one atomic parquet file per image and setting, so a killed run resumes.
2. :func:`fit_weights` fits a linear score to ``k`` images: it maximises the mean over images of
   the softmax-weighted IoU of their candidates (temperature ``tau``; as ``tau -> 0`` this is the
   IoU of the top-ranked candidate, which is not differentiable) minus ``lam`` times the squared
   distance to the a-priori weights (:data:`~cam2seg_utils.prompting.weights.A_PRIORI`, the
   ``k = 0`` point), with L-BFGS from the a-priori weights. ``k = 0`` returns them unchanged.
3. :func:`label_efficiency` refits for ``k`` in ``ks`` (``draws`` random subsets of the fitting
   images for each ``k`` < all, seeded) and scores each weight set by the image-level choice on
   the evaluation images: mean IoU, small-lesion and border slices, images with IoU < 0.01, and
   on the fitting images it did not see (the training "test part").

``cam2seg tune-strategies --profile isic-official`` runs all three and writes
``<output_dir>/strategy_tuning/``: ``label_efficiency.csv``, ``weights_k<k>.json`` (a
:class:`~cam2seg_utils.prompting.weights.RankingWeights` file; copy one into
``cam2seg_utils/prompting/fitted_weights/`` to make it a named set) and ``strategy_tuning.json``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..atomic import atomic_open, progress_bar, write_json
from ..cams.registry import CAM_METHODS

#: Features the fit may weight (the a-priori set's six and the rest of :data:`.scoring.FEATURES`).
FIT_FEATURES = ("pred_iou", "contrast", "centrality", "border", "outside_fov", "artefact", "fill", "log_area",
                "box_agreement", "consensus", "stability", "sides", "colour_contrast", "edge", "cam_mass",
                "cam_contrast")
#: Softmax temperature and pull towards the a-priori weights (chosen on the official validation split).
DEFAULT_TAU = 0.05
DEFAULT_LAM = 0.01
#: The ``k`` of the label-efficiency curve (``None`` = every fitting image) and draws per ``k``.
DEFAULT_KS: tuple[int | None, ...] = (0, 8, 32, None)
DEFAULT_DRAWS = 5


# --------------------------------------------------------------------------------------------
# harvest
# --------------------------------------------------------------------------------------------


def harvest_image(image: np.ndarray, gt: np.ndarray, embedding, segmenter, heatmaps: dict,
                  shared=None) -> pd.DataFrame:
    """Decode every ``candidates`` box of one image; one row per candidate with its ``source``,
    ``kind`` (``cam`` / ``image``), features, ``iou`` against ``gt`` and the image's slices.

    ``shared``: a :class:`~cam2seg_utils.pipeline.SharedDecodes` kept across the settings of one
    image, so the image prior and the image boxes (the same in every setting) are computed and
    decoded once."""
    from ..metrics import segmentation_metrics
    from ..prompting import PromptContext, build_strategy
    from ..prompting.geometry import border_contact
    from ..prompting.scoring import candidate_features

    ctx = PromptContext(image, embedding, segmenter, heatmaps, np.random.default_rng(0),
                        prior=None if shared is None else shared.prior,
                        decode_cache=None if shared is None else shared.decode_cache)
    strategy = build_strategy("candidates")
    boxes, sources = strategy.candidate_boxes(ctx)
    decoded = ctx.decode_boxes(boxes)
    feats = candidate_features([d.mask for d in decoded], boxes, [d.predicted_iou for d in decoded], ctx.prior,
                               heatmaps, [d.low_res_logits for d in decoded])
    if shared is not None:
        shared.prior = ctx.computed_prior
    area, border = float(np.mean(gt)), border_contact(np.asarray(gt, dtype=bool))
    rows = [{"candidate": i, "source": src, "kind": "image" if src.startswith(("prior", "centred")) else "cam",
             **f, "iou": segmentation_metrics(d.mask, gt)["iou"], "gt_area_fraction": area,
             "gt_border_fraction": border}
            for i, (src, f, d) in enumerate(zip(sources, feats, decoded))]
    return pd.DataFrame(rows)


def harvest(config, dataset, ids: Sequence[str], out_dir: Path, settings: Sequence[str] | None = None,
            progress: bool = True, segmenter=None, classifiers: dict | None = None) -> pd.DataFrame:
    """Harvest ``ids`` of ``dataset`` for every setting of ``config`` (resumable per image and
    setting: ``<out_dir>/<setting>/<image>.parquet``). ``classifiers``: setting -> classifier
    (built from ``config`` by default); heatmaps are the ``strategy_cams`` of ``config``."""
    from ..cams import CamExtractor
    from ..pipeline import SharedDecodes

    settings = list(settings or config.settings)
    frames = []
    # image-major: the embedding, the prior and the image boxes' decodes serve every setting
    todo = [(s, i) for i in ids for s in settings if not (out_dir / s / f"{i}.parquet").is_file()]
    if todo:
        if segmenter is None:
            from ..segmenters import build_segmenter

            segmenter = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint,
                                        device=config.device)
        classifiers = dict(classifiers or {})
        for s in settings:
            if s not in classifiers:
                classifiers[s] = _classifier(config, s)
    cams = [c for c in config.strategy_cams if not CAM_METHODS.get(c).floor]
    embedded: tuple | None = None   # (image id, embedding, SharedDecodes)
    for setting, image_id in progress_bar(todo, progress, desc="harvest", unit="img"):
        sample = dataset.load(image_id)
        if embedded is None or embedded[0] != image_id:
            embedded = (image_id, segmenter.embed(sample.image), SharedDecodes())
        clf = classifiers[setting]
        target = clf.predict(sample.image).class_index
        x = clf.preprocess(sample.image)
        heatmaps = {}
        for cam in cams:
            with CamExtractor(clf, cam, progress=False, **_cam_kwargs(config)) as ex:
                heatmaps[cam] = ex(sample.image, target_class=target, input_tensor=x).heatmap
        table = harvest_image(sample.image, sample.mask, embedded[1], segmenter, heatmaps, embedded[2])
        path = out_dir / setting / f"{image_id}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as fh:
            table.assign(image_id=image_id, setting=setting).to_parquet(fh, index=False)
    for s in settings:
        for i in ids:
            frames.append(pd.read_parquet(out_dir / s / f"{i}.parquet"))
    return pd.concat(frames, ignore_index=True)


def _classifier(config, setting: str):
    from ..models import build_classifier

    if setting == "zero-shot":
        return build_classifier(config.models[0], weights=config.zero_shot_weights, device=config.device)
    from .finetune import load_finetuned

    return load_finetuned(config.models[0], config.finetuned_checkpoint(config.models[0], must_exist=True),
                          device=config.device)


def _cam_kwargs(config) -> dict:
    import dataclasses

    return dataclasses.asdict(config.cam_options())


# --------------------------------------------------------------------------------------------
# the fit
# --------------------------------------------------------------------------------------------


def choose(table: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """The top-ranked candidate of each image (and setting) under ``weights`` (first maximum in
    candidate order, as the strategy picks)."""
    score = np.zeros(len(table))
    for k, w in weights.items():
        score += w * table[k].to_numpy(dtype=float)
    keys = [c for c in ("setting", "image_id") if c in table.columns]
    t = table.assign(_score=score).sort_values([*keys, "candidate"], kind="mergesort")
    return t.loc[t.groupby(keys, sort=True)["_score"].idxmax()].drop(columns="_score")


def fit_weights(table: pd.DataFrame, features: Sequence[str] = FIT_FEATURES, tau: float = DEFAULT_TAU,
                lam: float = DEFAULT_LAM, prior: dict[str, float] | None = None) -> dict[str, float]:
    """Weights maximising ``mean_images sum_c softmax(score / tau)_c IoU_c - lam |w - prior|^2``
    on the candidates of ``table`` (rows of :func:`harvest`; groups = image x setting), started
    from ``prior`` (default: the a-priori set). An empty table returns ``prior``."""
    from scipy.optimize import minimize

    from ..prompting.weights import A_PRIORI

    prior = dict(A_PRIORI.weights if prior is None else prior)
    w0 = np.array([prior.get(f, 0.0) for f in features], dtype=np.float64)
    if table.empty:
        return {f: float(v) for f, v in zip(features, w0) if v != 0.0}
    keys = [c for c in ("setting", "image_id") if c in table.columns]
    groups = pd.factorize(pd.MultiIndex.from_frame(table[keys]))[0]
    n = int(groups.max()) + 1
    X = table[list(features)].to_numpy(dtype=np.float64)
    y = table["iou"].to_numpy(dtype=np.float64)

    def objective(w):
        s = X @ w / tau
        smax = np.full(n, -np.inf)
        np.maximum.at(smax, groups, s)
        e = np.exp(s - smax[groups])
        p = e / np.bincount(groups, e, n)[groups]
        expected = np.bincount(groups, p * y, n)
        grad = ((p * (y - expected[groups]))[:, None] * X).sum(0) / tau / n
        return -(expected.mean() - lam * np.sum((w - w0) ** 2)), -(grad - 2 * lam * (w - w0))

    res = minimize(objective, w0, jac=True, method="L-BFGS-B")
    return {f: round(float(v), 4) for f, v in zip(features, res.x) if abs(v) > 1e-6}


def slice_scores(chosen: pd.DataFrame) -> dict[str, float]:
    """Mean IoU (all, small lesions < 10 %, lesions touching the border), images with IoU < 0.01."""
    small = chosen["gt_area_fraction"] < 0.10
    border = chosen["gt_border_fraction"] > 0
    return {"iou": float(chosen["iou"].mean()), "iou_small": float(chosen.loc[small, "iou"].mean()),
            "iou_border": float(chosen.loc[border, "iou"].mean()) if border.any() else float("nan"),
            "misses": int((chosen["iou"] < 0.01).sum()), "n_images": int(len(chosen)),
            "n_small": int(small.sum()), "n_border": int(border.sum())}


def label_efficiency(fit_table: pd.DataFrame, eval_table: pd.DataFrame, ks: Sequence[int | None] = DEFAULT_KS,
                     draws: int = DEFAULT_DRAWS, seed: int = 0, tau: float = DEFAULT_TAU,
                     lam: float = DEFAULT_LAM, features: Sequence[str] = FIT_FEATURES
                     ) -> tuple[pd.DataFrame, dict[int, dict[str, float]]]:
    """Refit on ``k`` fitting images for each ``k`` (``draws`` seeded subsets when ``k`` is
    below the number of images; one otherwise) and score each weight set.

    Returns ``(table, weights)``: one row per ``k`` x draw x setting with the evaluation split's
    :func:`slice_scores` (``eval_*``) and those of the fitting images outside the draw
    (``heldout_*``, the training test part); ``weights[k]`` = the weights of the first draw.
    """
    from ..seeding import make_rng

    ids = np.array(sorted(fit_table["image_id"].unique()))
    rows, weights = [], {}
    # A k above the fitting images on hand (a smoke run) would repeat the all-images point; skip it.
    ks = list(dict.fromkeys(len(ids) if k is None else int(k) for k in ks if k is None or int(k) <= len(ids)))
    for kk in ks:
        n_draws = 1 if kk in (0, len(ids)) else int(draws)
        for d in range(n_draws):
            pick = ids if kk == len(ids) else make_rng(seed, "label-efficiency", kk, d).choice(ids, kk, replace=False)
            w = fit_weights(fit_table[fit_table["image_id"].isin(pick)], features, tau=tau, lam=lam)
            weights.setdefault(kk, w)
            held = fit_table[~fit_table["image_id"].isin(pick)]
            for setting in sorted(eval_table["setting"].unique()):
                row = {"k_masks": kk, "draw": d, "setting": setting, "weights": json.dumps(w, sort_keys=True)}
                row.update({f"eval_{m}": v for m, v in
                            slice_scores(choose(eval_table[eval_table["setting"] == setting], w)).items()})
                hs = held[held["setting"] == setting]
                row.update({f"heldout_{m}": v for m, v in
                            (slice_scores(choose(hs, w)) if len(hs) else {"iou": float("nan")}).items()})
                rows.append(row)
    return pd.DataFrame(rows), weights


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


def run(config, out_dir: Path, progress: bool = True, ks: Sequence[int | None] = DEFAULT_KS,
        draws: int = DEFAULT_DRAWS) -> dict:
    """Harvest the fitting images (training hold-out) and the evaluation images of ``config``,
    fit, and write the label-efficiency curve and the weight sets to ``out_dir``."""
    from ..prompting.weights import RankingWeights
    from .datasets import evaluation_ids, resolve_splits

    out_dir = Path(out_dir)
    splits = resolve_splits(config)
    fit_ids = list(splits.val_ids)
    eval_dataset, eval_ids, eval_split = evaluation_ids(config)
    fit_table = harvest(config, splits.train_dataset, fit_ids, out_dir / "harvest" / "fit", progress=progress)
    eval_table = harvest(config, eval_dataset, eval_ids, out_dir / "harvest" / "eval", progress=progress)
    curve, weights = label_efficiency(fit_table, eval_table, ks, draws, config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_open(out_dir / "label_efficiency.csv", "w") as fh:
        curve.to_csv(fh, index=False)
    fitted_on = (f"{config.train_split} split, the {len(fit_ids)} images fine-tuning holds out for early stopping "
                 f"(seed {config.seed})")
    for k, w in weights.items():
        rw = RankingWeights(f"fit-k{k}", w, k_masks=k, fitted_on=fitted_on if k else "",
                            description=f"fitted on {k} training masks (first draw)",
                            fit={"tau": DEFAULT_TAU, "lam": DEFAULT_LAM, "features": list(FIT_FEATURES),
                                 "settings": list(config.settings), "seed": config.seed})
        with atomic_open(out_dir / f"weights_k{k}.json", "w") as fh:
            fh.write(rw.to_json())
    summary = {"fit_split": fitted_on, "n_fit_images": len(fit_ids), "eval_split": eval_split,
               "n_eval_images": len(eval_ids), "settings": list(config.settings), "cams": list(config.strategy_cams),
               "curve": curve.groupby(["k_masks", "setting"])[["eval_iou", "eval_iou_small", "eval_misses"]]
               .mean().reset_index().to_dict(orient="records")}
    write_json(out_dir / "strategy_tuning.json", summary)
    return summary


__all__ = ["FIT_FEATURES", "DEFAULT_TAU", "DEFAULT_LAM", "DEFAULT_KS", "harvest_image", "harvest", "choose",
           "fit_weights", "slice_scores", "label_efficiency", "run"]

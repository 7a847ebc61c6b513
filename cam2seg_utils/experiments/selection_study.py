"""Which GT-free evidence picks the best candidate, and which ranking carries to images it never saw.

Input: harvest tables (:func:`.strategy_tuning.harvest`: one row per decoded candidate of
``candidates`` with its GT-free features, its IoU against the ground truth, the image's slices).
The IoU is read here only to **measure** and to **fit**; no ranking reads it when it chooses.

* :func:`feature_table`: each feature alone -- the AUC of telling each image's best candidates
  (within 0.05 IoU of its best) from the rest, and the mean IoU when it chooses alone (in the
  direction its AUC says: that direction is chosen on the same masks, so this column is a
  tuning number).
* :func:`pseudo_labels`: GT-free labels for self-training -- the candidates within 0.05 of their
  image's best ``consensus`` ranking score (agreement with the other masks, stability).
* :func:`fit_logistic`: a :class:`~cam2seg_utils.prompting.learned_ranking.LogisticRanking` fitted
  to labels (pseudo-labels: ``k_masks = 0``; ground-truth best-candidate labels on ``k`` images).
* :func:`cross_validated`: the choice on each fold of images made by a ranking fitted on the
  other folds (seeded folds), so a number tuned on the evaluation split gets an estimate of what
  it gives elsewhere.
* :func:`compare_selectors`: every ranking side by side on the evaluation split, each with its
  ``k_masks``, where those masks came from, the 5-fold cross-validated estimate, and the slices.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .strategy_tuning import FIT_FEATURES, choose, fit_weights, slice_scores

#: A candidate within this IoU of its image's best counts as "best" (labels and AUC).
BEST_TOLERANCE = 0.05
#: Inverse regularisation of the logistic rankers (sklearn's ``C``).
LOGISTIC_C = 0.3
#: Folds of the cross-validated estimate.
FOLDS = 5

_KEYS = ("setting", "image_id")


def _groups(table: pd.DataFrame) -> list[str]:
    return [c for c in _KEYS if c in table.columns]


def best_labels(table: pd.DataFrame, tolerance: float = BEST_TOLERANCE) -> np.ndarray:
    """``(N,)`` int: 1 where a candidate's IoU is within ``tolerance`` of its image's best (reads
    the ground truth: for fitting and measuring only)."""
    best = table.groupby(_groups(table))["iou"].transform("max")
    return (table["iou"] >= best - tolerance).to_numpy(dtype=int)


def pseudo_labels(table: pd.DataFrame, tolerance: float = BEST_TOLERANCE) -> np.ndarray:
    """``(N,)`` int GT-free labels: 1 where a candidate's ``consensus`` ranking score (its mean IoU
    with the other candidates' masks + 0.1 x stability) is within ``tolerance`` of its image's best."""
    from ..prompting.consensus_ranking import CONSENSUS

    score = table["consensus"].to_numpy(float) + CONSENSUS.stability_weight * table["stability"].to_numpy(float)
    best = pd.Series(score, index=table.index).groupby([table[k] for k in _groups(table)]).transform("max")
    return (score >= best.to_numpy() - tolerance).astype(int)


def _ranking_scores(table: pd.DataFrame, ranking) -> np.ndarray:
    """Each candidate's score under ``ranking``, image by image (rankings compare within an image)."""
    out = np.zeros(len(table))
    pos = {ix: i for i, ix in enumerate(table.index)}
    for _, part in table.groupby(_groups(table), sort=False):
        feats = part[[c for c in part.columns if c in FIT_FEATURES]].to_dict(orient="records")
        out[[pos[ix] for ix in part.index]] = ranking.scores(feats)
    return out


def choose_with(table: pd.DataFrame, ranking) -> pd.DataFrame:
    """The candidate ``ranking`` keeps on each image (first maximum in candidate order, as the
    strategy picks). ``ranking`` sees the feature columns only."""
    keys = _groups(table)
    t = table.assign(_score=_ranking_scores(table, ranking)).sort_values([*keys, "candidate"], kind="mergesort")
    return t.loc[t.groupby(keys, sort=True)["_score"].idxmax()].drop(columns="_score")


def _auc(labels: np.ndarray, score: np.ndarray) -> float:
    """Mann-Whitney AUC (ties count one half); nan without both classes."""
    pos, neg = score[labels == 1], score[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = pd.Series(np.concatenate([pos, neg])).rank().to_numpy()
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def feature_table(table: pd.DataFrame, features: Sequence[str] = FIT_FEATURES) -> pd.DataFrame:
    """Per feature: ``auc`` (best candidates vs the rest, pooled over images), ``direction``
    (+1 when larger is better by that AUC), the ``iou`` / ``iou_small`` / ``iou_border`` /
    ``misses`` when it chooses alone in that direction, and ``n_images``; best first."""
    labels = best_labels(table)
    rows = []
    for f in features:
        if f not in table.columns:
            continue
        x = table[f].to_numpy(float)
        auc = _auc(labels, x)
        direction = 1.0 if not auc < 0.5 else -1.0
        chosen = choose(table, {f: direction})
        rows.append({"feature": f, "auc": auc, "direction": int(direction),
                     **{k: v for k, v in slice_scores(chosen).items() if k in ("iou", "iou_small", "iou_border",
                                                                               "misses", "n_images")}})
    return pd.DataFrame(rows).sort_values("iou", ascending=False, kind="mergesort").reset_index(drop=True)


def fit_logistic(table: pd.DataFrame, labels: np.ndarray, name: str, k_masks: int, fitted_on: str,
                 features: Sequence[str] = FIT_FEATURES, C: float = LOGISTIC_C, description: str = ""):
    """A :class:`~cam2seg_utils.prompting.learned_ranking.LogisticRanking` fitted to ``labels``
    (one per row of ``table``) on the features and their distance to the image's best value.
    Deterministic (lbfgs, no random state)."""
    from sklearn.linear_model import LogisticRegression

    from ..prompting.learned_ranking import LogisticRanking, design_matrix

    features = [f for f in features if f in table.columns]
    blocks, ys = [], []
    lab = pd.Series(labels, index=table.index)
    for _, part in table.groupby(_groups(table), sort=True):
        blocks.append(design_matrix(part[features].to_dict(orient="records"), features))
        ys.append(lab.loc[part.index].to_numpy())
    X, y = np.concatenate(blocks), np.concatenate(ys)
    mean, std = X.mean(0), X.std(0)
    std[std < 1e-9] = 1.0
    if len(np.unique(y)) < 2:
        raise ValueError(f"{name}: the labels are all {int(y[0])}: nothing to fit")
    model = LogisticRegression(C=C, max_iter=5000).fit((X - mean) / std, y)
    return LogisticRanking(name, tuple(features), tuple(map(float, mean)), tuple(map(float, std)),
                           tuple(map(float, model.coef_[0])), float(model.intercept_[0]), int(k_masks), fitted_on,
                           description, {"C": C, "labels": "pseudo" if k_masks == 0 else "ground truth",
                                         "tolerance": BEST_TOLERANCE, "n_rows": int(len(y))})


def folds_of(ids: Sequence[str], folds: int = FOLDS, seed: int = 0) -> list[list[str]]:
    """``folds`` disjoint seeded parts of ``ids`` that cover them all."""
    from ..seeding import make_rng

    order = make_rng(seed, "selection-folds").permutation(np.array(sorted(set(ids))))
    return [sorted(part.tolist()) for part in np.array_split(order, folds)]


def cross_validated(table: pd.DataFrame, fit: Callable[[pd.DataFrame], object], folds: int = FOLDS,
                    seed: int = 0) -> pd.DataFrame:
    """The choice on each image by a ranking ``fit`` made from the *other* folds' rows."""
    parts = []
    for held in folds_of(table["image_id"].unique(), folds, seed):
        inside = table["image_id"].isin(held)
        parts.append(choose_with(table[inside], fit(table[~inside])))
    return pd.concat(parts, ignore_index=True)


def _row(name: str, k_masks: int, fitted_on: str, chosen: pd.DataFrame, cv: pd.DataFrame | None) -> dict:
    s = slice_scores(chosen)
    row = {"ranking": name, "k_masks": k_masks, "fitted_on": fitted_on, **s}
    c = slice_scores(cv) if cv is not None else s
    row.update({"cv_iou": c["iou"], "cv_iou_small": c["iou_small"], "cv_misses": c["misses"],
                "cv_note": "5-fold (fitted on 4/5, scored on 1/5)" if cv is not None else "nothing fitted here"})
    return row


def compare_selectors(eval_table: pd.DataFrame, fit_table: pd.DataFrame | None = None,
                      ks: Sequence[int] = (8, 32), draws: int = 3, seed: int = 0, folds: int = FOLDS,
                      fit_split: str = "training split") -> pd.DataFrame:
    """Every ranking on the evaluation images, per setting: the registered ``a-priori`` and
    ``consensus`` (nothing fitted), the logistic ranker self-trained on ``fit_table`` without
    masks, the logistic ranker and the linear weights fitted on ``k`` masks of ``fit_table``
    (mean over ``draws`` seeded subsets) and on all of them, and the logistic ranker fitted on
    the evaluation masks themselves, cross-validated; and the oracle (best candidate) beside."""
    from ..prompting.weights import RankingWeights, get_weights
    from ..seeding import make_rng

    rows = []
    for setting in sorted(eval_table["setting"].unique()) if "setting" in eval_table else [None]:
        ev = eval_table if setting is None else eval_table[eval_table["setting"] == setting]
        fit = None if fit_table is None else (fit_table if setting is None else fit_table[fit_table["setting"] == setting])
        out = []
        for name in ("a-priori", "consensus"):
            out.append(_row(name, 0, "", choose_with(ev, get_weights(name)), None))
        if fit is not None and len(fit):
            n_fit = fit["image_id"].nunique()
            self_trained = fit_logistic(fit, pseudo_labels(fit), "self-trained", 0, f"{fit_split}, {n_fit} images, "
                                        "pseudo-labels (no mask)")
            out.append(_row("self-trained", 0, self_trained.fitted_on, choose_with(ev, self_trained), None))
            ids = np.array(sorted(fit["image_id"].unique()))
            for k in [*[k for k in ks if k < len(ids)], len(ids)]:
                picks = [ids] if k == len(ids) else [make_rng(seed, "selection-k", k, d).choice(ids, k, replace=False)
                                                       for d in range(draws)]
                for kind in ("logistic", "linear"):
                    scores = []
                    for pick in picks:
                        sub = fit[fit["image_id"].isin(pick)]
                        if kind == "logistic":
                            ranking = fit_logistic(sub, best_labels(sub), f"logistic-k{k}", k, fit_split)
                        else:
                            ranking = RankingWeights(f"linear-k{k}", fit_weights(sub), k_masks=k)
                        scores.append(_row(f"{kind}-k{k}", k, f"{fit_split} ({len(picks)} draws)" if len(picks) > 1
                                           else fit_split, choose_with(ev, ranking), None))
                    mean = {c: (float(np.mean([s[c] for s in scores])) if isinstance(scores[0][c], (int, float))
                                else scores[0][c]) for c in scores[0]}
                    out.append(mean)

        def fit_on_masks(part: pd.DataFrame):
            return fit_logistic(part, best_labels(part), "logistic-eval", part["image_id"].nunique(), "evaluation folds")

        ev_n = ev["image_id"].nunique()
        cv = cross_validated(ev, fit_on_masks, folds, seed)   # every image chosen by a fit that never saw it
        out.append(_row("logistic-eval", int(ev_n * (folds - 1) / folds), "the evaluation split's other folds",
                        cv, cv))
        best = ev.loc[ev.groupby(_groups(ev))["iou"].idxmax()]
        out.append({**_row("oracle (best candidate by ground truth)", -1, "reads the ground truth", best, None),
                    "cv_note": "a reference, not a ranking"})
        for r in out:
            r["setting"] = setting
        rows += out
    return pd.DataFrame(rows)


__all__ = ["BEST_TOLERANCE", "LOGISTIC_C", "FOLDS", "best_labels", "pseudo_labels", "choose_with", "feature_table",
           "fit_logistic", "folds_of", "cross_validated", "compare_selectors"]


# --------------------------------------------------------------------------------------------
# the run (``cam2seg tune-strategies``)
# --------------------------------------------------------------------------------------------

#: Files the study writes beside the label-efficiency curve.
FEATURES_FILE, SELECTORS_FILE = "features.csv", "selectors.csv"


def write_study(eval_table: pd.DataFrame, fit_table: pd.DataFrame | None, out_dir, seed: int = 0,
                fit_split: str = "training split") -> dict[str, pd.DataFrame]:
    """:func:`feature_table` (per setting) and :func:`compare_selectors` written atomically as
    ``<out_dir>/features.csv`` and ``<out_dir>/selectors.csv``."""
    from pathlib import Path

    from ..atomic import atomic_open

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = sorted(eval_table["setting"].unique()) if "setting" in eval_table else [None]
    features = pd.concat([feature_table(eval_table if s is None else eval_table[eval_table["setting"] == s])
                          .assign(setting=s) for s in settings], ignore_index=True)
    selectors = compare_selectors(eval_table, fit_table, seed=seed, fit_split=fit_split)
    for name, df in ((FEATURES_FILE, features), (SELECTORS_FILE, selectors)):
        with atomic_open(out_dir / name, "w") as fh:
            df.to_csv(fh, index=False)
    return {"features": features, "selectors": selectors}


def run(config, out_dir, progress: bool = True) -> dict:
    """``tune-strategies``: the harvest and the label-efficiency curve
    (:func:`.strategy_tuning.run`), then the feature table and the rankings compared
    (:func:`write_study`) on the same harvest."""
    from pathlib import Path

    from . import strategy_tuning
    from .datasets import evaluation_ids, resolve_splits

    out_dir = Path(out_dir)
    summary = strategy_tuning.run(config, out_dir, progress=progress)
    splits = resolve_splits(config)
    eval_dataset, eval_ids, _ = evaluation_ids(config)
    # both harvests are complete on disk now: these calls read them back
    fit_table = strategy_tuning.harvest(config, splits.train_dataset, list(splits.val_ids), out_dir / "harvest" / "fit",
                                        progress=False)
    eval_table = strategy_tuning.harvest(config, eval_dataset, eval_ids, out_dir / "harvest" / "eval", progress=False)
    tables = write_study(eval_table, fit_table, out_dir, seed=config.seed,
                         fit_split=f"{config.train_split} split hold-out")
    rankings = tables["selectors"][tables["selectors"]["k_masks"] >= 0]     # the oracle row is a reference
    summary["selection_study"] = {"files": [FEATURES_FILE, SELECTORS_FILE],
                                  "best_cross_validated": str(rankings.loc[rankings["cv_iou"].idxmax(), "ranking"])}
    import json

    from ..atomic import atomic_open

    with atomic_open(out_dir / "strategy_tuning.json", "w") as fh:   # the run's one summary, study included
        fh.write(json.dumps(summary, indent=2))
    return summary

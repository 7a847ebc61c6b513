"""Tables of the paper's experiments, computed from the grid's tidy table (one function each).

Every function takes the grid DataFrame (columns listed in ``docs/ARCHITECTURE.md``) and returns a
new DataFrame; rows with an ``error`` are left out (count them with :func:`error_counts`).

* :func:`cam_mask_table` — Table 1: the CAM's own step-7 noisy mask vs ground truth.
* :func:`model_cam_matrix` — Fig. 5: mean IoU per model × CAM for one setting.
* :func:`individual_table` — every setting × model × CAM with mean metrics (and bootstrap CI).
* :func:`best_per_image` / :func:`best_method_table` — Table 2, "best method per image", two ways:
  ``"oracle"`` (the paper's: for each image the CAM whose mask has the highest IoU **against the
  ground truth**; an upper bound that no clinic can use, hence labelled oracle everywhere) and
  ``"predicted-iou"`` (for each image the CAM whose mask the segmenter itself scores highest,
  ``seg_predicted_iou``; uses no ground truth, so it is a method a clinic could run).
* :func:`zero_iou_counts` — Fig. 6: how many images get IoU == 0 (total failures).
* :func:`gt_baseline_table` — segmenters prompted from the ground truth (tight box, one point).

Ground truth is used only by the oracle and the GT baselines.

Confidence intervals: every table that takes ``ci=True`` adds ``<m>_ci_low`` / ``<m>_ci_high``
for IoU and Dice, each cell's from :func:`~.stats.cell_ci`: a 95 % percentile bootstrap seeded by
the cell's key, which names the rows the cell summarises, whatever table shows them:

* Table 1 / individual pairs: ``(setting, model, cam, prompt_variant)`` (``"cam-mask"`` for the
  noisy masks);
* best method per image: ``(setting, model, selection)``;
* segmenter baselines: ``(setting, segmenter)``;
* strategies: Algorithm 1 as the individual pairs, another strategy ``(setting, model, strategy,
  cam)``, a baseline copied beside them as in the baselines table, a no-classifier floor
  ``("no-classifier", segmenter, strategy)``; on a slice other than all images, the slice name
  is appended.

So the ground-truth box has the same interval in ``gt_baselines.csv``, in each setting of
``strategies.csv``, in the README and in the book; :func:`ci_table` keys any other grouping by
its group values.

Same images for every compared cell: a grid may hold a CAM on fewer images than another (a
``slow_cams_max_images`` limit, a CAM that failed on an image). Every function that compares
CAMs or models therefore works, per setting, on the images that **every** model × CAM cell of
that setting has (:func:`common_images`), and reports ``n`` (images used) beside ``n_all``
(images that cell had); ``images="all"`` switches the restriction off (then ``n`` differs
between cells and a ranking across them is the caller's responsibility).

Prompt parameters: a grid may sweep ``percentile`` / ``num_points`` / ``amplification``. Functions
that average over CAM rows take those three as keyword filters; when one is not given and the
table holds several values of it, they raise ``ValueError`` instead of silently mixing them, and
when one is given that the grid never ran they raise
:class:`~.identity.ResultsMismatchError` naming the values it has (never an empty table).
:func:`check_covers` checks a whole request (parameters, prompt variant, settings) at once.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..names import BASELINES, METRICS, SETTINGS
from ..prompting.algorithm1 import Algorithm1
from .identity import ResultsMismatchError
from .stats import cell_ci

ORACLE = "oracle (best CAM by ground-truth IoU)"
PREDICTED_IOU = "predicted-iou (best CAM by segmenter score, no ground truth)"
SELECTIONS = {"oracle": ORACLE, "predicted-iou": PREDICTED_IOU}
CAM_SETTINGS = SETTINGS    # the classifier settings (cam2seg_utils.names)
GT_SETTINGS = BASELINES    # segmenter baselines (the last, whole-image-box, uses no ground truth)
CI_METRICS = ("iou", "dice")


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows without an error."""
    if "error" not in df.columns:
        return df
    return df[df["error"].isna()]


def error_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Number of error rows per setting (``""`` = the whole image failed to load)."""
    err = df[df["error"].notna()]
    return err.groupby("setting", dropna=False).size().rename("n_errors").reset_index()


IMAGE_SETS = ("common", "all")


def common_images(rows: pd.DataFrame, by: Sequence[str] = ("setting",)) -> pd.DataFrame:
    """The rows of ``rows`` whose image has a row in **every** ``(model, cam)`` cell of its
    ``by`` group (default: per setting), i.e. the images all compared cells share."""
    if rows.empty:
        return rows
    keep = []
    for _, grp in rows.groupby(list(by), sort=False):
        cells = grp.groupby(["model", "cam"], sort=False)["image_id"].agg(lambda ids: set(ids))
        shared = set.intersection(*cells.tolist())
        keep.append(grp[grp["image_id"].isin(shared)])
    return pd.concat(keep).sort_index()


def _restrict(sel: pd.DataFrame, images: str) -> pd.DataFrame:
    if images not in IMAGE_SETS:
        raise ValueError(f"images must be one of {IMAGE_SETS}, got {images!r}")
    return common_images(sel) if images == "common" else sel


def _with_n_all(out: pd.DataFrame, before: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add ``n_all`` (rows per ``keys`` cell before the common-image restriction) after ``n``."""
    n_all = before.groupby(keys, sort=True).size().rename("n_all")
    out = out.join(n_all, how="left")
    cols = list(out.columns)
    cols.insert(cols.index("n") + 1, cols.pop(cols.index("n_all")))
    return out[cols]


def algorithm1_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the paper's Algorithm 1 (``strategy`` is ``algorithm1``, or ``""`` in tables
    written before the prompting layer), i.e. not those of the other prompting strategies."""
    if "strategy" not in df.columns:
        return df
    return df[df["strategy"].isin(["algorithm1", ""])]


def select_params(df: pd.DataFrame, percentile: float | None = None, num_points: int | None = None,
                  amplification: float | None = None) -> pd.DataFrame:
    """CAM rows (zero-shot / fine-tuned) with one value of each prompt parameter.

    A parameter left ``None`` must take a single value in the table, else ``ValueError``; a
    value the table's CAM rows never took raises :class:`~.identity.ResultsMismatchError`.
    """
    sel = ok_rows(df)
    sel = sel[sel["setting"].isin(CAM_SETTINGS)]
    sel = algorithm1_rows(sel)  # the paper's tables are Algorithm 1's; other strategies: strategy_table
    for col, val in (("percentile", percentile), ("num_points", num_points),
                     ("amplification", amplification)):
        values = sorted(sel[col].dropna().unique().tolist())
        if val is None:
            if len(values) > 1:
                raise ValueError(f"the table sweeps {col} over {values}; pass {col}=... to choose one")
            continue
        if len(sel):
            kept = sel[np.isclose(sel[col].astype(float), float(val))]
            if kept.empty:
                raise ResultsMismatchError(f"the grid has no rows with {col} = {float(val):g}; "
                                           f"it ran {col} {_values(values)}")
            sel = kept
    return sel


def _values(values) -> str:
    return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) + "]"


def check_covers(df: pd.DataFrame, prompt_variant: str | None = None, settings: Iterable[str] | None = None,
                 **params) -> None:
    """Raise :class:`~.identity.ResultsMismatchError` when the grid table ``df`` was not run with
    every requested prompt parameter value (``percentile=``, ``num_points=``,
    ``amplification=``), the ``prompt_variant`` or each of the CAM ``settings``; the message
    lists everything missing with the values the grid has."""
    rows = df[df["setting"].isin(CAM_SETTINGS)]
    good = ok_rows(rows)
    problems = []
    for col, val in params.items():
        if val is None:
            continue
        values = sorted(good[col].dropna().unique().tolist())
        if not np.isclose(np.asarray(values, dtype=float), float(val)).any():
            problems.append(f"{col} {float(val):g} (the grid has {col} {_values(values)})")
    variants = sorted(good.loc[good["prompt_variant"] != "cam-mask", "prompt_variant"].unique().tolist())
    if prompt_variant is not None and prompt_variant not in variants:
        problems.append(f"prompt variant {prompt_variant!r} (the grid has {variants})")
    ran = sorted(rows["setting"].unique().tolist())
    for setting in settings or ():
        if setting in CAM_SETTINGS and setting not in ran:
            problems.append(f"setting {setting!r} (the grid has {ran})")
    if problems:
        raise ResultsMismatchError("the grid was not run with " + "; ".join(problems))


def _mean_metrics(groups, metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    out = groups[list(metrics)].mean()
    out.insert(0, "n", groups.size())
    return out


def _ci_columns(groups, metrics: Sequence[str] = CI_METRICS, n_boot: int = 2000, seed: int = 0,
                suffix: tuple = ()) -> pd.DataFrame:
    """``<m>_ci_low`` / ``<m>_ci_high`` per group of ``groups`` (a sorted ``DataFrameGroupBy``),
    indexed like its aggregates; each cell's from :func:`~.stats.cell_ci` with the group key
    followed by ``suffix``."""
    rows = []
    for key, grp in groups:             # sorted, in the order of groups.size().index
        row = {}
        key = (*(key if isinstance(key, tuple) else (key,)), *suffix)
        for m in metrics:
            r = cell_ci(grp[m].to_numpy(), key, m, seed=seed, n_boot=n_boot)
            row[f"{m}_ci_low"], row[f"{m}_ci_high"] = r.low, r.high
        rows.append(row)
    cols = [f"{m}_ci_{side}" for m in metrics for side in ("low", "high")]
    return pd.DataFrame(rows, index=groups.size().index, columns=cols)


def ci_table(df: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str] = CI_METRICS, n_boot: int = 2000,
             seed: int = 0) -> pd.DataFrame:
    """Per group of ``keys`` (sorted): ``n``, and for each metric its mean ``<m>`` with the cell's
    95 % CI ``<m>_ci_low`` / ``<m>_ci_high`` (:func:`~.stats.cell_ci`, the same as every table's)."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, "n", *[f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")]])
    g = df.groupby(list(keys), sort=True)
    out = g[list(metrics)].mean()
    out.insert(0, "n", g.size())
    out = out.join(_ci_columns(g, metrics, n_boot, seed))
    cols = ["n", *[f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")]]
    return out[cols].reset_index()


def cam_mask_table(df: pd.DataFrame, images: str = "common", ci: bool = False, n_boot: int = 2000, seed: int = 0,
                   **params) -> pd.DataFrame:
    """Table 1: mean precision/recall/F1/IoU/Dice of the step-7 noisy mask (``prompt_variant ==
    "cam-mask"``) vs ground truth, per setting × model × CAM, on the common images (``n``;
    ``n_all``: the cell's images); with ``ci=True`` the IoU and Dice CIs (module docstring)."""
    sel = select_params(df, **params)
    before = sel[sel["prompt_variant"] == "cam-mask"]
    sel = _restrict(before, images)
    keys = ["setting", "model", "cam"]
    g = sel.groupby(keys, sort=True)
    out = _with_n_all(_mean_metrics(g), before, keys)
    if ci:
        out = out.join(_ci_columns(g, n_boot=n_boot, seed=seed, suffix=("cam-mask",)))
    return out.reset_index()


def individual_table(df: pd.DataFrame, prompt_variant: str = "box", ci: bool = False,
                     n_boot: int = 2000, seed: int = 0, images: str = "common", **params) -> pd.DataFrame:
    """Each setting × model × CAM with the segmenter prompted by ``prompt_variant``: ``n`` (the
    setting's common images), ``n_all`` (the cell's images), mean metrics, ``n_zero_iou``; with
    ``ci=True`` also ``iou_ci_low``/``iou_ci_high`` and ``dice_ci_low``/``dice_ci_high`` (95 %
    percentile bootstrap, ``n_boot`` resamples, seeded by the cell's key: module docstring)."""
    sel = select_params(df, **params)
    before = sel[sel["prompt_variant"] == prompt_variant]
    sel = _restrict(before, images)
    keys = ["setting", "model", "cam"]
    g = sel.groupby(keys, sort=True)
    out = _with_n_all(_mean_metrics(g), before, keys)
    out["n_zero_iou"] = g["iou"].apply(lambda s: int((s == 0).sum()))
    if ci:
        out = out.join(_ci_columns(g, n_boot=n_boot, seed=seed, suffix=(prompt_variant,)))
    return out.reset_index()


def model_cam_matrix(df: pd.DataFrame, setting: str, prompt_variant: str = "box",
                     metric: str = "iou", images: str = "common", **params) -> pd.DataFrame:
    """Fig. 5: mean ``metric`` with rows = model, columns = CAM, for one ``setting``, on the
    images every cell has."""
    sel = select_params(df, **params)
    sel = _restrict(sel[(sel["setting"] == setting) & (sel["prompt_variant"] == prompt_variant)], images)
    return sel.pivot_table(index="model", columns="cam", values=metric, aggfunc="mean").sort_index()


def best_per_image(df: pd.DataFrame, prompt_variant: str = "box", selection: str = "oracle",
                   cams: Iterable[str] | None = None, images: str = "common", **params) -> pd.DataFrame:
    """For each setting × model × image, the row of the CAM chosen by ``selection``.

    ``"oracle"``: highest ``iou`` against the ground truth (the paper's best method; an upper
    bound, not usable without ground truth). ``"predicted-iou"``: highest ``seg_predicted_iou``
    (the segmenter's own quality estimate; no ground truth). Ties go to the CAM name first in
    alphabetical order. ``cams`` restricts the candidates (default: every CAM in the table,
    RandomCAM included, as in the paper). Only images on which every candidate of every model of
    the setting has a row take part (``images="common"``), so no image picks from fewer CAMs.
    Adds a ``selection`` column with the full label.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {list(SELECTIONS)}, got {selection!r}")
    sel = select_params(df, **params)
    sel = sel[sel["prompt_variant"] == prompt_variant]
    if cams is not None:
        sel = sel[sel["cam"].isin(list(cams))]
    sel = _restrict(sel, images)
    score = "iou" if selection == "oracle" else "seg_predicted_iou"
    ordered = sel.sort_values(["setting", "model", "image_id", score, "cam"],
                              ascending=[True, True, True, False, True], kind="mergesort")
    best = ordered.groupby(["setting", "model", "image_id"], sort=True).head(1).copy()
    best.insert(0, "selection", SELECTIONS[selection])
    return best.sort_values(["setting", "model", "image_id"]).reset_index(drop=True)


def best_method_table(df: pd.DataFrame, prompt_variant: str = "box",
                      cams: Iterable[str] | None = None, ci: bool = False, n_boot: int = 2000, seed: int = 0,
                      **params) -> pd.DataFrame:
    """Table 2: mean metrics of the best-CAM-per-image masks per setting × model, for both the
    oracle and the predicted-IoU selection (column ``selection``), with ``n_zero_iou``; with
    ``ci=True`` the IoU and Dice CIs (module docstring)."""
    parts = []
    for selection in SELECTIONS:
        best = best_per_image(df, prompt_variant, selection, cams=cams, **params)
        g = best.groupby(["setting", "model", "selection"], sort=True)
        t = _mean_metrics(g)
        t["n_zero_iou"] = g["iou"].apply(lambda s: int((s == 0).sum()))
        if ci:
            t = t.join(_ci_columns(g, n_boot=n_boot, seed=seed))
        parts.append(t.reset_index())
    return pd.concat(parts, ignore_index=True)


def zero_iou_counts(df: pd.DataFrame, prompt_variant: str = "box", **params) -> pd.DataFrame:
    """Fig. 6: per setting × model × method (each CAM, and the two best-per-image selections),
    ``n`` images (the setting's common images), ``n_zero_iou`` (IoU exactly 0: total failures)
    and ``frac_zero_iou``."""
    sel = select_params(df, **params)
    sel = common_images(sel[sel["prompt_variant"] == prompt_variant])
    frames = [sel.assign(method=sel["cam"])]
    for selection in SELECTIONS:
        best = best_per_image(df, prompt_variant, selection, **params)
        frames.append(best.assign(method="best: " + best["selection"]))
    allrows = pd.concat(frames, ignore_index=True)
    g = allrows.groupby(["setting", "model", "method"], sort=True)["iou"]
    out = pd.DataFrame({"n": g.size(), "n_zero_iou": g.apply(lambda s: int((s == 0).sum()))})
    out["frac_zero_iou"] = out["n_zero_iou"] / out["n"]
    return out.reset_index()


def gt_baseline_table(df: pd.DataFrame, ci: bool = False, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Segmenters prompted with ground-truth prompts (``gt-box``: tight box of the lesion;
    ``gt-point``: one point at the lesion's centroid, snapped inside it) — the ceiling of
    box/point prompting — and the ``whole-image-box`` floor (no localisation), measured on the
    same images; with ``ci=True`` the IoU and Dice CIs (module docstring)."""
    sel = ok_rows(df)
    sel = sel[sel["setting"].isin(GT_SETTINGS)]
    g = sel.groupby(["setting", "segmenter"], sort=True)
    out = _mean_metrics(g)
    if ci:
        out = out.join(_ci_columns(g, n_boot=n_boot, seed=seed))
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# prompting strategies (cam2seg_utils.prompting): the "Beyond the paper" tables
# --------------------------------------------------------------------------------------------

#: Image slices every strategy is also reported on (from the ground truth, for reporting only).
SMALL_LESION_FRACTION = 0.10
SLICES = {
    "all": lambda d: np.ones(len(d), dtype=bool),
    "small lesion (<10 % of image)": lambda d: d["gt_area_fraction"].to_numpy() < SMALL_LESION_FRACTION,
    "touches border": lambda d: d["gt_border_fraction"].to_numpy() > 0,
}
NO_CLASSIFIER = "no-classifier"


def strategy_rows(df: pd.DataFrame, prompt_variant: str = "box", percentile: float | None = None) -> pd.DataFrame:
    """One row per image × setting × model × strategy × CAM, ready to compare strategies.

    ``algorithm1`` = the grid's Algorithm 1 rows with ``prompt_variant`` (at ``percentile``, which
    must be given when the grid swept several); the other strategies' rows as they are; the
    floors (``setting == "no-classifier"``, and the ``whole-image-box`` baseline as strategy
    ``whole-image``) and the ground-truth box (``oracle-gt-box``) are copied into every
    classifier setting × model present, so each setting's table shows them on the same images;
    column ``shared_from`` holds a copy's own setting (``""`` for the other rows).
    """
    if "strategy" not in df.columns:
        raise ValueError("this grid table has no strategy column (made before the prompting layer): rerun the grid")
    ok = ok_rows(df)
    alg = algorithm1_rows(ok)
    alg = alg[(alg["prompt_variant"] == prompt_variant) & alg["setting"].isin(CAM_SETTINGS)].assign(strategy="algorithm1")
    values = sorted(alg["percentile"].dropna().unique().tolist())
    if percentile is None and len(values) > 1:
        raise ValueError(f"the table sweeps percentile over {values}; pass percentile=... to choose one")
    if percentile is not None:
        alg = alg[np.isclose(alg["percentile"].astype(float), float(percentile))]
    if alg["num_points"].nunique() > 1 or alg["amplification"].nunique() > 1:
        alg = alg[(alg["num_points"] == alg["num_points"].min()) & (alg["amplification"] == alg["amplification"].min())]
    others = ok[ok["setting"].isin(CAM_SETTINGS) & ~ok["strategy"].isin(["algorithm1", ""])]
    shared = ok[(ok["setting"] == NO_CLASSIFIER) | ok["setting"].isin(["gt-box", "whole-image-box"])]
    pairs = pd.concat([alg, others])[["setting", "model"]].drop_duplicates()
    copies = [shared.assign(shared_from=shared["setting"], setting=st, model=m) for st, m in pairs.itertuples(index=False)]
    return pd.concat([alg.assign(shared_from=""), others.assign(shared_from=""), *copies], ignore_index=True)


def _strategy_cell_key(g: pd.DataFrame, setting: str, model: str, slice_name: str, strategy: str, cam: str,
                       prompt_variant: str) -> tuple:
    """The CI key of one strategies-table cell (module docstring): the key the same rows have in
    their own table (individual pairs, baselines), or of the strategy itself."""
    src, seg = g["shared_from"].iloc[0], g["segmenter"].iloc[0]
    if src in GT_SETTINGS:
        key: tuple = (src, seg)
    elif src:
        key = (src, seg, strategy)
    elif strategy == Algorithm1.name:
        key = (setting, model, cam, prompt_variant)
    else:
        key = (setting, model, strategy, cam)
    return key if slice_name == "all" else (*key, slice_name)


def strategy_table(df: pd.DataFrame, prompt_variant: str = "box", percentile: float | None = None,
                   reference: tuple[str, str] = ("algorithm1", "gradcam"), ci: bool = True,
                   n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per setting × model × slice × strategy × CAM: ``n``, mean IoU and Dice (95 % bootstrap CI
    with ``ci``, seeded by that cell key: module docstring), ``n_zero_iou``, and a paired Wilcoxon test against ``reference`` (strategy, CAM)
    on the common images (``delta_iou`` = mean difference, ``p_vs_reference``).

    Slices (:data:`SLICES`): all images, small lesions (ground truth < 10 % of the image) and
    lesions touching the image border, so a gain that only exists on easy images shows.
    """
    from .stats import paired_test

    rows = strategy_rows(df, prompt_variant, percentile)
    out = []
    for (setting, model), grp in rows.groupby(["setting", "model"], sort=True):
        for slice_name, pick in SLICES.items():
            ids = set(grp.loc[pick(grp), "image_id"])
            part = grp[grp["image_id"].isin(ids)]
            ref = part[(part["strategy"] == reference[0]) & (part["cam"] == reference[1])].set_index("image_id")["iou"]
            for (strategy, cam), g in part.groupby(["strategy", "cam"], sort=True):
                iou = g.set_index("image_id")["iou"]
                rec = {"setting": setting, "model": model, "slice": slice_name, "strategy": strategy, "cam": cam,
                       "uses_ground_truth": "oracle" in strategy, "n": int(len(g)), "iou": float(g["iou"].mean()),
                       "dice": float(g["dice"].mean()), "n_zero_iou": int((g["iou"] == 0).sum())}
                if ci and len(g):
                    key = _strategy_cell_key(g, setting, model, slice_name, strategy, cam, prompt_variant)
                    for metric in CI_METRICS:
                        r = cell_ci(g[metric].to_numpy(), key, metric, seed=seed, n_boot=n_boot)
                        rec[f"{metric}_ci_low"], rec[f"{metric}_ci_high"] = r.low, r.high
                common = iou.index.intersection(ref.index)
                t = paired_test(iou.loc[common].to_numpy(), ref.loc[common].to_numpy())
                rec.update(n_paired=t.n, delta_iou=t.mean_diff, p_vs_reference=t.p_value)
                out.append(rec)
    return pd.DataFrame(out)


__all__ = ["METRICS", "ORACLE", "PREDICTED_IOU", "SELECTIONS", "IMAGE_SETS", "CAM_SETTINGS", "GT_SETTINGS",
           "CI_METRICS", "common_images", "ok_rows", "error_counts", "ci_table",
           "algorithm1_rows", "select_params", "check_covers", "cam_mask_table", "individual_table", "model_cam_matrix",
           "best_per_image", "best_method_table", "zero_iou_counts", "gt_baseline_table",
           "SLICES", "strategy_rows", "strategy_table"]

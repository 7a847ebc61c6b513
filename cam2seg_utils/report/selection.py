"""Where a prompt loses IoU (chapter 09): in **generation** (the best box of the candidate set
against the ground-truth box) or in **selection** (the chosen box against the best of its set),
and what the **CAM contributes** to the default (``candidates`` against ``image-prior``: the same
strategy with the CAM's boxes and vote removed).

:func:`selection_gap` is the first, per setting x slice, with the misses: it reads the grid's
``oracle-<strategy>`` reference rows, which pick the best candidate by ground truth (references,
never results). :func:`cam_contribution` is the second: the paired difference per image with its
95 % bootstrap CI (:func:`~cam2seg_utils.experiments.stats.cell_ci`), the Wilcoxon p-value, and
the images it wins and loses, per setting x slice. :func:`cam_verdict` says it in one sentence
per setting.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments import summary
from ..experiments.stats import cell_ci, paired_test
from ..prompting import DEFAULT_STRATEGY
from ..viz import format_ci, format_p
from .headline import MISS_IOU
from .notebook import markdown, show_table

SLICE_ORDER = list(summary.SLICES)


def _per_image(grid: pd.DataFrame, strategies: list[str], percentile: float) -> dict[str, pd.DataFrame]:
    """Strategy name -> its per-image rows (one per setting x image), from one ``strategy_rows`` pass."""
    rows = summary.strategy_rows(grid, "box", percentile)
    return {name: rows[rows["strategy"] == name].drop_duplicates(["setting", "image_id"]) for name in strategies}


def selection_gap(grid: pd.DataFrame, config, strategy: str = DEFAULT_STRATEGY) -> pd.DataFrame:
    """Per classifier setting x slice: mean IoU of the ground-truth box, of ``oracle-<strategy>``
    (the best of the strategy's candidates), of ``strategy`` (the one it chose) and of the
    whole-image box, on the same images; ``lost_in_generation`` = GT box - best candidate,
    ``lost_in_selection`` = best candidate - chosen; misses (IoU < 0.01) of the chosen and of the
    best candidate. Empty when the grid has no ``oracle-<strategy>`` rows."""
    p = float(config.percentile[0])
    parts = _per_image(grid, ["oracle-gt-box", f"oracle-{strategy}", strategy, "whole-image"], p)
    if parts[f"oracle-{strategy}"].empty or parts[strategy].empty:
        return pd.DataFrame()
    out = []
    for setting in sorted(parts[strategy]["setting"].unique()):
        series = {name: d[d["setting"] == setting].set_index("image_id") for name, d in parts.items()}
        ids = sorted(set.intersection(*(set(s.index) for s in series.values())))
        if not ids:
            continue
        ref = series[strategy].loc[ids]
        for slice_name, pick in summary.SLICES.items():
            keep = [i for i, k in zip(ids, pick(ref)) if k]
            if not keep:
                continue
            m = {name: float(s.loc[keep, "iou"].mean()) for name, s in series.items()}
            out.append({"setting": setting, "slice": slice_name, "n": len(keep),
                        "gt_box": m["oracle-gt-box"], "best_candidate": m[f"oracle-{strategy}"],
                        "chosen": m[strategy], "whole_image_box": m["whole-image"],
                        "lost_in_generation": m["oracle-gt-box"] - m[f"oracle-{strategy}"],
                        "lost_in_selection": m[f"oracle-{strategy}"] - m[strategy],
                        "misses_chosen": int((series[strategy].loc[keep, "iou"] < MISS_IOU).sum()),
                        "misses_best_candidate": int((series[f"oracle-{strategy}"].loc[keep, "iou"] < MISS_IOU).sum())})
    return pd.DataFrame(out)


def cam_contribution(grid: pd.DataFrame, config, with_cam: str = DEFAULT_STRATEGY,
                     without_cam: str = "image-prior", seed: int = 0) -> pd.DataFrame:
    """Per classifier setting x slice: ``with_cam`` minus ``without_cam`` per image (the same
    strategy without the CAM's boxes and vote): ``n``, both means, ``delta`` with its 95 %
    bootstrap CI, the Wilcoxon ``p``, and the images where the CAM version is better / worse by
    more than 0.05 IoU."""
    p = float(config.percentile[0])
    parts = _per_image(grid, [with_cam, without_cam], p)
    a_all, b_all = parts[with_cam], parts[without_cam]
    out = []
    for setting in sorted(a_all["setting"].unique()):
        a = a_all[a_all["setting"] == setting].set_index("image_id")
        b = b_all[b_all["setting"] == setting].set_index("image_id")
        ids = sorted(set(a.index) & set(b.index))
        if not ids:
            continue
        a, b = a.loc[ids], b.loc[ids]
        for slice_name, pick in summary.SLICES.items():
            keep = np.asarray(pick(a), dtype=bool)
            if not keep.any():
                continue
            x, y = a["iou"].to_numpy()[keep], b["iou"].to_numpy()[keep]
            d = x - y
            ci = cell_ci(d, ("cam-contribution", setting, with_cam, without_cam, slice_name), "delta_iou", seed=seed)
            t = paired_test(x, y)
            out.append({"setting": setting, "slice": slice_name, "n": int(keep.sum()), with_cam: float(x.mean()),
                        without_cam: float(y.mean()), "delta": float(d.mean()), "delta_ci_low": ci.low,
                        "delta_ci_high": ci.high, "p": t.p_value, "cam_better": int((d > 0.05).sum()),
                        "cam_worse": int((d < -0.05).sum())})
    return pd.DataFrame(out)


def cam_verdict(contribution: pd.DataFrame) -> list[str]:
    """One sentence per setting: does the CAM earn its keep in the default (all images)?"""
    lines = []
    from ..experiments.stats import MIN_N_INFERENCE

    for _, r in contribution[contribution["slice"] == "all"].iterrows():
        if r["n"] < MIN_N_INFERENCE:
            lines.append(f"- {r['setting']}: {int(r['n'])} images, too few to test (mean difference "
                         f"{r['delta']:+.3f} IoU).")
            continue
        p = format_p(r["p"], r["n"])
        ci = f"{r['delta']:+.3f} IoU [{r['delta_ci_low']:+.3f}, {r['delta_ci_high']:+.3f}], p {p if p.startswith('<') else '= ' + p}"
        if r["delta_ci_low"] > 0:
            word = "**the CAM helps**"
        elif r["delta_ci_high"] < 0:
            word = "**the CAM hurts**"
        else:
            word = "**the CAM makes no measurable difference**"
        lines.append(f"- {r['setting']}: {word} ({ci} on {int(r['n'])} images; better on "
                     f"{int(r['cam_better'])}, worse on {int(r['cam_worse'])} by more than 0.05).")
    return lines


def show_selection(grid: pd.DataFrame, config) -> None:
    """The generation / selection table on the page."""
    show_table(selection_gap(grid, config), empty="This grid has no oracle-candidates rows (made before they "
                                                   "existed, or with selection_oracles off).")


def show_cam_contribution(grid: pd.DataFrame, config) -> None:
    """The CAM-contribution table and its verdict on the page."""
    c = cam_contribution(grid, config)
    shown = c
    if not c.empty:   # one text column for the difference and its CI, one p format, nothing below n = 5
        shown = c.assign(**{"delta [95% CI]": [format_ci(r["delta"], r["delta_ci_low"], r["delta_ci_high"], n=r["n"])
                                               for _, r in c.iterrows()],
                            "p": [format_p(r["p"], r["n"]) for _, r in c.iterrows()]}
                         ).drop(columns=["delta", "delta_ci_low", "delta_ci_high"])
    show_table(shown, empty="This grid lacks the default strategy or image-prior rows.")
    if not c.empty:
        markdown("\n".join(cam_verdict(c)))


__all__ = ["selection_gap", "cam_contribution", "cam_verdict", "show_selection", "show_cam_contribution"]

"""Beyond the paper (notebook 09): the prompting strategies of :mod:`cam2seg_utils.prompting`
beside Algorithm 1, on every image and on the hard slices, and the verdict on whether the CAM
earns its keep.

:func:`summary_table` is the strategies table with 95 % CIs (the CLI's ``strategies.csv``);
:func:`show_tables` puts it on the page per setting x model; :func:`show_iou_plot` draws the IoU
per image of each strategy (:func:`strategy_iou_plot`); :func:`verdict` compares the best
strategy that uses the classifier with the best floor that does not (the floors come from the
strategy registry, :func:`floor_strategies`); :func:`show_examples` draws where the default
strategy wins and fails (:func:`strategy_examples`, :func:`strategy_examples_figure`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import viz
from ..experiments import summary
from .notebook import markdown, show_figure, show_table
from .provenance import FigureUnavailable
from .recompute import figure_samples, preferred
from .tables import CI_TEXT, main_variant, with_ci_text

TABLE_COLUMNS = ["slice", "strategy", "cam", "uses_ground_truth", "n", CI_TEXT.format("iou"), CI_TEXT.format("dice"),
                 "n_zero_iou", "delta_iou", "p_vs_reference"]
WHOLE_IMAGE_BASELINE = "whole-image-box"     # the grid's baseline setting that is a floor too


def summary_table(grid: pd.DataFrame, config) -> pd.DataFrame:
    """The strategies table (:func:`~cam2seg_utils.experiments.summary.strategy_table` at the
    config's first percentile and main prompt variant) with ``iou [95% CI]`` / ``dice [95% CI]``
    text columns; empty when the grid has no strategy rows."""
    t = summary.strategy_table(grid, prompt_variant=main_variant(config), percentile=config.percentile[0])
    return t if t.empty else with_ci_text(t)


def show_tables(table: pd.DataFrame) -> None:
    """One table per setting x model, each sorted by slice and IoU."""
    if table.empty:
        markdown("*This grid has no strategy rows.*")
        return
    for (setting, model), t in table.groupby(["setting", "model"], sort=True):
        markdown(f"### {setting} · {model}")
        show_table(t.sort_values(["slice", "iou"], ascending=[True, False])[TABLE_COLUMNS], empty="")


def per_image_rows(grid: pd.DataFrame, config) -> pd.DataFrame:
    """:func:`~cam2seg_utils.experiments.summary.strategy_rows` with a ``label`` column
    (strategy, and its CAM when it has one)."""
    if not len(grid):
        return grid
    rows = summary.strategy_rows(summary.ok_rows(grid), main_variant(config), config.percentile[0])
    return rows.assign(label=rows["strategy"] + rows["cam"].map(lambda c: f" ({c})" if c else ""))


def strategy_iou_plot(rows: pd.DataFrame, order: Sequence[str] | None = None) -> Figure:
    """IoU per image of each prompting strategy (one strip + box per strategy, one panel per
    setting); ``rows`` = :func:`per_image_rows` (a ``label`` column: strategy and CAM)."""
    import seaborn as sns

    settings = sorted(rows["setting"].unique())
    if not settings:
        raise ValueError("strategy_iou_plot needs rows")
    order = list(order) if order is not None else (
        rows.groupby("label")["iou"].mean().sort_values(ascending=False).index.tolist())
    fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 0.38 * len(order) + 1.5),
                             squeeze=False, sharey=True)
    for ax, setting in zip(axes.flat, settings):
        part = rows[rows["setting"] == setting]
        sns.boxplot(data=part, x="iou", y="label", order=order, ax=ax, color="#dddddd", fliersize=0)
        sns.stripplot(data=part, x="iou", y="label", order=order, ax=ax, size=2.5, alpha=0.5, color="#1f77b4")
        means = part.groupby("label")["iou"].mean()
        ax.scatter([means.get(o, np.nan) for o in order], range(len(order)), marker="D", color="#d62728",
                   zorder=5, label="mean")
        ax.set_title(setting)
        ax.set_xlim(0, 1)
        ax.set_xlabel("IoU per image")
        ax.set_ylabel("")
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def show_iou_plot(grid: pd.DataFrame, config) -> None:
    """The IoU per image of every strategy on the page (nothing without strategy rows)."""
    rows = per_image_rows(grid, config)
    if len(rows):
        show_figure(strategy_iou_plot(rows))


def floor_strategies(grid: pd.DataFrame) -> set[str]:
    """The strategies that use no classifier: every registered strategy with
    ``uses_classifier = False`` (:data:`cam2seg_utils.prompting.STRATEGIES`) and the strategy label
    of the grid's whole-image-box baseline rows."""
    from ..prompting import STRATEGIES

    names = {n for n in STRATEGIES.names() if not STRATEGIES.get(n).uses_classifier}
    ok = summary.ok_rows(grid)
    if "strategy" in ok.columns:
        names |= {s for s in ok.loc[ok["setting"] == WHOLE_IMAGE_BASELINE, "strategy"].dropna() if s}
    return names


@dataclass
class Verdict:
    """Per setting x model x slice, the best strategy with and without the classifier
    (``best``: columns setting, model, slice, uses_cam, strategy, cam, iou, n) and one Markdown
    line each saying which leads (``lines``)."""

    best: pd.DataFrame
    lines: list[str]


def verdict(table: pd.DataFrame, grid: pd.DataFrame) -> Verdict:
    """Does the CAM earn its keep? The best strategy that uses the classifier against the best
    floor that does not (:func:`floor_strategies`), per setting x model x slice, from
    :func:`summary_table`'s ``table``; the oracle rows (reading the ground truth) take no part."""
    floors = floor_strategies(grid)
    t = table[~table["uses_ground_truth"]].copy()
    # RandomCAM is the paper's control, not a CAM that knows anything: its rows count as floors
    from ..cams.registry import floor_cam

    t["uses_cam"] = ~t["strategy"].isin(sorted(floors)) & (t["cam"] != floor_cam())
    best = (t.sort_values("iou", ascending=False).groupby(["setting", "model", "slice", "uses_cam"], sort=True)
            .head(1)[["setting", "model", "slice", "uses_cam", "strategy", "cam", "iou", "n"]])
    best = best.sort_values(["setting", "model", "slice", "uses_cam"])
    lines = []
    for (setting, model, sl), g in best.groupby(["setting", "model", "slice"], sort=True):
        cam_iou = g.loc[g["uses_cam"], "iou"].max()
        floor_iou = g.loc[~g["uses_cam"], "iou"].max()
        if abs(cam_iou - floor_iou) < 5e-4:
            lines.append(f"- {setting} · {model} · {sl}: a tie: the best CAM strategy equals the best floor "
                         f"({cam_iou:.3f}).")
        elif cam_iou > floor_iou:
            lines.append(f"- {setting} · {model} · {sl}: a CAM strategy leads ({cam_iou:.3f} vs floor {floor_iou:.3f}).")
        else:
            lines.append(f"- {setting} · {model} · {sl}: **a floor that ignores the classifier beats every CAM "
                         f"strategy** ({floor_iou:.3f} vs {cam_iou:.3f}).")
    return Verdict(best, lines)


def show_verdict(table: pd.DataFrame, grid: pd.DataFrame) -> None:
    """:func:`verdict` on the page: the best-of table and the verdict lines."""
    if table.empty:
        return
    v = verdict(table, grid)
    show_table(v.best, empty="")
    markdown("\n".join(v.lines))


def strategy_examples(config, grid: pd.DataFrame, strategy: str, reference: str = "algorithm1",
                      max_cases: int = 2) -> list[dict[str, Any]]:
    """Worked examples: the images where ``strategy`` gains most and loses most against
    ``reference`` (GradCAM, first setting x model), recomputed from the images (pixels are never
    stored in results): image, both final masks and boxes, ground truth."""
    from ..segmenters import build_segmenter

    rows = summary.strategy_rows(summary.ok_rows(grid), main_variant(config), config.percentile[0])
    if rows.empty:
        return []
    setting, model = preferred(config, grid)
    rows = rows[(rows["setting"] == setting) & (rows["model"] == model)]
    a = rows[rows["strategy"] == strategy].drop_duplicates("image_id").set_index("image_id")
    b = rows[(rows["strategy"] == reference) & (rows["cam"] == config.strategy_cams[0])].set_index("image_id")
    common = a.index.intersection(b.index)
    if common.empty:
        return []
    gain = (a.loc[common, "iou"] - b.loc[common, "iou"]).sort_values(kind="mergesort")
    picks = [("wins", gain.index[-1]), ("fails", gain.index[0])][:max_cases]
    load = figure_samples(config)   # FigureUnavailable when the pixels are not here
    seg = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    out = []
    for title, image_id in picks:
        sample = load(image_id)
        emb = seg.embed(sample.image)
        case_rows = {strategy: a.loc[image_id], reference: b.loc[image_id]}
        # every final mask of these strategies is the decoding of its last box (no mask_input)
        masks = {name: seg.segment(emb, box=np.array([r["box_x0"], r["box_y0"], r["box_x1"], r["box_y1"]])).mask
                 for name, r in case_rows.items()}
        out.append({"title": title, "image_id": image_id, "image": sample.image, "gt_mask": sample.mask,
                    "gain": float(gain[image_id]), "rows": case_rows, "masks": masks})
    return out


def strategy_examples_figure(cases: Sequence[Mapping[str, Any]]) -> Figure:
    """One row per case: the image with the ground truth (green), each strategy's final mask
    (red) and its last box (one panel per strategy)."""
    if not cases:
        raise ValueError("strategy_examples_figure needs at least one case")
    ncols = max(len(c["rows"]) for c in cases)
    fig, axes = plt.subplots(len(cases), ncols, figsize=(3.6 * ncols, 3.6 * len(cases)), squeeze=False)
    for r, case in enumerate(cases):
        for c, (name, row) in enumerate(case["rows"].items()):
            ax = axes[r, c]
            ax.imshow(case["image"])
            viz.draw_mask_contour(ax, case["gt_mask"], "#2ca02c")
            if name in case.get("masks", {}):
                viz.draw_mask_contour(ax, case["masks"][name], "#d62728")
            box = [row["box_x0"], row["box_y0"], row["box_x1"], row["box_y1"]]
            if np.all(np.isfinite(box)):
                viz.draw_prompts(ax, box=box)
            ax.set_title(f"{case['title']}: {name}\nIoU {row['iou']:.2f}", fontsize=9)
            viz.clean_axes(ax)
    fig.tight_layout()
    return fig


def show_examples(config, grid: pd.DataFrame, strategy: str | None = None) -> None:
    """The worked examples of ``strategy`` (default: the default strategy) on the page, or the
    sentence saying why not."""
    from ..prompting import DEFAULT_STRATEGY

    try:
        cases = strategy_examples(config, grid, strategy or DEFAULT_STRATEGY) if len(grid) else []
    except FigureUnavailable as why:
        markdown(f"*The worked examples are not drawn in this build: {why}.*")
        return
    if cases:
        show_figure(strategy_examples_figure(cases))
    else:
        markdown("*No strategy rows to draw examples from.*")


__all__ = ["TABLE_COLUMNS", "summary_table", "show_tables", "per_image_rows", "strategy_iou_plot", "show_iou_plot",
           "floor_strategies", "Verdict", "verdict", "show_verdict", "strategy_examples", "strategy_examples_figure",
           "show_examples"]

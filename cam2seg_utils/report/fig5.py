"""Fig. 5 (notebook 04): every classifier x CAM pair prompting the segmenter (Algorithm 1).

:func:`show_matrices` draws the model x CAM mean-IoU matrices (:func:`iou_matrix_heatmaps`);
:func:`pair_table` is the per-pair table with 95 % CIs (the CLI's ``individual.csv``);
:func:`best_pair_table` puts our best pair beside the paper's; :func:`prompt_variant_table`
compares box, points and box + points; :func:`vs_randomcam` tests each CAM against RandomCAM.
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import paper
from ..experiments import summary
from .notebook import markdown, show_figure
from .tables import CI_TEXT, cam_rows, main_variant, paired, paired_vs_reference, single_params, with_ci_text

VARIANTS = ("box", "points", "box+points")


def variant_note(config) -> None:
    """Say which prompt variant the page's tables show, and why."""
    markdown(f"Prompt variant shown: **{main_variant(config)}**. The paper prompts with the box and the points; "
             "MedSAM and LiteMedSAM were trained with box prompts only, so the headline tables use the box "
             "and the prompt-variant table below compares all variants on the same images.")


def iou_matrix_heatmaps(matrices: Mapping[str, pd.DataFrame], vmin: float = 0.0,
                        vmax: float | None = None, fmt: str = ".3f") -> Figure:
    """Fig. 5: one annotated model x CAM heatmap of mean IoU per setting, sharing a colour scale.

    Each frame: index = model, columns = CAM, values = mean IoU (NaN cells left blank)."""
    import seaborn as sns

    if not matrices:
        raise ValueError("iou_matrix_heatmaps needs at least one matrix")
    if vmax is None:
        finite = [np.nanmax(m.to_numpy(dtype=float)) for m in matrices.values() if np.isfinite(m.to_numpy(dtype=float)).any()]
        vmax = max(finite) if finite else 1.0
        vmax = max(vmax, vmin + 1e-6)
    n = len(matrices)
    width = max(4.5, 1.0 + 0.9 * max(m.shape[1] for m in matrices.values()))
    height = max(2.6, 1.2 + 0.5 * max(m.shape[0] for m in matrices.values()))
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    for ax, (setting, mat) in zip(axes[0], matrices.items()):
        sns.heatmap(mat.astype(float), ax=ax, annot=True, fmt=fmt, vmin=vmin, vmax=vmax, cmap="viridis",
                    cbar=True, cbar_kws={"label": "mean IoU"}, annot_kws={"fontsize": 9})
        ax.set_title(setting)
        ax.set_xlabel("CAM method")
        ax.set_ylabel("model")
        ax.tick_params(axis="x", rotation=30)
        ax.tick_params(axis="y", rotation=0)
    fig.tight_layout()
    return fig


def matrices(grid: pd.DataFrame, config) -> dict[str, pd.DataFrame]:
    """Setting -> model x CAM matrix of mean IoU (the CLI's ``fig5_<setting>.csv``), for the
    settings the grid has."""
    mats = {s: summary.model_cam_matrix(grid, s, prompt_variant=main_variant(config), **single_params(config))
            for s in config.settings if (grid["setting"] == s).any()}
    return {s: m for s, m in mats.items() if not m.empty}


def show_matrices(grid: pd.DataFrame, config) -> None:
    """Fig. 5 on the page, or say that the grid has no segmentation rows."""
    mats = matrices(grid, config)
    if mats:
        show_figure(iou_matrix_heatmaps(mats))
    else:
        markdown("*No segmentation rows in this grid.*")


def individual(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Every setting x model x CAM with mean metrics, ``n_zero_iou`` and IoU / Dice 95 % CIs
    (numbers and text): the CLI's ``individual.csv`` plus the text columns."""
    return with_ci_text(summary.individual_table(grid, prompt_variant=main_variant(config), ci=True,
                                                 **single_params(config)))


def pair_table(grid: pd.DataFrame, config) -> pd.DataFrame:
    """The per-pair table the page shows (columns of :func:`individual`)."""
    return individual(grid, config)[["setting", "model", "cam", "n", "precision", "recall", CI_TEXT.format("iou"),
                                     CI_TEXT.format("dice"), "n_zero_iou"]]


def best_pair_table(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Our best (model, CAM) pair per setting beside the paper's Fig. 5 text values."""
    rows = []
    for setting, grp in individual(grid, config).groupby("setting", sort=True):
        top = grp.sort_values("iou", ascending=False).iloc[0]
        pm, pc, pv = paper.FIG5_BEST.get(setting, (None, None, float("nan")))
        rows.append({"setting": setting, "ours: model": top["model"], "ours: CAM": top["cam"],
                     "ours: mean IoU": top["iou"], "paper: model": pm, "paper: CAM": pc,
                     "paper: mean IoU": pv, "source": "Sec. 5 text (Fig. 5)"})
    return pd.DataFrame(rows)


def prompt_variant_table(grid: pd.DataFrame, reference: str = "box+points") -> pd.DataFrame:
    """Mean IoU per setting x model x prompt variant, with a paired test of each variant
    against ``reference`` (pairs: same image and CAM)."""
    g = summary.ok_rows(grid)
    g = g[g["setting"].isin(summary.CAM_SETTINGS) & g["prompt_variant"].isin(VARIANTS)]
    if g.empty:
        return pd.DataFrame()
    rows = []
    for (setting, model), grp in g.groupby(["setting", "model"], sort=True):
        keyed = grp.set_index(["image_id", "cam", "percentile", "num_points", "amplification"])
        ref = keyed[keyed["prompt_variant"] == reference]["iou"] if reference in set(grp["prompt_variant"]) else None
        for variant, g2 in keyed.groupby("prompt_variant", sort=True):
            row = {"setting": setting, "model": model, "prompt variant": variant, "n": len(g2),
                   "mean IoU": g2["iou"].mean()}
            if ref is not None and variant != reference:
                p = paired(g2["iou"], ref)
                row.update({f"vs {reference}: mean diff": p["mean A-B"], f"vs {reference}: Wilcoxon p": p["Wilcoxon p"]})
            rows.append(row)
    return pd.DataFrame(rows)


def vs_randomcam(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Each CAM against RandomCAM on the same images (paired Wilcoxon test on per-image IoU)."""
    return paired_vs_reference(cam_rows(grid, main_variant(config)), reference_cam="randomcam")


__all__ = ["VARIANTS", "variant_note", "iou_matrix_heatmaps", "matrices", "show_matrices", "individual",
           "pair_table", "best_pair_table", "prompt_variant_table", "vs_randomcam"]

"""Plot and display helpers for the notebooks and the book.

Conventions (see docs/ARCHITECTURE.md): images ``(H, W, 3)`` uint8 RGB; masks ``(H, W)`` bool;
heatmaps ``(H, W)`` float in ``[0, 1]``; boxes ``[x_min, y_min, x_max, y_max]`` in original
pixels with *inclusive* pixel indices (x = column, y = row); points ``(N, 2)`` of ``(x, y)``.
With ``imshow`` a pixel ``(x, y)`` covers ``[x - 0.5, x + 0.5] x [y - 0.5, y + 0.5]``, so a box is
drawn from ``(x_min - 0.5, y_min - 0.5)`` with width ``x_max - x_min + 1``.

Every function returns the matplotlib ``Figure`` (or a string / frame) and never calls
``plt.show()``; notebooks display the returned object.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

SYNTHETIC_NOTE = (
    "These numbers come from **synthetic images**, not from ISIC 2017: they check that the "
    "pipeline runs end to end and are **not comparable to the paper's numbers**."
)

GT_COLOR = "#00c853"      # ground truth contour
PRED_COLOR = "#2962ff"    # predicted mask
BOX_COLOR = "#ffd600"     # prompt box
POINT_COLOR = "#ff1744"   # prompt points


# ------------------------------------------------------------------------------ provenance
def git_commit(repo: str | os.PathLike[str] | None = None) -> str:
    """Short commit hash of ``repo`` (default: the checkout holding this file), with
    ``"+dirty"`` when the tree has uncommitted changes; ``"unknown"`` outside a git checkout."""
    cwd = Path(repo) if repo is not None else Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "") if sha else "unknown"


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "(none)"
    return str(value)


_SHA256 = re.compile(r"\bsha256[ :]([0-9a-f]{16})[0-9a-f]{48}\b")


def short_digests(text: str, digits: int = 16) -> str:
    """``text`` with each full SHA-256 (``sha256 <64 hex>`` / ``sha256:<64 hex>``) cut to its
    first 16 hex digits and ``…`` (a box stays narrow; run summaries keep the full digest)."""
    return _SHA256.sub(lambda m: f"sha256 {m.group(1)[:digits]}…", str(text))


def provenance_markdown(
    *,
    profile: str,
    dataset: str,
    n_images: int,
    models: Mapping[str, str] | Sequence[str],
    segmenter: str,
    checkpoint: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    commit: str | None = None,
    date: str | None = None,
    wall_time_s: float | None = None,
    synthetic: bool | None = None,
) -> str:
    """A Markdown provenance box (a MyST ``{admonition}``) for the top of a results page.

    ``models`` maps a classifier name to its weight source (``"imagenet"``, ``"embedded"``, a
    checkpoint path); a plain sequence means "weights not stated". ``synthetic`` defaults to
    ``"synthetic" in dataset.lower()``; when true the box says plainly that the numbers are not
    the paper's. ``commit``/``date`` default to :func:`git_commit` and today (UTC).
    """
    if n_images < 0:
        raise ValueError(f"n_images must be >= 0, got {n_images}")
    commit = commit if commit is not None else git_commit()
    date = date if date is not None else _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    synthetic = ("synthetic" in dataset.lower()) if synthetic is None else synthetic
    if isinstance(models, Mapping):
        model_text = "; ".join(f"`{m}` ({short_digests(w)})" for m, w in models.items()) or "(none)"
    else:
        model_text = "; ".join(f"`{m}`" for m in models) or "(none)"
    rows = [
        ("Profile", f"`{profile}`"),
        ("Dataset", f"{dataset} ({n_images} image{'' if n_images == 1 else 's'})"),
        ("Classifiers (weights)", model_text),
        ("Segmenter (checkpoint)", f"`{segmenter}`" + (f" ({short_digests(checkpoint)})" if checkpoint else "")),
    ]
    if parameters:
        rows.append(("Parameters", ", ".join(f"{k} = {_fmt_value(v)}" for k, v in parameters.items())))
    rows.append(("Git commit", f"`{commit}`"))
    rows.append(("Date", date))
    if wall_time_s is not None:
        rows.append(("Wall time", f"{wall_time_s:.1f} s"))
    body = "\n".join(f"| {k} | {v} |" for k, v in rows)
    kind = "warning" if synthetic else "note"
    lines = [f":::{{admonition}} Provenance: profile `{profile}`", f":class: {kind}", "",
             "| provenance | |", "|---|---|", body, ""]
    if synthetic:
        lines += [SYNTHETIC_NOTE, ""]
    else:
        lines += ["Results on ISIC 2017 images; see the paper comparison chapter for the paper's numbers.", ""]
    lines.append(":::")
    return "\n".join(lines)


def display_markdown(text: str) -> None:
    """Display Markdown in a notebook (falls back to ``print`` outside IPython)."""
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is installed with the book extra
        print(text)
        return
    display(Markdown(text))


def display_provenance(**kwargs: Any) -> str:
    """:func:`provenance_markdown` + :func:`display_markdown`; returns the Markdown."""
    text = provenance_markdown(**kwargs)
    display_markdown(text)
    return text


# ------------------------------------------------------------------------------ numbers
def format_ci(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``"0.337 [0.310, 0.365]"``; NaN mean -> ``"n/a"``."""
    if mean is None or not np.isfinite(mean):
        return "n/a"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def comparison_frame(ours: pd.DataFrame, paper: pd.DataFrame, on: Sequence[str],
                     metrics: Sequence[str] = ("iou", "dice")) -> pd.DataFrame:
    """Our values beside the paper's, row by row.

    ``ours`` and ``paper`` share the key columns ``on`` and the ``metrics`` columns. The result
    has, per metric, ``<m>_ours``, ``<m>_paper`` and ``<m>_diff`` (ours - paper), keeping every
    row of ``paper`` (ours NaN where we have no such row) plus our rows the paper lacks.
    """
    missing = [c for c in (*on, *metrics) if c not in ours.columns or c not in paper.columns]
    if missing:
        raise KeyError(f"comparison_frame: columns {missing} missing from ours or paper")
    merged = paper[[*on, *metrics]].merge(ours[[*on, *metrics]], on=list(on), how="outer",
                                          suffixes=("_paper", "_ours"))
    cols = list(on)
    for m in metrics:
        merged[f"{m}_diff"] = merged[f"{m}_ours"] - merged[f"{m}_paper"]
        cols += [f"{m}_ours", f"{m}_paper", f"{m}_diff"]
    return merged[cols]


# ------------------------------------------------------------------------------ images
def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.5,
                    cmap: str = "jet") -> np.ndarray:
    """Blend a ``[0, 1]`` heatmap (H, W) over an RGB uint8 image (H, W, 3): returns uint8
    ``(1 - alpha) * image + alpha * 255 * cmap(heatmap)``."""
    image = np.asarray(image)
    heatmap = np.asarray(heatmap, dtype=np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {image.shape}")
    if heatmap.shape != image.shape[:2]:
        raise ValueError(f"heatmap shape {heatmap.shape} != image shape {image.shape[:2]}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colours = matplotlib.colormaps[cmap](np.clip(heatmap, 0.0, 1.0))[..., :3] * 255.0
    out = (1.0 - alpha) * image.astype(np.float64) + alpha * colours
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def box_rectangle(box: Sequence[float], **kwargs: Any) -> Rectangle:
    """A matplotlib ``Rectangle`` covering the inclusive pixel box ``[x0, y0, x1, y1]``."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 < x0 or y1 < y0:
        raise ValueError(f"box must have x_min <= x_max and y_min <= y_max, got {list(box)}")
    style = {"fill": False, "edgecolor": BOX_COLOR, "linewidth": 2.0}
    style.update(kwargs)
    return Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1.0, y1 - y0 + 1.0, **style)


def draw_prompts(ax: plt.Axes, box: Sequence[float] | None = None, points: np.ndarray | None = None,
                 point_labels: np.ndarray | None = None) -> None:
    """Draw a box and (x, y) points on ``ax``; foreground points as red stars, background as
    blue crosses."""
    if box is not None:
        ax.add_patch(box_rectangle(box))
    if points is not None and len(points):
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        labels = np.ones(len(pts), dtype=int) if point_labels is None else np.asarray(point_labels)
        fg, bg = pts[labels == 1], pts[labels != 1]
        if len(fg):
            ax.scatter(fg[:, 0], fg[:, 1], marker="*", s=140, c=POINT_COLOR, edgecolors="white",
                       linewidths=0.8, zorder=3)
        if len(bg):
            ax.scatter(bg[:, 0], bg[:, 1], marker="x", s=80, c="#2979ff", zorder=3)


def draw_mask_contour(ax: plt.Axes, mask: np.ndarray, color: str, linewidth: float = 1.8) -> None:
    """Outline a bool mask (H, W) on ``ax`` (nothing drawn for an empty or full mask)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.any() and not mask.all():
        ax.contour(mask.astype(float), levels=[0.5], colors=[color], linewidths=linewidth)


def _clean(ax: plt.Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def contact_sheet(images: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
                  titles: Sequence[str] | None = None, ncols: int = 6,
                  tile_inches: float = 2.0) -> Figure:
    """A grid of images with the ground-truth outline in green (when ``masks`` is given)."""
    n = len(images)
    if n == 0:
        raise ValueError("contact_sheet needs at least one image")
    if masks is not None and len(masks) != n:
        raise ValueError(f"{n} images but {len(masks)} masks")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(tile_inches * ncols, tile_inches * nrows + 0.3),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        _clean(ax)
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(images[i])
        if masks is not None:
            draw_mask_contour(ax, masks[i], GT_COLOR)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    fig.tight_layout()
    return fig


def cam_heatmap_grid(image: np.ndarray, heatmaps: Mapping[str, np.ndarray],
                     gt_mask: np.ndarray | None = None, alpha: float = 0.5,
                     subtitles: Mapping[str, str] | None = None) -> Figure:
    """Fig. 2: the image, then one heatmap overlay per CAM method (GT outline in green)."""
    if not heatmaps:
        raise ValueError("cam_heatmap_grid needs at least one heatmap")
    n = len(heatmaps) + 1
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 2.9), squeeze=False)
    axes = axes[0]
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=10)
    if gt_mask is not None:
        draw_mask_contour(axes[0], gt_mask, GT_COLOR)
    for ax, (name, hm) in zip(axes[1:], heatmaps.items()):
        ax.imshow(overlay_heatmap(image, hm, alpha=alpha))
        if gt_mask is not None:
            draw_mask_contour(ax, gt_mask, GT_COLOR)
        title = name if subtitles is None or name not in subtitles else f"{name}\n{subtitles[name]}"
        ax.set_title(title, fontsize=10)
    for ax in axes:
        _clean(ax)
    fig.tight_layout()
    return fig


def example_panel(image: np.ndarray, heatmap: np.ndarray, box: Sequence[float] | None,
                  points: np.ndarray | None, pred_mask: np.ndarray, gt_mask: np.ndarray,
                  title: str = "", axes: Sequence[plt.Axes] | None = None) -> Figure:
    """Fig. 7 / Algorithm 1 row: (a) heatmap overlay with prompts, (b) image with prompts,
    (c) predicted mask (blue) against ground truth (green)."""
    if pred_mask.shape != gt_mask.shape or pred_mask.shape != image.shape[:2]:
        raise ValueError(f"shape mismatch: image {image.shape[:2]}, pred {pred_mask.shape}, gt {gt_mask.shape}")
    if axes is None:
        fig, ax_arr = plt.subplots(1, 3, figsize=(9.0, 3.2))
        axes = list(ax_arr)
    else:
        fig = axes[0].figure
    a, b, c = axes
    a.imshow(overlay_heatmap(image, heatmap))
    draw_prompts(a, box, points)
    a.set_title("CAM + prompts", fontsize=9)
    b.imshow(image)
    draw_prompts(b, box, points)
    b.set_title("prompts", fontsize=9)
    shown = image.astype(np.float64).copy()
    shown[pred_mask] = 0.55 * shown[pred_mask] + 0.45 * np.array([41, 98, 255])
    c.imshow(shown.astype(np.uint8))
    draw_mask_contour(c, pred_mask, PRED_COLOR)
    draw_mask_contour(c, gt_mask, GT_COLOR)
    c.set_title("mask (blue) vs GT (green)", fontsize=9)
    for ax in axes:
        _clean(ax)
    if title:
        a.set_ylabel(title, fontsize=9)
    return fig


def examples_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Fig. 7: one :func:`example_panel` row per mapping with keys ``image``, ``heatmap``,
    ``box``, ``points``, ``pred_mask``, ``gt_mask``, ``title``."""
    if not rows:
        raise ValueError("examples_figure needs at least one row")
    fig, axes = plt.subplots(len(rows), 3, figsize=(9.0, 3.0 * len(rows)), squeeze=False)
    for r, ax_row in zip(rows, axes):
        example_panel(r["image"], r["heatmap"], r.get("box"), r.get("points"), r["pred_mask"],
                      r["gt_mask"], title=str(r.get("title", "")), axes=list(ax_row))
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ charts
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


def iou_histograms(values: Mapping[str, Mapping[str, np.ndarray]], bins: int = 20) -> Figure:
    """Fig. 6: per model (one panel each), overlaid IoU histograms of several series
    (e.g. ``{"mobilenetv2_100": {"all methods": ious, "best method": ious}}``)."""
    if not values:
        raise ValueError("iou_histograms needs at least one model")
    n = len(values)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.0 * ncols, 3.0 * nrows), squeeze=False)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for ax, (model, series) in zip(axes.flat, values.items()):
        for label, arr in series.items():
            arr = np.asarray(arr, dtype=float)
            arr = arr[np.isfinite(arr)]
            weights = np.full(len(arr), 1.0 / len(arr)) if len(arr) else None
            ax.hist(arr, bins=edges, alpha=0.55, label=f"{label} (n={len(arr)})", weights=weights)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("IoU")
        ax.set_ylabel("fraction of images")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def accuracy_bars(df: pd.DataFrame, metric: str = "accuracy", hue: str = "setting",
                  paper: Mapping[str, float] | None = None, ylabel: str | None = None) -> Figure:
    """Fig. 4: grouped bars of ``metric`` per ``model`` and ``hue`` (e.g. zero-shot vs
    fine-tuned). ``paper`` draws horizontal reference lines (label -> value)."""
    for col in ("model", hue, metric):
        if col not in df.columns:
            raise KeyError(f"accuracy_bars: column {col!r} missing (have {list(df.columns)})")
    pivot = df.pivot_table(index="model", columns=hue, values=metric, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(pivot) + 2), 3.6))
    pivot.plot.bar(ax=ax, rot=20, width=0.75)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.2f", fontsize=8)
    if paper:
        for i, (label, value) in enumerate(paper.items()):
            ax.axhline(value, linestyle="--", color=f"C{i + 3}", linewidth=1.2, label=label)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel or metric)
    ax.set_xlabel("")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def training_curves(history: pd.DataFrame, metrics: Sequence[str] = ("train_loss", "val_loss"),
                    by: str = "model", epoch: str = "epoch") -> Figure:
    """Fine-tuning curves: one panel per metric, one line per ``by`` value."""
    have = [m for m in metrics if m in history.columns]
    if not have:
        raise KeyError(f"training_curves: none of {list(metrics)} in columns {list(history.columns)}")
    fig, axes = plt.subplots(1, len(have), figsize=(4.2 * len(have), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], have):
        for key, part in history.groupby(by, sort=True):
            part = part.sort_values(epoch)
            ax.plot(part[epoch], part[metric], marker="o", markersize=3, label=str(key))
        ax.set_xlabel(epoch)
        ax.set_title(metric)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


__all__ = [
    "SYNTHETIC_NOTE", "git_commit", "provenance_markdown", "short_digests", "display_markdown", "display_provenance",
    "format_ci", "comparison_frame", "overlay_heatmap", "box_rectangle", "draw_prompts",
    "draw_mask_contour", "contact_sheet", "cam_heatmap_grid", "example_panel", "examples_figure",
    "iou_matrix_heatmaps", "iou_histograms", "accuracy_bars", "training_curves",
]


def strategy_iou_plot(rows: pd.DataFrame, order: Sequence[str] | None = None) -> Figure:
    """IoU per image of each prompting strategy (one strip + box per strategy, one panel per
    setting); ``rows`` = :func:`cam2seg_utils.experiments.summary.strategy_rows` output with a
    ``label`` column (strategy and CAM)."""
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
            draw_mask_contour(ax, case["gt_mask"], "#2ca02c")
            if name in case.get("masks", {}):
                draw_mask_contour(ax, case["masks"][name], "#d62728")
            box = [row["box_x0"], row["box_y0"], row["box_x1"], row["box_y1"]]
            if np.all(np.isfinite(box)):
                draw_prompts(ax, box=box)
            ax.set_title(f"{case['title']}: {name}\nIoU {row['iou']:.2f}", fontsize=9)
            _clean(ax)
    fig.tight_layout()
    return fig

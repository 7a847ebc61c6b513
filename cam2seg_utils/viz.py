"""Drawing and display primitives of the book: colours, image overlays, prompts and mask
outlines, contact sheets, the provenance box, CI text.

Each paper figure is drawn by the module of its artefact in :mod:`cam2seg_utils.report`
(Fig. 2 in ``report/table1.py``, Fig. 4 in ``report/fig4.py``, ...), with these primitives.

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
from collections.abc import Mapping, Sequence
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
    """Short commit hash of ``repo``: :func:`cam2seg_utils.revision.git_commit` with ``short=True``."""
    from .revision import git_commit as commit_of

    return commit_of(repo, short=True)


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
    synthetic: bool = False,
) -> str:
    """A Markdown provenance box (a MyST ``{admonition}``) for the top of a results page.

    ``models`` maps a classifier name to its weight source (``"imagenet"``, ``"embedded"``, a
    checkpoint path); a plain sequence means "weights not stated". ``synthetic`` (the
    dataset spec's trait, passed by the caller): when true the box says plainly that the numbers are not
    the paper's. ``commit``/``date`` default to :func:`git_commit` and today (UTC).
    """
    if n_images < 0:
        raise ValueError(f"n_images must be >= 0, got {n_images}")
    commit = commit if commit is not None else git_commit()
    date = date if date is not None else _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    synthetic = bool(synthetic)
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
        # one "key = value" a line: twenty of them in one run of text were unreadable
        rows.append(("Parameters", "<br>".join(f"{k} = {_fmt_value(v)}" for k, v in parameters.items())))
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
def format_ci(mean: float, low: float, high: float, digits: int = 3, n: int | None = None) -> str:
    """``"0.337 [0.310, 0.365]"``; NaN mean -> ``"n/a"``; ``n`` (images) below
    :data:`~cam2seg_utils.experiments.stats.MIN_N_INFERENCE` -> ``"0.337 (n too small)"``."""
    from .experiments.stats import MIN_N_INFERENCE, N_TOO_SMALL

    if mean is None or not np.isfinite(mean):
        return "n/a"
    if n is not None and np.isfinite(n) and n < MIN_N_INFERENCE:
        return f"{mean:.{digits}f} ({N_TOO_SMALL})"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def format_p(p: Any, n: float | None = None) -> str:
    """A p-value as every table shows it: ``"0.012"``, ``"< 0.001"``; NaN/None -> ``"–"``;
    ``n`` (pairs) below :data:`~cam2seg_utils.experiments.stats.MIN_N_INFERENCE` -> ``"n too small"``.
    A string (already a verdict such as "n too small") is kept."""
    from .experiments.stats import MIN_N_INFERENCE, N_TOO_SMALL

    if isinstance(p, str):
        return p
    if n is not None and pd.notna(n) and n < MIN_N_INFERENCE:
        return N_TOO_SMALL
    if p is None or pd.isna(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


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


def clean_axes(ax: plt.Axes) -> None:
    """No ticks on ``ax`` (an image panel)."""
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
        clean_axes(ax)
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


__all__ = [
    "SYNTHETIC_NOTE", "GT_COLOR", "PRED_COLOR", "BOX_COLOR", "POINT_COLOR", "git_commit", "provenance_markdown",
    "short_digests", "display_markdown", "display_provenance", "format_ci", "format_p", "comparison_frame", "overlay_heatmap",
    "box_rectangle", "draw_prompts", "draw_mask_contour", "clean_axes", "contact_sheet",
]

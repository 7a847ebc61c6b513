"""Figures of the long tables of the book's static record pages, drawn from the tables themselves.

The record pages (``book/hitl_study.md``, ``book/scaling.md``) hold measurements as Markdown
tables, the one home of those numbers; the pages show a figure that says each long table at a
glance and keep the table behind a fold. The figures are drawn at build time
(:func:`write_record_figures`, called by ``book/build.py``) from the tables parsed out of the
pages (:func:`markdown_table`), so a figure never disagrees with its table.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

#: figure file name -> (page, the first header cell of its table)
RECORD_TABLES = {
    "hitl_sweep_40.png": ("hitl_study.md", "variant (first 40 images)"),
    "hitl_sweep_150.png": ("hitl_study.md", "variant (150 images, default strategy's mask)"),
    "scaling_fidelity.png": ("scaling.md", "variant"),
}


def markdown_table(text: str, first_header: str) -> pd.DataFrame:
    """The pipe table of ``text`` whose first header cell is ``first_header``, as text cells
    (``**`` and backticks removed). Raises ``ValueError`` naming the header when there is none."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and cells[0] == first_header:
            rows = []
            for body in lines[i + 2:]:
                if not body.lstrip().startswith("|"):
                    break
                rows.append([re.sub(r"\*\*|`", "", c.strip()) for c in body.strip().strip("|").split("|")])
            return pd.DataFrame(rows, columns=cells)
    raise ValueError(f"no table with the first header cell {first_header!r}")


def _number(cell: str) -> float:
    """``"3.53"`` -> 3.53; a range ``"3.87-3.95"`` -> its middle; ``"–"`` -> NaN."""
    cell = cell.strip()
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)", cell)
    if m:
        return (float(m.group(1)) + float(m.group(2))) / 2
    try:
        return float(cell)
    except ValueError:
        return float("nan")


def _short(label: str, width: int = 62) -> str:
    return label if len(label) <= width else label[:width - 1] + "…"


def _barh(ax, labels, values, highlight, xlabel):
    ys = np.arange(len(labels))[::-1]
    colours = ["#1f77b4" if h else "#9ecae1" for h in highlight]
    ax.barh(ys, values, color=colours, height=0.65)
    for y, v in zip(ys, values):
        if np.isfinite(v):
            ax.text(v, y, f" {v:.2f}", va="center", fontsize=7)
    ax.set_yticks(ys, [_short(x) for x in labels], fontsize=7)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def hitl_sweep_40_figure(table: pd.DataFrame):
    """NoC@85 of each variant of the 40-image sweep, from the default strategy's mask and from
    the ground-truth box (cells ``"mIoU@5 / @20, NoC@85, falls"``; variants without a NoC left
    out); the adopted ``box-edit`` row dark."""
    import matplotlib.pyplot as plt

    starts = [c for c in table.columns[1:]]
    noc = {c: [_number(v.split(",")[1]) if v.count(",") >= 2 else np.nan for v in table[c]] for c in starts}
    keep = [i for i in range(len(table)) if np.isfinite(noc[starts[0]][i])]
    labels = [table.iloc[i, 0] for i in keep]
    fig, axes = plt.subplots(1, len(starts), figsize=(10, 0.3 * len(keep) + 1.0), dpi=100, sharey=True)
    for ax, c in zip(np.atleast_1d(axes), starts):
        _barh(ax, labels, [noc[c][i] for i in keep], ["adopted for box-edit" in x for x in labels],
              f"NoC@85 from the {c.split(':')[0]} (fewer is better)")
    fig.suptitle("Refinement variants, first 40 images of the official validation split", fontsize=9)
    fig.tight_layout()
    return fig


def hitl_sweep_150_figure(table: pd.DataFrame):
    """NoC@85 and never-85 share of each ``box-edit`` variant of the 150-image sweep (a range
    shown at its middle); the adopted default dark."""
    import matplotlib.pyplot as plt

    labels = list(table.iloc[:, 0])
    noc = [_number(v) for v in table["NoC@85"]]
    never = [_number(v.replace("%", "")) for v in table["never 85 %"]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.3 * len(labels) + 1.0), dpi=100, sharey=True)
    adopted = ["adopted for box-edit" in x for x in labels]
    _barh(axes[0], labels, noc, adopted, "NoC@85 (fewer is better)")
    _barh(axes[1], labels, never, adopted, "images never at IoU 0.85 within 20 clicks (%)")
    fig.suptitle("box-edit variants from the default strategy's mask, 150 images of the official validation split",
                 fontsize=9)
    fig.tight_layout()
    return fig


def scaling_figure(table: pd.DataFrame):
    """Each affordable CAM variant: its speed-up against the full method (log scale) and its
    mask's IoU change against the full method's (ground truth), one labelled point each."""
    import matplotlib.pyplot as plt

    # the full methods themselves (the references: speed-up 1, no change) and pytorch-grad-cam's
    # classes (timed on one image) are the table's, not points of the trade-off
    t = table[[np.isfinite(_number(v)) and _number(v) > 0 and not re.search(r"upstream|full|ratio=1$", name)
               for v, name in zip(table["speed-up vs reference"], table["variant"])]]
    x = np.array([_number(v) for v in t["speed-up vs reference"]])
    y = np.array([_number(v) for v in t["Δ IoU vs reference"]])
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    ax.axhline(0, color="#888", lw=0.8)
    ax.scatter(x, y, color=["#d62728" if "scorecam" in v else "#1f77b4" if "ablationcam" in v else "#2ca02c"
                            for v in t["variant"]], zorder=3)
    seen: dict[float, int] = {}
    for xi, yi, label in zip(x, y, t["variant"]):
        k = seen[round(yi, 3)] = seen.get(round(yi, 3), -1) + 1     # labels of equal Δ one above the other
        ax.annotate(label, (xi, yi), textcoords="offset points", xytext=(5, 3 - 10 * k), fontsize=7)
    ax.axvline(1, color="#888", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("speed-up against the full method (CPU time, log scale; the full method: 1, Δ 0)", fontsize=8)
    ax.set_ylabel("Δ mask IoU (ground truth) against the full method", fontsize=8)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


_FIGURES = {"hitl_sweep_40.png": hitl_sweep_40_figure, "hitl_sweep_150.png": hitl_sweep_150_figure,
            "scaling_fidelity.png": scaling_figure}


def write_record_figures(book_dir: Path, out_dir: Path) -> list[Path]:
    """Draw every figure of :data:`RECORD_TABLES` from its page in ``book_dir`` into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (page, header) in RECORD_TABLES.items():
        path = Path(book_dir) / page
        try:
            table = markdown_table(path.read_text(encoding="utf-8"), header)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc} (the figure {name} is drawn from it)") from None
        fig = _FIGURES[name](table)
        fig.savefig(out_dir / name)
        plt.close(fig)
        written.append(out_dir / name)
    return written


__all__ = ["RECORD_TABLES", "markdown_table", "hitl_sweep_40_figure", "hitl_sweep_150_figure", "scaling_figure",
           "write_record_figures"]

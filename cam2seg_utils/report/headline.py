"""The headline table (README and the book's real-data part): every kind of prompt on the same
images, both settings, the small-lesion and border slices and the misses, each row naming how
many ground-truth masks tuned it.

Rows (:func:`headline_rows`, written from the CAM, strategy and baseline registries): the ground-truth box (the ceiling) and the whole-image box (the floor),
Algorithm 1 per CAM, the paper's oracle best CAM per image (Table 2) and its non-oracle twin
(best by the segmenter's predicted IoU), each prompting strategy, and ``oracle-candidates`` (the
best box of the default's candidate set, by ground truth: the ceiling of its selection). Columns,
per classifier setting: mean IoU with its 95 % CI (the CI of the same cell in the strategies and
Table 2 tables: :func:`cam2seg_utils.experiments.stats.cell_ci`), the small-lesion (< 10 % of the
image) and border slices, and the images with IoU < 0.01.

:func:`headline_table` computes it from a grid table; :func:`headline_markdown` writes it as the
Markdown the README holds (``tests/test_readme.py`` recomputes the README's from the committed
snapshot).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..experiments import summary
from ..viz import format_ci

#: An image counts as a miss below this IoU.
MISS_IOU = 0.01
SMALL = "small lesion (<10 % of image)"
BORDER = "touches border"


@dataclass(frozen=True)
class HeadlineRow:
    """One row: its ``label``, where its per-image IoU comes from (``strategy`` and ``cam`` of
    the strategies table, or ``best`` = a Table 2 selection), and ``tuned_on``: how many
    ground-truth masks chose its parameters, and where."""

    label: str
    tuned_on: str
    strategy: str = ""
    cam: str | None = None          # None: the strategy's only CAM value (or Grad-CAM when per-CAM)
    best: str = ""                  # "oracle" | "predicted-iou": a Table 2 row


ORACLE = "reads the ground truth (oracle)"


def headline_rows(config, cams=None) -> tuple[HeadlineRow, ...]:
    """The rows, written from the registries: the ground-truth box and whole-image box, Algorithm 1
    once per CAM of the run (``cams``, default ``config.cams``; in ``table_order``, labels and
    what tuned them read from the CAM method and the strategy), the two Table 2 selections,
    each other strategy of ``config.strategies`` (its label and ``tuned_on``; per-CAM ones on the
    first of ``strategy_cams``), then the default strategy's selection oracle."""
    from ..cams.registry import CAM_METHODS, cam_label, table_ordered
    from ..experiments.baselines import BASELINE_STRATEGY
    from ..prompting import DEFAULT_STRATEGY, STRATEGIES
    from ..prompting.algorithm1 import Algorithm1

    known = [c for c in (config.cams if cams is None else cams) if c in CAM_METHODS]
    rows = [HeadlineRow("ground-truth tight box (the ceiling)", ORACLE, BASELINE_STRATEGY["gt-box"]),
            HeadlineRow("whole-image box (the floor)", "0", BASELINE_STRATEGY["whole-image-box"])]
    rows += [HeadlineRow(Algorithm1.label(cam_label(c)), Algorithm1.tuned_on, Algorithm1.name, c)
             for c in table_ordered(known)]
    rows += [HeadlineRow("best CAM per image by ground truth (the paper's Table 2)", ORACLE, best="oracle"),
             HeadlineRow("best CAM per image by predicted IoU", Algorithm1.tuned_on, best="predicted-iou")]
    first_cam = cam_label(config.strategy_cams[0]) if config.strategy_cams else ""
    for name in config.strategies:
        cls = STRATEGIES.get(name)
        if cls is Algorithm1 or cls.name in BASELINE_STRATEGY.values():
            continue   # Algorithm 1's rows are per CAM above; a baseline's strategy is its row
        label = cls.label(first_cam) + (" (the default)" if cls is STRATEGIES.get(DEFAULT_STRATEGY) else "")
        rows.append(HeadlineRow(label, cls.tuned_on, cls.name))
    rows.append(HeadlineRow(f"`oracle-{DEFAULT_STRATEGY}`: best of the default's candidates by ground truth",
                            ORACLE, f"oracle-{DEFAULT_STRATEGY}"))
    return tuple(rows)


def _misses(iou: pd.Series) -> int:
    return int((iou < MISS_IOU).sum())


def headline_table(grid: pd.DataFrame, config, settings: tuple[str, ...] = ("zero-shot", "fine-tuned")
                   ) -> pd.DataFrame:
    """One row per :func:`headline_rows` entry present in ``grid`` (box prompts at the config's first
    percentile), with per setting ``<setting> iou``, ``... iou_ci_low`` / ``iou_ci_high``,
    ``... small``, ``... border``, ``... misses`` and ``... n``; plus ``label`` and ``tuned_on``.
    ``n_small`` / ``n_border``: the slices' image counts."""
    variant, percentile = "box", float(config.percentile[0])
    table = summary.strategy_table(grid, prompt_variant=variant, percentile=percentile)
    rows = summary.strategy_rows(grid, variant, percentile)
    best = {sel: summary.best_per_image(grid, variant, sel, percentile=percentile) for sel in summary.SELECTIONS}
    best_ci = summary.best_method_table(grid, variant, ci=True, percentile=percentile)
    out = []
    present = [s for s in settings if s in set(rows["setting"])]
    for spec in headline_rows(config):
        rec: dict = {"label": spec.label, "tuned_on": spec.tuned_on}
        found = False
        for setting in present:
            if spec.best:
                b = best[spec.best]
                b = b[b["setting"] == setting]
                if b.empty:
                    continue
                ci = best_ci[(best_ci["setting"] == setting) & (best_ci["selection"] == summary.SELECTIONS[spec.best])]
                iou = b.set_index("image_id")["iou"]
                small = b["gt_area_fraction"] < summary.SMALL_LESION_FRACTION
                border = b["gt_border_fraction"] > 0
                vals = {"iou": float(iou.mean()), "iou_ci_low": float(ci["iou_ci_low"].iloc[0]),
                        "iou_ci_high": float(ci["iou_ci_high"].iloc[0]),
                        "small": float(b.loc[small, "iou"].mean()) if small.any() else np.nan,
                        "border": float(b.loc[border, "iou"].mean()) if border.any() else np.nan,
                        "misses": _misses(iou), "n": int(len(iou))}
            else:
                t = table[(table["setting"] == setting) & (table["strategy"] == spec.strategy)]
                if t.empty:
                    continue
                cams = sorted(t["cam"].unique())
                first = config.strategy_cams[0] if config.strategy_cams else None
                cam = spec.cam if spec.cam is not None else (first if first in cams else cams[0])
                t = t[t["cam"] == cam].set_index("slice")
                if t.empty or "all" not in t.index:
                    continue
                r = rows[(rows["setting"] == setting) & (rows["strategy"] == spec.strategy) & (rows["cam"] == cam)]
                r = r.drop_duplicates("image_id")
                vals = {"iou": float(t.loc["all", "iou"]), "iou_ci_low": float(t.loc["all", "iou_ci_low"]),
                        "iou_ci_high": float(t.loc["all", "iou_ci_high"]),
                        "small": float(t.loc[SMALL, "iou"]) if SMALL in t.index else np.nan,
                        "border": float(t.loc[BORDER, "iou"]) if BORDER in t.index else np.nan,
                        "misses": _misses(r["iou"]), "n": int(t.loc["all", "n"])}
            found = True
            rec.update({f"{setting} {k}": v for k, v in vals.items()})
        if found:
            out.append(rec)
    frame = pd.DataFrame(out)
    ids = rows.drop_duplicates("image_id")
    frame.attrs["n_images"] = int(len(ids))
    frame.attrs["n_small"] = int((ids["gt_area_fraction"] < summary.SMALL_LESION_FRACTION).sum())
    frame.attrs["n_border"] = int((ids["gt_border_fraction"] > 0).sum())
    frame.attrs["settings"] = present
    return frame


def _cell(v: float, digits: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def headline_markdown(table: pd.DataFrame) -> str:
    """The Markdown table of :func:`headline_table` (the README's first results table)."""
    settings = table.attrs.get("settings", ["zero-shot", "fine-tuned"])
    n, ns, nb = table.attrs.get("n_images"), table.attrs.get("n_small"), table.attrs.get("n_border")
    head = ["prompt"] + [f"{s}, mean IoU [95 % CI]" for s in settings] + [
        f"small lesions (n = {ns}), {' / '.join(settings)}", f"border (n = {nb}), {' / '.join(settings)}",
        f"IoU < 0.01 (of {n}), {' / '.join(settings)}", "ground-truth masks that tuned it"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        cells = [r["label"]]
        for s in settings:
            cells.append(format_ci(r[f"{s} iou"], r[f"{s} iou_ci_low"], r[f"{s} iou_ci_high"], n=r[f"{s} n"])
                         if f"{s} iou" in r and not pd.isna(r[f"{s} iou"]) else "—")
        for part in ("small", "border"):
            cells.append(" / ".join(_cell(r.get(f"{s} {part}")) for s in settings))
        cells.append(" / ".join("—" if pd.isna(r.get(f"{s} misses")) else str(int(r[f"{s} misses"]))
                                for s in settings))
        cells.append(r["tuned_on"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)




def show_headline(grid: pd.DataFrame, config) -> None:
    """The headline table on the page, with the images it was measured on."""
    from .notebook import markdown

    if not len(grid):
        markdown("*This grid has no rows.*")
        return
    table = headline_table(grid, config)
    split = ", ".join(sorted(s for s in grid["split"].dropna().unique() if s)) if "split" in grid.columns else ""
    markdown(f"**{table.attrs['n_images']} images** ({split or 'this run'}; "
             f"{table.attrs['n_small']} small lesions, {table.attrs['n_border']} touching the border), box prompts, "
             f"segmenter `{config.segmenter}`, classifier `{config.models[0]}`.\n\n" + headline_markdown(table))


__all__ = ["MISS_IOU", "headline_rows", "HeadlineRow", "headline_table", "headline_markdown", "show_headline"]

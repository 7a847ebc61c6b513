"""Held-out figures: numbers measured on images no default was chosen on (the official ISIC 2017
test split, PH2), kept in one small committed file with the provenance of every row.

The file (:data:`HELDOUT_FILE`, ``results/heldout/figures.csv``) has one row per measurement:
``id``, ``images`` (which images, in words), ``n_images``, ``setting`` (``zero-shot`` or
``fine-tuned``), ``strategy`` (the prompting strategy the main number is of), its mean IoU
``iou`` with the slices ``iou_small`` (``n_small`` images when known) and ``iou_border``, the
``misses`` (images with IoU < 0.01), the same images' references ``image_prior``,
``oracle_candidates`` (best of the strategy's candidates by ground truth), ``gt_box`` (the
ceiling), ``whole_image`` (the floor) and ``algorithm1_gradcam``; a human-in-the-loop row has
``hitl_mode``, ``noc85`` and ``miou5`` instead. Every row names its ``command``, ``commit`` (40
hex digits) and ``ran_by``; ``note`` is free text. Empty cells were not measured.

:func:`load_heldout` reads and checks it (a clear error naming the file, the row and the
problem); :func:`heldout_markdown` writes the table the book and the README show, with the
validation split's row beside it (computed from the published snapshot by
:mod:`.findings`) saying that the defaults were chosen there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: The committed held-out figures, relative to the repository root.
HELDOUT_FILE = Path("results") / "heldout" / "figures.csv"

TEXT_COLUMNS = ("id", "images", "setting", "strategy", "hitl_mode", "command", "commit", "ran_by", "note")
IOU_COLUMNS = ("iou", "iou_small", "iou_border", "image_prior", "oracle_candidates", "gt_box", "whole_image",
               "algorithm1_gradcam", "miou5")
COUNT_COLUMNS = ("n_images", "n_small", "misses")
COLUMNS = ("id", "images", "n_images", "setting", "strategy", "iou", "iou_small", "n_small", "iou_border",
           "misses", "image_prior", "oracle_candidates", "gt_box", "whole_image", "algorithm1_gradcam",
           "hitl_mode", "noc85", "miou5", "command", "commit", "ran_by", "note")
REQUIRED = ("id", "images", "n_images", "setting", "strategy", "command", "commit", "ran_by")


class HeldoutFileError(ValueError):
    """The held-out figures file is malformed; the message names the file, the row and the problem."""


def load_heldout(path: str | Path) -> pd.DataFrame:
    """The held-out figures of ``path``, checked: every column of :data:`COLUMNS`, the provenance
    cells filled, IoUs in [0, 1], counts whole and non-negative, NoC in [0, 20], a 40-digit commit,
    unique ids. Raises :class:`HeldoutFileError` naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise HeldoutFileError(f"{path}: no such file (the held-out figures; see cam2seg_utils/report/heldout.py)")
    frame = pd.read_csv(path, dtype={c: "string" for c in TEXT_COLUMNS}, keep_default_na=True)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise HeldoutFileError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}")
    for i, row in frame.iterrows():
        where = f"{path}, row {i + 2} ({row['id'] if pd.notna(row['id']) else 'no id'})"
        empty = [c for c in REQUIRED if pd.isna(row[c]) or not str(row[c]).strip()]
        if empty:
            raise HeldoutFileError(f"{where}: empty {empty} (every row names its images, command, commit and who ran it)")
        if not re.fullmatch(r"[0-9a-f]{40}", str(row["commit"])):
            raise HeldoutFileError(f"{where}: commit {row['commit']!r} is not a 40-digit git hash")
        if row["setting"] not in ("zero-shot", "fine-tuned"):
            raise HeldoutFileError(f"{where}: setting {row['setting']!r} is neither zero-shot nor fine-tuned")
        for c in IOU_COLUMNS:
            v = row[c]
            if pd.notna(v) and not 0.0 <= float(v) <= 1.0:
                raise HeldoutFileError(f"{where}: {c} = {v} is not an IoU in [0, 1]")
        for c in COUNT_COLUMNS:
            v = row[c]
            if pd.notna(v) and (float(v) < 0 or float(v) != int(float(v))):
                raise HeldoutFileError(f"{where}: {c} = {v} is not a whole count")
        if pd.notna(row["noc85"]) and not 0.0 <= float(row["noc85"]) <= 20.0:
            raise HeldoutFileError(f"{where}: noc85 = {row['noc85']} is not a number of clicks in [0, 20]")
        if pd.isna(row["iou"]) and pd.isna(row["noc85"]):
            raise HeldoutFileError(f"{where}: neither an IoU nor a human-in-the-loop figure")
    if frame["id"].duplicated().any():
        raise HeldoutFileError(f"{path}: duplicate id(s) {sorted(frame.loc[frame['id'].duplicated(), 'id'])}")
    return frame


@dataclass(frozen=True)
class ValidationRow:
    """The evaluation split's row beside the held-out ones (from the published snapshot): the
    same quantities, and why it is not held out."""

    images: str
    n_images: int
    strategy: str
    iou: float
    iou_small: float
    iou_border: float
    misses: int
    image_prior: float
    oracle_candidates: float
    gt_box: float
    whole_image: float
    algorithm1_gradcam: float
    noc85: float
    miou5: float
    hitl_mode: str
    source: str


def _f(v, digits: int = 3) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v):.{digits}f}"


def _main_cell(strategy, iou, small, border, misses, link) -> str:
    if pd.notna(iou):
        parts = [f"small {_f(small)}" if pd.notna(small) else "", f"border {_f(border)}" if pd.notna(border) else ""]
        slices = ", ".join(p for p in parts if p)
        miss = "" if pd.isna(misses) else f"{int(misses)} {link('miss', 'misses' if int(misses) != 1 else 'miss')}"
        extra = "; ".join(p for p in (slices, miss) if p)
        return f"{link(strategy)} **{_f(iou)}**" + (f" ({extra})" if extra else "")
    return "—"


def _hitl_cell(mode, noc85, miou5, link) -> str:
    if pd.isna(noc85):
        return "—"
    return f"{link('NoC@85')} {_f(noc85, 2)}, mIoU after 5 clicks {_f(miou5)} ({link(mode)})"


def heldout_markdown(frame: pd.DataFrame, validation: ValidationRow | None = None, link=None) -> str:
    """The held-out table (Markdown): one row per measurement of ``frame`` (and first, when given,
    the ``validation`` row, marked as the split the defaults were chosen on), then the provenance
    of every row as a numbered list. ``link(term, text=None)``: how a term is written (default:
    in backticks when it is a name, plain otherwise; the book and README pass a glossary link)."""
    link = link or (lambda term, text=None: text or (f"`{term}`" if re.fullmatch(r"[a-z0-9-]+", term) else term))
    head = ["images", "n", "strategy: mean IoU (slices; misses)", f"{link('image-prior')}",
            f"best of its candidates ({link('oracle')})", "ground-truth box (ceiling)",
            "whole-image box (floor)", "Algorithm 1, Grad-CAM", "human in the loop"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    notes = []
    if validation is not None:
        v = validation
        lines.append("| " + " | ".join([
            f"{v.images} — **not held out: the defaults were chosen on these masks** [v]", str(v.n_images),
            _main_cell(v.strategy, v.iou, v.iou_small, v.iou_border, v.misses, link),
            _f(v.image_prior), _f(v.oracle_candidates), _f(v.gt_box), _f(v.whole_image), _f(v.algorithm1_gradcam),
            _hitl_cell(v.hitl_mode, v.noc85, v.miou5, link)]) + " |")
        notes.append(f"[v] {v.source}")
    for k, (_, r) in enumerate(frame.iterrows(), start=1):
        lines.append("| " + " | ".join([
            f"{r['images']} [{k}]", str(int(r["n_images"])),
            _main_cell(r["strategy"], r["iou"], r["iou_small"], r["iou_border"], r["misses"], link),
            _f(r["image_prior"]), _f(r["oracle_candidates"]), _f(r["gt_box"]), _f(r["whole_image"]),
            _f(r["algorithm1_gradcam"]),
            _hitl_cell(r["hitl_mode"] if pd.notna(r["hitl_mode"]) else "", r["noc85"], r["miou5"], link)]) + " |")
        note = f"; {r['note']}" if pd.notna(r["note"]) and str(r["note"]).strip() else ""
        notes.append(f"[{k}] `{r['command']}` at commit `{str(r['commit'])[:7]}`, run by {r['ran_by']}; "
                     f"{r['setting']}, box prompts, strategy {link(r['strategy'])}{note}.")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes)


__all__ = ["HELDOUT_FILE", "COLUMNS", "HeldoutFileError", "ValidationRow", "load_heldout", "heldout_markdown"]

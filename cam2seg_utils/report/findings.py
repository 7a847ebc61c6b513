"""The book's findings page and the README's first lines: what the published runs show, each
finding one sentence with one number, its split, its ceiling (the ground-truth box) and its floor
(the whole-image box), a small figure, and the chapter that proves it.

Every number is computed here from the committed tables: the reference snapshot's grid
(``results/published/isic-official``: per-image IoU of every strategy), its human-in-the-loop
table (``hitl/noc.csv``) and the held-out figures (:mod:`.heldout`). The default strategy and
refinement mode are read from the code (:data:`cam2seg_utils.prompting.DEFAULT_STRATEGY`,
:data:`cam2seg_utils.refinement.DEFAULT_MODE`), so the page follows a re-published snapshot or a
changed default without an edit.

:func:`measure` reads the numbers (:class:`Measures`); :func:`findings` writes the sentences
(:class:`Finding`); :func:`write_findings_page` writes the page's Markdown and figures (called by
``book/build.py``); :func:`readme_lines` the README's three lines; :func:`heldout_table` the
held-out table with the validation row beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..experiments import summary
from ..experiments.baselines import BASELINE_STRATEGY
from ..prompting.algorithm1 import Algorithm1
from ..viz import format_ci
from .glossary import term_link
from .headline import MISS_IOU
from .heldout import HELDOUT_FILE, ValidationRow, heldout_markdown, load_heldout

#: The grid rows of the ceiling (the ground-truth box) and the floor (the whole-image box).
CEILING, FLOOR = BASELINE_STRATEGY["gt-box"], BASELINE_STRATEGY["whole-image-box"]

SMALL, BORDER = "small lesion (<10 % of image)", "touches border"
#: The setting every finding is stated for (the held-out figures are zero-shot too).
SETTING = "zero-shot"
#: ``candidates`` minus ``image-prior`` is what the CAM adds: the same candidate generator and
#: ranking with and without the classifier's boxes.
WITH_CAM, WITHOUT_CAM = "candidates", "image-prior"
_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stat:
    """One strategy's zero-shot numbers on the snapshot's images: mean IoU with its CI, the
    slices, the misses (IoU < 0.01), the image counts."""

    iou: float
    low: float
    high: float
    small: float
    border: float
    misses: int
    n: int

    def ci(self) -> str:
        return format_ci(self.iou, self.low, self.high, n=self.n)


@dataclass
class Measures:
    """Everything the findings say, read from the committed tables."""

    split: str                       # e.g. "official ISIC 2017 validation split"
    n_images: int
    n_small: int
    n_border: int
    classifier: str
    segmenter: str
    default: str                     # the default strategy's name (from the code)
    stats: dict[str, Stat]           # strategy (algorithm1: Grad-CAM) -> its numbers
    cam_delta: tuple[float, float, float, float] | None   # candidates - image-prior: mean, CI low, high, p
    hitl: dict[str, float] = field(default_factory=dict)  # start -> NoC@85 with the default mode
    hitl_miou5: float = float("nan")
    hitl_mode: str = ""
    heldout: pd.DataFrame | None = None


def _split_words(dataset: dict) -> str:
    folder, split = str(dataset.get("split_folder", "")), str(dataset.get("split", ""))
    name = dataset.get("name", "")
    if folder == "Validation" or split == "Validation":
        return f"official {name} validation split".strip()
    if folder == "Test" or split == "Test":
        return f"official {name} test split".strip()
    return f"{name} {split or folder} split".strip()


def measure(folder: str | Path, heldout_file: str | Path | None = None) -> Measures:
    """The numbers of the findings, from the published snapshot ``folder`` and the held-out
    figures (default: :data:`~.heldout.HELDOUT_FILE` of this checkout; absent: none)."""
    from ..prompting import DEFAULT_STRATEGY
    from ..publish import load_snapshot
    from ..refinement import DEFAULT_MODE
    from .provenance import published_config

    folder = Path(folder)
    snap, cfg = load_snapshot(folder), published_config(folder)
    p = float(cfg.percentile[0])
    first_cam = cfg.strategy_cams[0] if cfg.strategy_cams else ""   # the CAM a per-CAM strategy is shown with
    table = summary.strategy_table(snap.grid, prompt_variant="box", percentile=p)
    table = table[table["setting"] == SETTING]
    rows = summary.strategy_rows(snap.grid, "box", p)
    rows = rows[rows["setting"] == SETTING]
    stats: dict[str, Stat] = {}
    for strategy in sorted(set(table["strategy"])):
        t = table[table["strategy"] == strategy]
        cam = first_cam if first_cam in set(t["cam"]) else sorted(t["cam"])[0]
        t = t[t["cam"] == cam].set_index("slice")
        r = rows[(rows["strategy"] == strategy) & (rows["cam"] == cam)].drop_duplicates("image_id")
        stats[strategy] = Stat(float(t.loc["all", "iou"]), float(t.loc["all", "iou_ci_low"]),
                               float(t.loc["all", "iou_ci_high"]),
                               float(t.loc[SMALL, "iou"]) if SMALL in t.index else np.nan,
                               float(t.loc[BORDER, "iou"]) if BORDER in t.index else np.nan,
                               int((r["iou"] < MISS_IOU).sum()), int(t.loc["all", "n"]))
    ids = rows.drop_duplicates("image_id")
    cam_delta = None
    if WITH_CAM in stats and WITHOUT_CAM in stats:
        from .selection import cam_contribution

        c = cam_contribution(snap.grid, cfg, WITH_CAM, WITHOUT_CAM)
        c = c[(c["setting"] == SETTING) & (c["slice"] == "all")]
        if len(c):
            r = c.iloc[0]
            cam_delta = (float(r["delta"]), float(r["delta_ci_low"]), float(r["delta_ci_high"]), float(r["p"]))
    ds = snap.published["dataset"]
    m = Measures(split=_split_words(ds), n_images=int(len(ids)),
                 n_small=int((ids["gt_area_fraction"] < summary.SMALL_LESION_FRACTION).sum()),
                 n_border=int((ids["gt_border_fraction"] > 0).sum()), classifier=cfg.models[0],
                 segmenter=cfg.segmenter, default=DEFAULT_STRATEGY, stats=stats, cam_delta=cam_delta)
    noc = folder / "hitl" / "noc.csv"
    if noc.is_file():
        n = pd.read_csv(noc)
        n = n[(n["slice"] == "all") & (n["mode"] == DEFAULT_MODE)]
        m.hitl = {str(s): float(v) for s, v in zip(n["start"], n["noc@85"])}
        d = n[n["start"] == "default-strategy"]
        m.hitl_miou5 = float(d["miou@5"].iloc[0]) if len(d) and "miou@5" in d else float("nan")
        m.hitl_mode = DEFAULT_MODE
    path = Path(heldout_file) if heldout_file is not None else _REPO / HELDOUT_FILE
    m.heldout = load_heldout(path) if path.is_file() else None
    return m


@dataclass(frozen=True)
class Finding:
    """One finding: a ``title``, one ``sentence`` (Markdown), the ``numbers`` it shows (as
    printed), the ``bars`` of its figure (label, value, role: ``floor`` / ``ceiling`` / ``value``
    / ``other``) on the ``axis``, and the chapter (notebook stem) and section that prove it."""

    key: str
    title: str
    sentence: str
    numbers: tuple[str, ...]
    bars: tuple[tuple[str, float, str], ...]
    axis: str
    chapter: str
    section: str


def _f(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}f}"


def _myst(term: str, text: str | None = None) -> str:
    return term_link(term, text, style="myst")


def _heldout_row(m: Measures, row_id: str):
    if m.heldout is None:
        return None
    r = m.heldout[m.heldout["id"] == row_id]
    return None if r.empty else r.iloc[0]


def findings(m: Measures, link: Callable[..., str] = _myst) -> list[Finding]:
    """The findings of ``m``, in reading order; a finding whose numbers are missing from the
    tables is left out. ``link(term, text=None)`` writes a glossary link."""
    out: list[Finding] = []
    s, d = m.stats, m.default
    where = f"the {link('official validation split', m.split)} ({m.n_images} images)"
    ceil, floor = s.get(CEILING), s.get(FLOOR)
    if ceil is None or floor is None:
        return out
    cf = f"{link('ceiling')}: the ground-truth box, {_f(ceil.iou)}; {link('floor')}: the whole-image box, {_f(floor.iou)}"
    a1 = s.get("algorithm1")
    if a1 is not None:
        near = "near" if a1.iou - floor.iou < 0.1 else "above"
        out.append(Finding(
            "algorithm1", "The paper's Algorithm 1 stays near the whole-image box",
            f"{link('algorithm1', 'Algorithm 1')} with Grad-CAM ({link('zero-shot')}) reaches a mean "
            f"{link('IoU')} of **{_f(a1.iou)}** on {where}, {near} the floor ({cf}).",
            (_f(a1.iou), _f(ceil.iou), _f(floor.iou)),
            (("whole-image box (floor)", floor.iou, "floor"), ("Algorithm 1, Grad-CAM", a1.iou, "value"),
             ("ground-truth box (ceiling)", ceil.iou, "ceiling")),
            "mean IoU", "09_beyond_the_paper", "the headline table"))
    ds = s.get(d)
    if ds is not None:
        test = _heldout_row(m, "official-test")
        held = ""
        numbers = [_f(ds.iou), str(ds.misses), _f(ceil.iou), _f(floor.iou)]
        bars = [("whole-image box (floor)", floor.iou, "floor"), (f"{d}, validation", ds.iou, "value")]
        if test is not None and pd.notna(test["iou"]):
            same = "" if test["strategy"] == d else f" (measured with {link(str(test['strategy']))})"
            held = (f"; on the {int(test['n_images'])} images of the {link('official test split')}, "
                    f"{link('held out')}, it reaches **{_f(float(test['iou']))}**{same} (ceiling "
                    f"{_f(float(test['gt_box']))}, floor {_f(float(test['whole_image']))})")
            numbers += [_f(float(test["iou"])), _f(float(test["gt_box"])), _f(float(test["whole_image"]))]
            bars.append((f"{test['strategy']}, official test (held out)", float(test["iou"]), "other"))
        bars.append(("ground-truth box (ceiling)", ceil.iou, "ceiling"))
        miss = f"{ds.misses} {link('miss', 'misses' if ds.misses != 1 else 'miss')} (IoU < {MISS_IOU})"
        out.append(Finding(
            "default", "The default strategy gets most of the way to the ground-truth box",
            f"The default strategy {link(d)} reaches **{_f(ds.iou)}** on {where}, with {miss}, where its ranking "
            f"was chosen ({cf}){held}.",
            tuple(numbers), tuple(bars), "mean IoU", "09_beyond_the_paper", "the headline table"))
    if m.cam_delta is not None and WITHOUT_CAM in s:
        delta, low, high, p = m.cam_delta
        if low > 0:
            verdict = "adds"
        elif high < 0:
            verdict = "costs"
        else:
            verdict = "makes no measurable difference:"
        wp = s[WITHOUT_CAM]
        p_txt = "p < 0.001" if p < 0.001 else f"p = {p:.2f}"
        out.append(Finding(
            "cam", "The classifier's heatmap adds nothing measurable",
            f"Without any classifier, {link(WITHOUT_CAM)} reaches **{_f(wp.iou)}** on {where}, so the CAM "
            f"{verdict} {delta:+.3f} IoU [{low:+.3f}, {high:+.3f}], {p_txt} ({link(WITH_CAM)} against "
            f"{link(WITHOUT_CAM)}, paired; {cf}).",
            (_f(wp.iou), f"{delta:+.3f}", f"[{low:+.3f}, {high:+.3f}]", _f(ceil.iou), _f(floor.iou)),
            (("whole-image box (floor)", floor.iou, "floor"), (f"{WITHOUT_CAM} (no classifier)", wp.iou, "other"),
             (f"{WITH_CAM} (with the CAM)", s[WITH_CAM].iou, "value"),
             ("ground-truth box (ceiling)", ceil.iou, "ceiling")),
            "mean IoU", "09_beyond_the_paper", "Does the CAM earn its keep?"))
    best = s.get(f"oracle-{d}")
    if best is not None and ds is not None:
        out.append(Finding(
            "selection", "What is lost is lost in the choice, not in the boxes",
            f"The best box among the default's own candidates, chosen with the ground truth "
            f"({link('oracle', f'oracle-{d}')}), "
            f"reaches **{_f(best.iou)}** on {where} against {_f(ds.iou)} for the box the default chose: "
            f"{_f(best.iou - ds.iou, 2)} IoU is lost in the choice ({cf}).",
            (_f(best.iou), _f(ds.iou), _f(ceil.iou), _f(floor.iou)),
            (("whole-image box (floor)", floor.iou, "floor"), (f"{d} (its choice)", ds.iou, "value"),
             ("best of its candidates (oracle)", best.iou, "other"), ("ground-truth box (ceiling)", ceil.iou, "ceiling")),
            "mean IoU", "09_beyond_the_paper", "Lost in generation or in selection?"))
    if ds is not None and np.isfinite(ds.border) and np.isfinite(floor.border):
        side = "below" if ds.border < floor.border else "above"
        out.append(Finding(
            "border", f"On lesions touching the border the default is {side} the whole-image box",
            f"On the {m.n_border} {link('border lesion', 'lesions touching the border')} of {where}, the default "
            f"{link(d)} reaches **{_f(ds.border)}**, {side} the whole-image box's {_f(floor.border)} "
            f"({link('floor')}; {link('ceiling')}: the ground-truth box, {_f(ceil.border)}).",
            (_f(ds.border), _f(floor.border), _f(ceil.border)),
            (("whole-image box (floor)", floor.border, "floor"), (f"{d}", ds.border, "value"),
             ("ground-truth box (ceiling)", ceil.border, "ceiling")),
            f"mean IoU, {m.n_border} border lesions", "09_beyond_the_paper", "Strategies, all images and the hard slices"))
    h = m.hitl
    if {"default-strategy", "gt-box", "whole-image"} <= set(h):
        out.append(Finding(
            "hitl", "A few clicks make the default's mask good",
            f"From the default's mask, {link(m.hitl_mode)} needs **{_f(h['default-strategy'], 2)}** simulated "
            f"clicks on average to reach IoU 0.85 ({link('NoC@85')}) on {where}, against "
            f"{_f(h['gt-box'], 2)} from the ground-truth box (ceiling) and {_f(h['whole-image'], 2)} from the "
            f"whole-image box (floor); its parameters were chosen on these images.",
            (_f(h["default-strategy"], 2), _f(h["gt-box"], 2), _f(h["whole-image"], 2)),
            (("from the whole-image box (floor)", h["whole-image"], "floor"),
             ("from the default's mask", h["default-strategy"], "value"),
             ("from the ground-truth box (ceiling)", h["gt-box"], "ceiling")),
            "simulated clicks to IoU 0.85 (fewer is better)", "10_human_in_the_loop", "Clicks to a good mask"))
    return out


def caveats(m: Measures, link: Callable[..., str] = _myst) -> list[str]:
    """What every finding is subject to, in words computed from the snapshot."""
    return [
        f"The validation numbers are on the images the defaults were chosen on; only the "
        f"{link('held out')} rows below are not.",
        f"The images are {link('256 px copies', '256 px copies')} of ISIC 2017, not the originals.",
        f"One classifier (`{m.classifier}`) and one segmenter (`{m.segmenter}`): the paper's five classifiers "
        f"and MedSAM ViT-B run with the `paper` profile on a GPU, not here.",
        "The paper's numbers are on other images (its 600 official test images, other classifiers, MedSAM "
        "ViT-B): nothing here is better or worse than them.",
    ]


def validation_row(m: Measures) -> ValidationRow | None:
    """The evaluation split's row of the held-out table, from the snapshot."""
    s, d = m.stats, m.default
    if d not in s or CEILING not in s or FLOOR not in s:
        return None
    get = (lambda k: s[k].iou if k in s else float("nan"))
    return ValidationRow(
        images=f"{m.split[0].upper()}{m.split[1:]}", n_images=m.n_images, strategy=d, iou=s[d].iou,
        iou_small=s[d].small, iou_border=s[d].border, misses=s[d].misses, image_prior=get(WITHOUT_CAM),
        oracle_candidates=get(f"oracle-{d}"), gt_box=get(CEILING), whole_image=get(FLOOR),
        algorithm1_gradcam=get("algorithm1"), noc85=m.hitl.get("default-strategy", float("nan")),
        miou5=m.hitl_miou5, hitl_mode=m.hitl_mode or "box-edit",
        source=f"the published snapshot `results/published/isic-official` ({m.split}, {m.n_images} images, "
               f"zero-shot `{m.classifier}`, `{m.segmenter}`, box prompts), recomputed from its committed tables.")


def heldout_table(m: Measures, link: Callable[..., str] = _myst) -> str:
    """The held-out table (Markdown) with the validation row first; a sentence when the held-out
    file is absent."""
    if m.heldout is None:
        return f"*No held-out figures in this checkout (`{HELDOUT_FILE.as_posix()}` is absent).*"
    return heldout_markdown(m.heldout, validation_row(m), link=link)


def readme_lines(m: Measures, href: str = "book/glossary.md") -> str:
    """The README's first screen: the findings in three lines (Markdown, glossary links to
    ``href``)."""
    def link(term, text=None):
        return term_link(term, text, style="markdown", href=href)

    s, d = m.stats, m.default
    ceil, floor, a1, ds = s[CEILING], s[FLOOR], s[Algorithm1.name], s[d]
    test, ph2 = _heldout_row(m, "official-test"), _heldout_row(m, "ph2")
    lines = [f"- On the {m.split} ({m.n_images} images, zero-shot, box prompts) the paper's Algorithm 1 reaches "
             f"{_f(a1.iou)} mean IoU, {'near' if a1.iou - floor.iou < 0.1 else 'above'} the whole-image box "
             f"({_f(floor.iou)}, the floor); the default "
             f"{link(d)} reaches {_f(ds.iou)} (the ground-truth box, the ceiling: {_f(ceil.iou)}), with signs "
             f"chosen on these images."]
    held = []
    for r, what in ((test, "official test images"), (ph2, "PH2 images")):
        if r is not None and pd.notna(r["iou"]):
            same = "" if r["strategy"] == d else f" of {link(str(r['strategy']))}"
            held.append(f"{_f(float(r['iou']))}{same} on {int(r['n_images'])} {what} (ceiling "
                        f"{_f(float(r['gt_box']))}, floor {_f(float(r['whole_image']))})")
    if held:
        lines.append(f"- On {link('held out', 'held-out')} images: " + "; ".join(held) + ".")
    if m.cam_delta is not None:
        delta, low, high, _ = m.cam_delta
        word = "no measurable" if low <= 0 <= high else ("a measurable" if low > 0 else "a negative")
        lines.append(f"- The CAM makes {word} difference over the image prior alone ({link(WITHOUT_CAM)}: "
                     f"{delta:+.3f} IoU [{low:+.3f}, {high:+.3f}]); on lesions touching the border the default "
                     f"({_f(ds.border)}) is {'below' if ds.border < floor.border else 'above'} the whole-image "
                     f"box ({_f(floor.border)}).")
    return "\n".join(lines)


def readme_blocks(folder: str | Path, href: str = "book/glossary.md") -> dict[str, str]:
    """The README's generated blocks, by marker name (``<!-- name:start -->`` ...
    ``<!-- name:end -->``): ``findings`` (:func:`readme_lines`), ``headline`` (the headline table
    with its strategy names linked to the glossary) and ``heldout`` (:func:`heldout_table`)."""
    from ..publish import load_snapshot
    from .glossary import link_names
    from .headline import headline_markdown, headline_table
    from .provenance import published_config

    folder = Path(folder)
    m = measure(folder)
    head = headline_markdown(headline_table(load_snapshot(folder).grid, published_config(folder)))
    return {"findings": readme_lines(m, href), "headline": link_names(head, href=href),
            "heldout": heldout_table(m, link=lambda term, text=None: term_link(term, text, "markdown", href))}


def update_readme(readme: str | Path, folder: str | Path) -> None:
    """Rewrite the generated blocks of ``readme`` (:func:`readme_blocks`) in place."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    for name, body in readme_blocks(folder).items():
        a, b = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if a not in text or b not in text:
            raise ValueError(f"{readme}: no {a} ... {b} block")
        text = text[:text.index(a) + len(a)] + "\n" + body.strip() + "\n" + text[text.index(b):]
    readme.write_text(text, encoding="utf-8")


def _figure(finding: Finding, path: Path) -> None:
    """A small horizontal bar chart of ``finding.bars`` (floor and ceiling grey, the finding's
    value blue, other bars light blue), each bar labelled with its value."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    colours = {"floor": "#b0b0b0", "ceiling": "#606060", "value": "#1f77b4", "other": "#9ecae1"}
    labels = [b[0] for b in finding.bars]
    values = [b[1] for b in finding.bars]
    fig, ax = plt.subplots(figsize=(5.2, 0.42 * len(labels) + 0.55), dpi=110)
    ys = np.arange(len(labels))[::-1]
    ax.barh(ys, values, color=[colours[b[2]] for b in finding.bars], height=0.62)
    top = max(values) * 1.18 if max(values) > 1.0 else 1.0
    for y, v in zip(ys, values):
        ax.text(v + top * 0.01, y, f"{v:.2f}" if top > 1.0 else f"{v:.3f}", va="center", fontsize=8)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlim(0, top * 1.08)
    ax.set_xlabel(finding.axis, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def findings_markdown(m: Measures, chapter_doc: Callable[[str], str | None], figure_dir: str,
                      write_figures: Path | None = None) -> str:
    """The findings page's generated part: the findings (each with its figure ``figure_dir/<key>.png``,
    written into ``write_figures`` when given, and a link to ``chapter_doc(stem)``, a ``{doc}``
    target, or plain text when it is None), the caveats, and the held-out table."""
    parts = []
    for k, f in enumerate(findings(m), start=1):
        if write_figures is not None:
            _figure(f, write_figures / f"{f.key}.png")
        target = chapter_doc(f.chapter)
        where = (f"{{doc}}`{f.chapter[:2]} · {f.section} <{target}>`" if target
                 else f"chapter {f.chapter[:2]}, \"{f.section}\", of the real-data part")
        parts.append(f"## {k}. {f.title}\n\n{f.sentence}\n\n"
                     f"```{{image}} {figure_dir}/{f.key}.png\n:alt: {f.title}\n:width: 480px\n```\n\n"
                     f"Shown in {where}.\n")
    parts.append("## Caveats\n\n" + "\n".join(f"- {c}" for c in caveats(m)) + "\n")
    parts.append("## Held-out results\n\nNumbers on images no default was chosen on, from the committed file "
                 f"`{HELDOUT_FILE.as_posix()}` (one row per measurement, with its command, commit and who ran it), "
                 "beside the validation split's numbers, which are **not** held out. Zero-shot, box prompts; "
                 f"a {_myst('miss')} is an image with IoU < {MISS_IOU}.\n\n" + heldout_table(m) + "\n")
    return "\n".join(parts)


def write_findings_page(out_md: Path, folder: Path | None, chapter_doc: Callable[[str], str | None],
                        figure_href: str = "findings") -> list[Finding]:
    """Write the findings page's generated part to ``out_md`` and its figures into
    ``out_md.parent / "findings"`` (referred to as ``figure_href/<key>.png``: the path from the
    page that includes ``out_md``), from the snapshot ``folder``; a sentence instead when there
    is no snapshot. Returns the findings written."""
    out_md.parent.mkdir(parents=True, exist_ok=True)
    if folder is None or not (Path(folder) / "run_summary.json").is_file():
        out_md.write_text("*No published ISIC 2017 snapshot in this checkout (`results/published/isic-official`): "
                          "no findings to show.*\n", encoding="utf-8")
        return []
    m = measure(folder)
    out_md.write_text(findings_markdown(m, chapter_doc, figure_href, write_figures=out_md.parent / "findings"),
                      encoding="utf-8")
    return findings(m)


__all__ = ["SETTING", "Stat", "Measures", "Finding", "measure", "findings", "caveats", "validation_row",
           "heldout_table", "readme_lines", "readme_blocks", "update_readme", "findings_markdown", "write_findings_page"]


if __name__ == "__main__":     # python -m cam2seg_utils.report.findings: rewrite the README's generated blocks
    update_readme(_REPO / "README.md", _REPO / "results" / "published" / "isic-official")

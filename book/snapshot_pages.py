"""The book's pages for the published snapshots (``results/published/<profile>/``): which
snapshots there are, their titles, each one's index page, and the intro's list of them.
Used by ``book/build.py``, which renders the snapshots' notebook pages.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from book_paths import GENERATED, PUBLISHED_PAGES, REPO, SNAPSHOTS, package_module


def snapshots() -> dict[str, Path]:
    """Profile -> folder of every published snapshot of this checkout."""
    return package_module("cam2seg_utils.publish").list_snapshots(SNAPSHOTS)


#: The snapshot the book takes its real-data numbers from (its part comes first, the intro's
#: paper-comparison link goes to it); any other snapshot gets a part after it.
REFERENCE_SNAPSHOT = "isic-official"


def split_phrase(dataset: dict[str, Any]) -> str:
    """The split of a snapshot's ``published.dataset`` record in words: ``"official validation
    split"`` (split folder ``Validation``), ``"training-split hold-out"`` (a hold-out of the
    training folder), else ``"<split> split"``."""
    split, folder = str(dataset.get("split", "")), str(dataset.get("split_folder", ""))
    if folder == "Validation" or split == "Validation":
        return "official validation split"
    if folder == "Training" and "held-out" in split:
        return "training-split hold-out"
    return f"{split or folder or 'unknown'} split"


def snapshot_title(folder: Path) -> str:
    """Plain text (a sidebar caption shows no markup): dataset, split in words, image count,
    e.g. ``"ISIC 2017 official validation split, 150 images (published)"``."""
    summary = json.loads((folder / "run_summary.json").read_text(encoding="utf-8"))
    ds = summary["published"]["dataset"]
    return f"{ds['name']} {split_phrase(ds)}, {ds['n_images']} images (published)"


def select_snapshots(found: dict[str, Path], wanted: list[str] | None) -> dict[str, Path]:
    """``found`` restricted to the profiles ``wanted`` (None: all); an unknown profile is an error
    naming the snapshots there are."""
    if wanted is None:
        return found
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise SystemExit(f"[book] no published snapshot {', '.join(unknown)} in {SNAPSHOTS}; "
                         f"there are: {', '.join(sorted(found)) or 'none'}")
    return {p: f for p, f in found.items() if p in wanted}


def ordered_snapshots(found: dict[str, Path]) -> dict[str, Path]:
    """``found`` with :data:`REFERENCE_SNAPSHOT` first, the others after it by name."""
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != REFERENCE_SNAPSHOT, kv[0])))


def write_snapshot_index(profile: str, folder: Path, pages: list[str]) -> str:
    """``book/generated/published/<profile>/index.md``: what the snapshot is (its README, headings
    one level down) and its pages; returns the toc path of the page."""
    out = PUBLISHED_PAGES / profile
    out.mkdir(parents=True, exist_ok=True)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    readme = "\n".join(("#" + line) if line.startswith("#") else line for line in readme.splitlines())
    links = "\n".join(f"- {{doc}}`/book/generated/published/{profile}/{p}`" for p in pages)
    (out / "index.md").write_text(
        f"# Real data: {snapshot_title(folder)}\n\n"
        f"The pages of this part render the published snapshot `{folder.relative_to(REPO).as_posix()}`: the "
        "tables of a run on real images, committed to the repository (no image is). This build did not re-run "
        "them; each page's provenance box names the run, its commit and its images.\n\n"
        + (f"Why this snapshot is here: {SNAPSHOT_ROLES[profile]}\n\n" if profile in SNAPSHOT_ROLES else "")
        + f"{links}\n\n{readme}\n", encoding="utf-8")
    return f"book/generated/published/{profile}/index"


#: Why a snapshot is in the book, by profile (the intro's list says it beside each part).
SNAPSHOT_ROLES = {
    "isic-official": "the official ISIC 2017 splits: fine-tuned on the Training split (1700 images, 300 held out "
                     "for early stopping), evaluated on all 150 images of the official Validation split, on which "
                     "the defaults were chosen (not held out: the findings page lists the held-out numbers). "
                     "**The book's reference for real-data numbers.**",
    "local-isic": "an older, quicker run: 32 images of a hold-out of the *training* split (larger, more centred "
                  "lesions than the official splits, so easier), made with older code. Kept as the record of "
                  "that run; for numbers, read the official validation split.",
}


def write_snapshots_fragment(main_profile: str | None, extra: list[str]) -> None:
    """``book/generated/published_snapshots.md`` (included by the intro): where this build shows
    real-data results (each snapshot with why it is there, the reference one first) and the link
    to the paper comparison on real data, or that it has none."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    lines = []
    if main_profile:
        lines.append(f"- The experiment pages render the published snapshot of the `{main_profile}` profile "
                     f"(`results/published/{main_profile}`). {SNAPSHOT_ROLES.get(main_profile, '')}".rstrip())
    for p in extra:
        lines.append(f"- {{doc}}`/book/generated/published/{p}/index` (`results/published/{p}`): "
                     f"{SNAPSHOT_ROLES.get(p, 'a published run on real images.')}")
    reference = main_profile or (extra[0] if extra else None)
    if lines:
        page = ("/book/generated/08_paper_comparison" if main_profile
                else f"/book/generated/published/{reference}/08_paper_comparison")
        text = ("Real-data results in this build (tables committed under `results/published/`, regenerated with "
                "the commands on each page; no image is committed):\n\n" + "\n".join(lines) + "\n\n"
                f"Our numbers beside the paper's, row by row, on real images: {{doc}}`{page}`.\n")
    else:
        text = ("*No published snapshot in this checkout (`results/published/` is empty): every page shows this "
                "build's own run, and its {doc}`paper comparison </book/generated/08_paper_comparison>` compares "
                "that run with the paper.*\n")
    (GENERATED / "published_snapshots.md").write_text(text, encoding="utf-8")


def write_findings_fragment(main_profile: str | None, extra: list[str], stems: list[str]) -> None:
    """``book/generated/findings.md`` (included by ``book/findings.md``) and its figures: the
    findings computed from the reference snapshot's committed tables
    (:func:`cam2seg_utils.report.findings.write_findings_page`), each linking to its chapter in
    the part that renders that snapshot in this build (``stems``: the notebook pages rendered),
    or naming it when this build has no such part."""
    folder = snapshots().get(REFERENCE_SNAPSHOT)
    if main_profile == REFERENCE_SNAPSHOT:
        prefix = "/book/generated/"
    elif REFERENCE_SNAPSHOT in extra:
        prefix = f"/book/generated/published/{REFERENCE_SNAPSHOT}/"
    else:
        prefix = None

    def chapter_doc(stem: str) -> str | None:
        return f"{prefix}{stem}" if prefix is not None and stem in stems else None

    package_module("cam2seg_utils.report.findings").write_findings_page(
        GENERATED / "findings.md", folder, chapter_doc, figure_href="generated/findings")

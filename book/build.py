#!/usr/bin/env python
"""Build the cam2seg book: notebooks -> papermill -> Jupyter Book (execution off).

(Over 500 lines on purpose: the build's steps, from notebooks to the HTML, in the order they run,
with the options that change them (published pages, a partial book, a working copy); the
snapshots' page parts and the paths are already apart, in ``snapshot_pages.py`` and
``book_paths.py``.)

    python book/build.py --profile smoke            # minutes, synthetic data (CI)
    python book/build.py                            # profile "embedded" (default)
    python book/build.py --profile local-isic                 # renders results/published/local-isic
    python book/build.py --profile local-isic --rerun         # re-runs it on ../shared/isic2017
    python book/build.py --profile local-isic --param n_images=200
    python book/build.py --profile smoke --workdir /tmp/book   # in a copy: this checkout's build untouched
    python book/build.py --profile smoke --only 01   # one page; a partial book (see step 3)

Steps:
1. ``notebooks/NN_*.py`` (jupytext percent, the reviewed source) -> ``notebooks/NN_*.ipynb``
   (git-ignored; the files Colab and papermill open; ``--convert-only`` stops here, as
   ``make notebooks`` does). Two cells every notebook shares are written in here rather than
   copied into each source: the Colab install cell (:data:`COLAB_CELL`, after the title, with
   ``repository.url`` of ``_config.yml`` as ``REPOSITORY_URL``) and the common papermill
   parameters (:func:`parameters_source`: ``profile`` and
   ``cam2seg_utils.report.notebook.PARAMETER_FIELDS``, one assignment a line and no inline
   comment, which papermill's parameter parser reads without a warning).
2. Each notebook is executed by papermill with the parameters ``profile``, ``output_dir`` and any
   ``--param KEY=VALUE`` (values parsed as JSON when they parse, else kept as strings) into
   ``book/generated/NN_*.ipynb`` (git-ignored). The grid is resumable, so the first notebook that
   needs it computes it and later ones read it back.
   Published snapshots (``results/published/<profile>/``, see :mod:`cam2seg_utils.publish`):
   when the chosen profile has one (and neither ``--rerun`` nor ``--param`` / ``--output-dir``
   is given), the notebooks that take a ``published`` parameter render it instead of running.
   Every other snapshot gets its own part of the book: those notebooks again, rendering it,
   into ``book/generated/published/<profile>/``, after an index page made from its README.
   (Those index pages, the snapshots' titles and the intro's list of them: ``book/snapshot_pages.py``;
   the build's paths: ``book/book_paths.py``.)
   ``--jobs 2`` (the default) runs those published pages in a second process while the run's
   own pages go in order in the first (they never read each other's results); ``--jobs 1``
   runs everything in order in one process.
3. ``jupyter-book build <repo root> -W -n --keep-going`` with ``execute_notebooks: "off"``: the
   book shows papermill's outputs, nothing is executed twice, and any Sphinx warning fails. The
   table of contents is ``_toc.yml`` plus one part per extra snapshot, and the configuration is
   ``_config.yml`` with the repository and launch buttons switched off while ``repository.url``
   is empty; both are written to ``book/generated/`` and passed to ``jupyter-book``.
   With ``--only`` on a checkout where other pages were never generated (a small SLURM book
   job, the HPC test), the book is partial: built without ``-W``, since its warnings are the
   pages left out and the links to them.

``--workdir DIR`` builds in a copy of this checkout's book sources under ``DIR``
(:func:`copy_sources`), so that its ``_build/html``, ``book/generated`` and any results and
data of the run land there and a build already in the checkout is left as it is (the test
suite's smoke build does this).

Exit status: 0 on success; 1 when a notebook fails (the failing notebook is kept, with its
traceback, in ``book/generated/``) or when the book build has warnings/errors.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from book_paths import DEMO_PNG, GENERATED, HTML, NOTEBOOKS, PUBLISHED_PAGES, REPO, package_module
from snapshot_pages import (ordered_snapshots, select_snapshots, snapshot_title, snapshots, write_findings_fragment,
                            write_snapshot_index, write_snapshots_fragment)
#: The Colab install cell of every generated notebook (``{url}``: the repository URL as a JSON string).
COLAB_CELL = """# Colab: install cam2seg first (a no-op everywhere else). Written in by book/build.py, with the
# repository URL from `repository.url` of _config.yml.
import subprocess
import sys

REPOSITORY_URL = {url}
if "google.colab" in sys.modules:
    if not REPOSITORY_URL:
        raise RuntimeError("No repository URL was set when this notebook was generated: set `repository.url` in "
                           "_config.yml (see the README) and run `python book/build.py` again, or pip-install "
                           "cam2seg from its repository yourself before running this notebook.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"cam2seg[book] @ git+{{REPOSITORY_URL}}"], check=True)"""


#: What a build reads from the checkout, relative to it: copied by :func:`copy_sources`
#: (the package is linked instead: the notebooks import it from their working directory).
BUILD_SOURCES = ("_config.yml", "_toc.yml", "book", "notebooks", "results/published", "results/heldout",
                 "results/selection_study")
LINKED_SOURCES = ("cam2seg_utils",)


def copy_sources(dst: Path) -> Path:
    """Copy what a build reads (:data:`BUILD_SOURCES`; not ``book/generated``, ``_build``,
    caches or generated ``.ipynb``) into ``dst`` and link :data:`LINKED_SOURCES` there; returns
    ``dst``. ``dst`` may hold an earlier copy (its results are kept, so a rerun resumes)."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).resolve()
        skip = {n for n in names
                if n in ("__pycache__", "_build", ".ipynb_checkpoints") or n.endswith(".ipynb")}
        if here == (REPO / "book").resolve():
            skip.add("generated")
        return skip

    dst = Path(dst).resolve()
    if dst == REPO.resolve() or REPO.resolve() in dst.parents:
        raise SystemExit(f"--workdir {dst} is inside the checkout {REPO}: give a folder outside it")
    dst.mkdir(parents=True, exist_ok=True)
    for rel in BUILD_SOURCES:
        src, out = REPO / rel, dst / rel
        if src.is_dir():
            shutil.copytree(src, out, ignore=ignore, dirs_exist_ok=True)
        elif src.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
    for rel in LINKED_SOURCES:
        if not (dst / rel).exists():
            (dst / rel).symlink_to(REPO / rel, target_is_directory=True)
    return dst


def without_option(argv: list[str], name: str) -> list[str]:
    """``argv`` without ``name VALUE`` / ``name=VALUE``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            out.append(arg)
    return out


def parse_param(text: str) -> tuple[str, Any]:
    """``"n_images=20"`` -> ``("n_images", 20)``; ``'models=["resnet50"]'`` -> list; strings stay."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param expects KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def notebook_sources(only: list[str] | None = None) -> list[Path]:
    """The jupytext sources ``notebooks/NN_*.py`` in order (``only``: name prefixes, e.g. "03")."""
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
        if not paths:
            raise SystemExit(f"no notebook in {NOTEBOOKS} matches {only}")
    return paths


def book_config() -> dict[str, Any]:
    """``_config.yml`` as a dict."""
    import yaml

    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


def repository_url(config: dict[str, Any] | None = None) -> str:
    """``repository.url`` of ``_config.yml`` (``""`` while unset): the one setting of the
    repository's address, used by the launch buttons and the notebooks' Colab install cell."""
    config = book_config() if config is None else config
    return str((config.get("repository") or {}).get("url") or "").strip()


def parameters_source(own: str, src: Path | str = "notebook") -> str:
    """The whole ``parameters`` cell of a generated notebook from its source's ``own`` cell: the
    source's comment lines, then ``profile = "embedded"`` and every other common parameter
    (``cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS``) ``= None``, then the page's own
    assignments (e.g. ``published = None``). A page may not assign a common parameter itself."""
    import ast

    nbmod = package_module("cam2seg_utils.report.notebook")
    lines = own.splitlines()
    comments = [line for line in lines if line.lstrip().startswith("#")]
    body = "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    mine = {t.id for node in ast.parse(body).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)}
    clash = sorted(mine & set(nbmod.NOTEBOOK_PARAMETERS))
    if clash:
        raise SystemExit(f"{src}: the parameters cell assigns {clash}, which book/build.py writes in itself")
    common = [f"profile = {json.dumps(nbmod.DEFAULT_PROFILE)}"] + [f"{k} = None" for k in nbmod.NOTEBOOK_PARAMETERS[1:]]
    return "\n".join([*comments, *common, *([body] if body else [])])


def to_ipynb(src: Path, url: str | None = None) -> Path:
    """Convert one jupytext percent script to ``.ipynb`` beside it (kernel python3), with the
    common parameters written into its ``parameters`` cell (:func:`parameters_source`) and the
    Colab install cell (:data:`COLAB_CELL`, repository URL default: :func:`repository_url`)
    inserted after its title."""
    import jupytext
    import nbformat

    url = repository_url() if url is None else url
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise SystemExit(f"{src}: {len(tagged)} cells tagged 'parameters'; a notebook needs exactly one")
    tagged[0].source = parameters_source(tagged[0].source, src)
    colab = nbformat.v4.new_code_cell(COLAB_CELL.format(url=json.dumps(url)), metadata={"tags": ["remove-cell"]})
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, colab)
    dst = src.with_suffix(".ipynb")
    jupytext.write(nb, dst)
    return dst


def takes_published(src: Path) -> bool:
    """Whether the notebook's ``parameters`` cell has a ``published`` parameter (it can render
    a published snapshot instead of running)."""
    import ast

    import jupytext

    for cell in jupytext.read(src).cells:
        if "parameters" in cell.metadata.get("tags", []):
            names = {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                     for t in node.targets if isinstance(t, ast.Name)}
            return "published" in names
    return False


def execute(ipynb: Path, parameters: dict[str, Any], kernel: str, timeout: int | None,
            out_dir: Path = GENERATED) -> float:
    """Run one notebook with papermill into ``out_dir``; returns the wall time (s)."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / ipynb.name
    t0 = time.perf_counter()
    pm.execute_notebook(str(ipynb), str(out), parameters=parameters, kernel_name=kernel,
                        progress_bar=False, log_output=False, cwd=str(REPO),
                        execution_timeout=timeout)
    hide_injected_parameters(out)
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Page:
    """One notebook execution: ``ipynb`` run with ``parameters`` into ``out_dir`` (its title
    suffixed with ``label`` when given)."""

    ipynb: Path
    parameters: dict[str, Any]
    out_dir: Path
    label: str | None
    kernel: str
    timeout: int | None

    @property
    def name(self) -> str:
        return f"{self.out_dir.relative_to(GENERATED).as_posix()}/{self.ipynb.stem}".lstrip("./")


class PageFailed(RuntimeError):
    """A notebook failed; the message names it and where its traceback is kept."""


def run_page(page: Page) -> float:
    """Execute one :class:`Page`; returns its wall time (s); raises :class:`PageFailed`."""
    print(f"[book] executing {page.name} with {page.parameters}", flush=True)
    try:
        seconds = execute(page.ipynb, page.parameters, page.kernel, page.timeout, page.out_dir)
    except Exception as exc:  # noqa: BLE001 - papermill raises PapermillExecutionError
        raise PageFailed(f"{page.name} FAILED: {exc}\n(see {page.out_dir / page.ipynb.name})") from None
    if page.label:
        label_title(page.out_dir / page.ipynb.name, page.label)
    print(f"[book]   {page.name} done in {seconds:.1f} s", flush=True)
    return seconds


def execute_pages(pages: list[Page], jobs: int = 1) -> dict[str, float]:
    """Run ``pages``; returns page name -> wall time (s).

    The pages of this build's own run go in order in this process (the first that needs a
    result computes it, the next ones read it back). With ``jobs`` > 1 the pages that render a
    published snapshot (``published`` parameter: they read only committed tables and their own
    data, never this run's) go meanwhile to ``jobs - 1`` worker processes."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    own = [p for p in pages if not p.parameters.get("published")]
    snapshot_pages = [p for p in pages if p.parameters.get("published")]
    if jobs <= 1 or not snapshot_pages:
        return {p.name: run_page(p) for p in pages}
    timings: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=jobs - 1, mp_context=get_context("spawn")) as pool:
        futures = {p.name: pool.submit(run_page, p) for p in snapshot_pages}
        try:
            for p in own:
                timings[p.name] = run_page(p)
            for name, fut in futures.items():
                timings[name] = fut.result()
        except BaseException:
            for fut in futures.values():
                fut.cancel()
            raise
    return timings


def hide_injected_parameters(path: Path) -> None:
    """Collapse papermill's injected-parameters cell in the book (it stays in the notebook)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")
    nbformat.write(nb, path)


def write_demo_fragment() -> None:
    """``book/generated/demo_screenshot.md``: the demo screenshot of the demo's browser test when
    one exists at build time (copied into the build), otherwise the committed capture
    ``book/_static/demo.png``."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    frag = GENERATED / "demo_screenshot.md"
    # the fragment is included by book/demo.md, so its image path is relative to book/
    if DEMO_PNG.is_file():
        shutil.copy2(DEMO_PNG, GENERATED / "demo.png")
        frag.write_text("```{figure} generated/demo.png\n:alt: the cam2seg demo app\n:width: 100%\n\n"
                        "The demo app as captured by its browser test at build time.\n```\n",
                        encoding="utf-8")
    else:
        stale = GENERATED / "demo.png"
        if stale.exists():
            stale.unlink()
        # the committed capture (same test, a synthetic disk image, shrunk to 900 px, 128 colours)
        frag.write_text("```{figure} _static/demo.png\n:alt: the cam2seg demo app\n:width: 100%\n\n"
                        "The demo app after its automatic first mask, as its browser test "
                        "(`tests/test_demo_e2e.py`) captured it on a synthetic image; a build after that "
                        "test shows a fresh capture instead.\n```\n", encoding="utf-8")


def run_part_caption(profile: str, main_snapshot: Path | None) -> str:
    """The sidebar caption of the part holding this build's own experiment pages: real data
    when they render a snapshot, and the word "synthetic" when the profile's data is."""
    if main_snapshot is not None:
        return f"Real data: {snapshot_title(main_snapshot)}"
    dataset = package_module("cam2seg_utils.profiles").get_profile(profile).dataset
    spec = package_module("cam2seg_utils.data.registry").dataset_spec(dataset)
    if spec.synthetic:
        return f"Synthetic data (profile {profile}): pipeline check, not the paper's numbers"
    return f"This build's run: profile {profile}, {dataset} data"


def label_title(path: Path, label: str) -> None:
    """Say ``label`` (which snapshot the page renders) in a line under the first heading of an
    executed notebook. The heading itself (the sidebar entry) stays short: the part's caption
    already names the snapshot."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            first, _, rest = cell.source.partition("\n")
            cell.source = f"{first}\n\n*Real data: {label}.*" + ("\n" + rest if rest else "")
            break
    nbformat.write(nb, path)


def write_toc(extra_parts: list[dict[str, Any]], run_caption: str | None = None) -> Path:
    """``book/generated/_toc.yml``: ``_toc.yml`` with ``extra_parts`` (the published snapshots'
    parts) *before* its last part that holds generated notebook pages (this build's own run), so
    the real-data parts come first; that part's caption becomes ``run_caption`` when given."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    parts = toc.get("parts", [])
    last = max((i for i, part in enumerate(parts)
                if any(str(ch.get("file", "")).startswith("book/generated/") for ch in part.get("chapters", []))),
               default=len(parts) - 1)
    if run_caption and parts:
        parts[last] = {**parts[last], "caption": run_caption}
    toc["parts"] = parts[:last] + extra_parts + parts[last:]
    out = GENERATED / "_toc.yml"
    out.write_text("# written by book/build.py from _toc.yml; do not edit\n" + yaml.safe_dump(toc, sort_keys=False),
                   encoding="utf-8")
    return out


def write_config() -> Path:
    """``book/generated/_config.yml``: ``_config.yml``, with the repository and launch buttons off
    while ``repository.url`` is empty (they would point nowhere)."""
    import yaml

    cfg = book_config()
    if not repository_url(cfg):
        cfg.pop("repository", None)
        cfg.pop("launch_buttons", None)
        for key in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            cfg.setdefault("html", {})[key] = False
    out = GENERATED / "_config.yml"
    out.write_text("# written by book/build.py from _config.yml; do not edit\n" + yaml.safe_dump(cfg, sort_keys=False),
                   encoding="utf-8")
    return out


def build_book(extra: list[str], strict: bool = True) -> int:
    """``jupyter-book build``; ``strict``: any warning fails it (``-W``)."""
    exe = shutil.which("jupyter-book")
    cmd = ([exe] if exe else [sys.executable, "-m", "jupyter_book"]) + [
        "build", str(REPO), *(["-W"] if strict else []), "-n", "--keep-going", *extra]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO).returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="embedded", help="experiment profile (smoke, embedded, paper, local-isic)")
    ap.add_argument("--output-dir", default=None, help="results folder (default: the profile's)")
    ap.add_argument("--param", action="append", type=parse_param, default=[], metavar="KEY=VALUE",
                    help="extra notebook parameter, repeatable (JSON values: n_images=20, models='[\"resnet50\"]')")
    ap.add_argument("--only", action="append", default=None, metavar="NN", help="run only notebooks whose name starts with NN")
    ap.add_argument("--convert-only", action="store_true",
                    help="only write notebooks/NN_*.ipynb from the sources (Colab and parameters cells written in)")
    ap.add_argument("--skip-execute", action="store_true", help="reuse book/generated/*.ipynb, only build the book")
    ap.add_argument("--no-build", action="store_true", help="execute the notebooks, do not build the book")
    ap.add_argument("--kernel", default="python3")
    ap.add_argument("--cell-timeout", type=int, default=None, help="papermill per-cell timeout (s)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="processes executing notebooks: this run's pages in order in one, published pages in the "
                         "others (default 2: the published pages render while the run's own pages compute)")
    ap.add_argument("--clean", action="store_true", help="remove _build before building")
    ap.add_argument("--published", action="append", default=None, metavar="PROFILE",
                    help="render only these published snapshots (repeatable; default: every snapshot of "
                         "results/published/; the test suite's smoke build renders the reference one)")
    ap.add_argument("--rerun", action="store_true",
                    help="run the profile's experiments even when results/published/<profile> exists")
    ap.add_argument("--workdir", default=None, metavar="DIR",
                    help="build in a copy of the book's sources under DIR (its _build/html, book/generated, "
                         "results and data there), leaving this checkout's build as it is")
    args = ap.parse_args(argv)
    if args.workdir is not None:
        work = copy_sources(Path(args.workdir))
        print(f"[book] building in {work}", flush=True)
        rest = without_option(list(sys.argv[1:] if argv is None else argv), "--workdir")
        sys.stdout.flush()
        os.chdir(work)
        # the copy's build.py in place of this process (same process id): whoever stops this build
        # (a timeout, Ctrl-C) stops the copy's, and its paths are the copy's (book_paths.REPO)
        os.execv(sys.executable, [sys.executable, str(work / "book" / "build.py"), *rest])
    if args.convert_only:
        url = repository_url()
        for src in notebook_sources(args.only):
            print(f"[book] wrote {to_ipynb(src, url)}", flush=True)
        return 0

    params: dict[str, Any] = {"profile": args.profile}
    if args.output_dir is not None:
        params["output_dir"] = args.output_dir
    params.update(dict(args.param))
    os.environ.setdefault("TQDM_DISABLE", "1")          # quiet progress inside the kernels
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"   # even under pytest's Agg

    found = select_snapshots(snapshots(), args.published)
    own = args.rerun or args.param or args.output_dir is not None
    main_snapshot = None if own else found.get(args.profile)
    others = ordered_snapshots({p: f for p, f in found.items()
                                if not (main_snapshot is not None and p == args.profile)})
    sources = notebook_sources(args.only)
    twins = [src for src in sources if takes_published(src)]
    url = repository_url()
    # (notebook, parameters, output folder, title label) of every page to execute
    jobs: list[tuple[Path, dict[str, Any], Path, str | None]] = []
    for src in sources:
        if main_snapshot is not None and src in twins:
            rel = main_snapshot.relative_to(REPO).as_posix()
            jobs.append((src, {"profile": args.profile, "published": rel}, GENERATED, None))
        else:
            jobs.append((src, params, GENERATED, None))
    for profile, folder in others.items():
        for src in twins:
            jobs.append((src, {"profile": profile, "published": folder.relative_to(REPO).as_posix()},
                         PUBLISHED_PAGES / profile, snapshot_title(folder)))

    timings: dict[str, float] = {}
    if not args.skip_execute:
        if PUBLISHED_PAGES.exists():
            shutil.rmtree(PUBLISHED_PAGES)        # pages of snapshots removed since the last build
        ipynbs = {src: to_ipynb(src, url) for src in sources}     # each source converted once
        runs = [Page(ipynbs[src], job_params, out_dir, label, args.kernel, args.cell_timeout)
                for src, job_params, out_dir, label in jobs]
        try:
            timings = execute_pages(runs, args.jobs)
        except PageFailed as exc:
            print(f"[book] {exc}", file=sys.stderr)
            return 1
        (GENERATED / "build_info.json").write_text(json.dumps(
            {"parameters": params, "main_pages_snapshot": str(main_snapshot) if main_snapshot else None,
             "published_parts": sorted(others), "notebook_wall_time_s": timings}, indent=2), encoding="utf-8")
    write_demo_fragment()
    # the record pages' figures, drawn from their own tables (cam2seg_utils.report.record_figures)
    package_module("cam2seg_utils.report.record_figures").write_record_figures(REPO / "book", GENERATED / "records")
    extra_parts = []
    for profile, folder in others.items():
        pages = [src.stem for src in twins]
        index = write_snapshot_index(profile, folder, pages)
        extra_parts.append({"caption": f"Real data: {snapshot_title(folder)}",
                            "chapters": [{"file": index}] + [{"file": f"book/generated/published/{profile}/{p}"}
                                                             for p in pages]})
    write_snapshots_fragment(args.profile if main_snapshot is not None else None, list(others))
    write_findings_fragment(args.profile if main_snapshot is not None else None, list(others),
                            [src.stem for src in twins])
    toc, config = write_toc(extra_parts, run_part_caption(args.profile, main_snapshot)), write_config()
    if args.no_build:
        return 0
    if args.clean and (REPO / "_build").exists():
        shutil.rmtree(REPO / "_build")
    # --only on a checkout without the other pages (e.g. a small SLURM book job): a partial book,
    # whose warnings about the pages left out (and the links to them) do not fail the build
    unbuilt = [p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")) if not (GENERATED / f"{p.stem}.ipynb").is_file()]
    partial = bool(args.only) and bool(unbuilt)
    if partial:
        print(f"[book] partial book (--only): {len(unbuilt)} page(s) not built ({', '.join(p.stem for p in unbuilt)}); "
              "warnings do not fail this build", flush=True)
    rc = build_book(["--toc", str(toc), "--config", str(config)], strict=not partial)
    if rc != 0:
        print("[book] jupyter-book build failed (warnings are errors)", file=sys.stderr)
        return 1
    print(f"[book] HTML: {HTML / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

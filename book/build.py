#!/usr/bin/env python
"""Build the cam2seg book: notebooks -> papermill -> Jupyter Book (execution off).

    python book/build.py --profile smoke            # minutes, synthetic data (CI)
    python book/build.py                            # profile "embedded" (default)
    python book/build.py --profile local-isic                 # renders results/published/local-isic
    python book/build.py --profile local-isic --rerun         # re-runs it on ../shared/isic2017
    python book/build.py --profile local-isic --param n_images=200

Steps:
1. ``notebooks/NN_*.py`` (jupytext percent, the reviewed source) -> ``notebooks/NN_*.ipynb``
   (git-ignored; the files Colab and papermill open), with ``repository.url`` of ``_config.yml``
   written into the Colab install cell (``REPOSITORY_URL = "..."``).
2. Each notebook is executed by papermill with the parameters ``profile``, ``output_dir`` and any
   ``--param KEY=VALUE`` (values parsed as JSON when they parse, else kept as strings) into
   ``book/generated/NN_*.ipynb`` (git-ignored). The grid is resumable, so the first notebook that
   needs it computes it and later ones read it back.
   Published snapshots (``results/published/<profile>/``, see :mod:`cam2seg_utils.publish`):
   when the chosen profile has one (and neither ``--rerun`` nor ``--param`` / ``--output-dir``
   is given), the notebooks that take a ``published`` parameter render it instead of running.
   Every other snapshot gets its own part of the book: those notebooks again, rendering it,
   into ``book/generated/published/<profile>/``, after an index page made from its README.
3. ``jupyter-book build <repo root> -W -n --keep-going`` with ``execute_notebooks: "off"``: the
   book shows papermill's outputs, nothing is executed twice, and any Sphinx warning fails. The
   table of contents is ``_toc.yml`` plus one part per extra snapshot, and the configuration is
   ``_config.yml`` with the repository and launch buttons switched off while ``repository.url``
   is empty; both are written to ``book/generated/`` and passed to ``jupyter-book``.

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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
GENERATED = REPO / "book" / "generated"
PUBLISHED_PAGES = GENERATED / "published"
SNAPSHOTS = REPO / "results" / "published"
HTML = REPO / "_build" / "html"
DEMO_PNG = REPO / "test-artifacts" / "demo.png"
URL_LINE = 'REPOSITORY_URL = ""'          # the Colab install cell's placeholder line in every notebook


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


def to_ipynb(src: Path, url: str | None = None) -> Path:
    """Convert one jupytext percent script to ``.ipynb`` beside it (kernel python3), with the
    repository URL (default: :func:`repository_url`) written into its Colab install cell."""
    import jupytext

    url = repository_url() if url is None else url
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    for cell in nb.cells:
        if cell.cell_type == "code" and URL_LINE in cell.source:
            cell.source = cell.source.replace(URL_LINE, f"REPOSITORY_URL = {json.dumps(url)}")
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
    """``book/generated/demo_screenshot.md``: the demo screenshot when one exists at build time
    (copied into the build, never committed), otherwise a sentence saying how to make one."""
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
        frag.write_text("*No screenshot at build time:* run the demo's browser test "
                        "(it writes `test-artifacts/demo.png`) before building the book to show one here.\n",
                        encoding="utf-8")


# ------------------------------------------------------------------------------ published snapshots
def snapshots() -> dict[str, Path]:
    """Profile -> folder of every published snapshot of this checkout."""
    sys.path.insert(0, str(REPO))
    try:
        from cam2seg_utils.publish import list_snapshots
    finally:
        sys.path.pop(0)
    return list_snapshots(SNAPSHOTS)


def _snapshot_title(folder: Path) -> str:
    summary = json.loads((folder / "run_summary.json").read_text(encoding="utf-8"))
    return f"{summary['published']['dataset']['name']}, `{folder.name}` (published)"


def label_title(path: Path, label: str) -> None:
    """Append `` — <label>`` to the first heading of an executed notebook (the page title)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            first, _, rest = cell.source.partition("\n")
            cell.source = f"{first} — {label}" + ("\n" + rest if rest else "")
            break
    nbformat.write(nb, path)


def write_snapshot_index(profile: str, folder: Path, pages: list[str]) -> str:
    """``book/generated/published/<profile>/index.md``: what the snapshot is (its README, headings
    one level down) and its pages; returns the toc path of the page."""
    out = PUBLISHED_PAGES / profile
    out.mkdir(parents=True, exist_ok=True)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    readme = "\n".join(("#" + line) if line.startswith("#") else line for line in readme.splitlines())
    links = "\n".join(f"- {{doc}}`/book/generated/published/{profile}/{p}`" for p in pages)
    (out / "index.md").write_text(
        f"# Real data: {_snapshot_title(folder)}\n\n"
        f"The pages of this part render the published snapshot `{folder.relative_to(REPO).as_posix()}`: the "
        "tables of a run on real images, committed to the repository (no image is). This build did not re-run "
        "them; each page's provenance box names the run, its commit and its images.\n\n"
        f"{links}\n\n{readme}\n", encoding="utf-8")
    return f"book/generated/published/{profile}/index"


def write_snapshots_fragment(main_profile: str | None, extra: list[str]) -> None:
    """``book/generated/published_snapshots.md`` (included by the intro): where this build shows
    real-data results, or that it has none."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    lines = []
    if main_profile:
        lines.append(f"- The experiment pages render the published snapshot of the `{main_profile}` profile "
                     f"(`results/published/{main_profile}`).")
    for p in extra:
        lines.append(f"- {{doc}}`/book/generated/published/{p}/index`: the experiment pages of the published "
                     f"`{p}` snapshot (`results/published/{p}`), beside this build's own pages.")
    text = ("Real-data results in this build (tables committed under `results/published/`, regenerated with the "
            "commands on each page; no image is committed):\n\n" + "\n".join(lines) + "\n") if lines else (
        "*No published snapshot in this checkout (`results/published/` is empty): every page shows this build's "
        "own run.*\n")
    (GENERATED / "published_snapshots.md").write_text(text, encoding="utf-8")


def write_toc(extra_parts: list[dict[str, Any]]) -> Path:
    """``book/generated/_toc.yml``: ``_toc.yml`` with ``extra_parts`` after its last part that
    holds a generated notebook page."""
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    parts = toc.get("parts", [])
    last = max((i for i, part in enumerate(parts)
                if any(str(ch.get("file", "")).startswith("book/generated/") for ch in part.get("chapters", []))),
               default=len(parts) - 1)
    toc["parts"] = parts[:last + 1] + extra_parts + parts[last + 1:]
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


def build_book(extra: list[str]) -> int:
    exe = shutil.which("jupyter-book")
    cmd = ([exe] if exe else [sys.executable, "-m", "jupyter_book"]) + [
        "build", str(REPO), "-W", "-n", "--keep-going", *extra]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO).returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="embedded", help="experiment profile (smoke, embedded, paper, local-isic)")
    ap.add_argument("--output-dir", default=None, help="results folder (default: the profile's)")
    ap.add_argument("--param", action="append", type=parse_param, default=[], metavar="KEY=VALUE",
                    help="extra notebook parameter, repeatable (JSON values: n_images=20, models='[\"resnet50\"]')")
    ap.add_argument("--only", action="append", default=None, metavar="NN", help="run only notebooks whose name starts with NN")
    ap.add_argument("--skip-execute", action="store_true", help="reuse book/generated/*.ipynb, only build the book")
    ap.add_argument("--no-build", action="store_true", help="execute the notebooks, do not build the book")
    ap.add_argument("--kernel", default="python3")
    ap.add_argument("--cell-timeout", type=int, default=None, help="papermill per-cell timeout (s)")
    ap.add_argument("--clean", action="store_true", help="remove _build before building")
    ap.add_argument("--rerun", action="store_true",
                    help="run the profile's experiments even when results/published/<profile> exists")
    args = ap.parse_args(argv)

    params: dict[str, Any] = {"profile": args.profile}
    if args.output_dir is not None:
        params["output_dir"] = args.output_dir
    params.update(dict(args.param))
    os.environ.setdefault("TQDM_DISABLE", "1")          # quiet progress inside the kernels
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"   # even under pytest's Agg

    found = snapshots()
    own = args.rerun or args.param or args.output_dir is not None
    main_snapshot = None if own else found.get(args.profile)
    others = {p: f for p, f in found.items() if not (main_snapshot is not None and p == args.profile)}
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
                         PUBLISHED_PAGES / profile, _snapshot_title(folder)))

    timings: dict[str, float] = {}
    if not args.skip_execute:
        if PUBLISHED_PAGES.exists():
            shutil.rmtree(PUBLISHED_PAGES)        # pages of snapshots removed since the last build
        for src, job_params, out_dir, label in jobs:
            ipynb = to_ipynb(src, url)
            name = f"{out_dir.relative_to(GENERATED).as_posix()}/{src.stem}".lstrip("./")
            print(f"[book] executing {src.name} with {job_params}", flush=True)
            try:
                timings[name] = execute(ipynb, job_params, args.kernel, args.cell_timeout, out_dir)
            except Exception as exc:  # noqa: BLE001 - papermill raises PapermillExecutionError
                print(f"[book] {src.name} FAILED: {exc}\n(see {out_dir / ipynb.name})", file=sys.stderr)
                return 1
            if label:
                label_title(out_dir / ipynb.name, label)
            print(f"[book]   done in {timings[name]:.1f} s", flush=True)
        (GENERATED / "build_info.json").write_text(json.dumps(
            {"parameters": params, "main_pages_snapshot": str(main_snapshot) if main_snapshot else None,
             "published_parts": sorted(others), "notebook_wall_time_s": timings}, indent=2), encoding="utf-8")
    write_demo_fragment()
    extra_parts = []
    for profile, folder in others.items():
        pages = [src.stem for src in twins]
        index = write_snapshot_index(profile, folder, pages)
        extra_parts.append({"caption": f"Real data: {_snapshot_title(folder)}",
                            "chapters": [{"file": index}] + [{"file": f"book/generated/published/{profile}/{p}"}
                                                             for p in pages]})
    write_snapshots_fragment(args.profile if main_snapshot is not None else None, list(others))
    toc, config = write_toc(extra_parts), write_config()
    if args.no_build:
        return 0
    if args.clean and (REPO / "_build").exists():
        shutil.rmtree(REPO / "_build")
    rc = build_book(["--toc", str(toc), "--config", str(config)])
    if rc != 0:
        print("[book] jupyter-book build failed (warnings are errors)", file=sys.stderr)
        return 1
    print(f"[book] HTML: {HTML / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

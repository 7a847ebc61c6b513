#!/usr/bin/env python
"""Build the cam2seg book: notebooks -> papermill -> Jupyter Book (execution off).

    python book/build.py --profile smoke            # minutes, synthetic data (CI)
    python book/build.py                            # profile "embedded" (default)
    python book/build.py --profile local-isic --param n_images=200

Steps:
1. ``notebooks/NN_*.py`` (jupytext percent, the reviewed source) -> ``notebooks/NN_*.ipynb``
   (git-ignored; the files Colab and papermill open).
2. Each notebook is executed by papermill with the parameters ``profile``, ``output_dir`` and any
   ``--param KEY=VALUE`` (values parsed as JSON when they parse, else kept as strings) into
   ``book/generated/NN_*.ipynb`` (git-ignored). The grid is resumable, so the first notebook that
   needs it computes it and later ones read it back.
3. ``jupyter-book build <repo root> -W -n --keep-going`` with ``execute_notebooks: "off"``: the
   book shows papermill's outputs, nothing is executed twice, and any Sphinx warning fails.

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
HTML = REPO / "_build" / "html"
DEMO_PNG = REPO / "test-artifacts" / "demo.png"


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


def to_ipynb(src: Path) -> Path:
    """Convert one jupytext percent script to ``.ipynb`` beside it (kernel python3)."""
    import jupytext

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    dst = src.with_suffix(".ipynb")
    jupytext.write(nb, dst)
    return dst


def execute(ipynb: Path, parameters: dict[str, Any], kernel: str, timeout: int | None) -> float:
    """Run one notebook with papermill into ``book/generated``; returns the wall time (s)."""
    import papermill as pm

    GENERATED.mkdir(parents=True, exist_ok=True)
    out = GENERATED / ipynb.name
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
    args = ap.parse_args(argv)

    params: dict[str, Any] = {"profile": args.profile}
    if args.output_dir is not None:
        params["output_dir"] = args.output_dir
    params.update(dict(args.param))
    os.environ.setdefault("TQDM_DISABLE", "1")          # quiet progress inside the kernels
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"   # even under pytest's Agg

    timings: dict[str, float] = {}
    if not args.skip_execute:
        for src in notebook_sources(args.only):
            ipynb = to_ipynb(src)
            print(f"[book] executing {src.name} with {params}", flush=True)
            try:
                timings[src.stem] = execute(ipynb, params, args.kernel, args.cell_timeout)
            except Exception as exc:  # noqa: BLE001 - papermill raises PapermillExecutionError
                print(f"[book] {src.name} FAILED: {exc}\n(see {GENERATED / ipynb.name})", file=sys.stderr)
                return 1
            print(f"[book]   done in {timings[src.stem]:.1f} s", flush=True)
        (GENERATED / "build_info.json").write_text(json.dumps(
            {"parameters": params, "notebook_wall_time_s": timings}, indent=2), encoding="utf-8")
    write_demo_fragment()
    if args.no_build:
        return 0
    if args.clean and (REPO / "_build").exists():
        shutil.rmtree(REPO / "_build")
    rc = build_book([])
    if rc != 0:
        print("[book] jupyter-book build failed (warnings are errors)", file=sys.stderr)
        return 1
    print(f"[book] HTML: {HTML / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The book's build (book/build.py): thin notebook sources, the cells written in at generation
time, the table of contents and configuration, and (slow) the smoke build of the whole book."""
from __future__ import annotations

import ast
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cam2seg_utils.report.notebook import NOTEBOOK_PARAMETERS

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))


def _book_module(name: str = "build"):
    """A module of ``book/`` (the build script and its helpers), imported as the script imports it."""
    import importlib

    sys.path.insert(0, str(REPO / "book"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@pytest.fixture(scope="module")
def build():
    return _book_module("build")


@pytest.fixture(scope="module")
def snapshot_pages():
    return _book_module("snapshot_pages")


@pytest.fixture(scope="module")
def generated(build, tmp_path_factory):
    """Every notebook source converted as the build converts it (no repository URL), by stem."""
    folder = tmp_path_factory.mktemp("notebooks")
    out = {}
    for src in NOTEBOOK_SOURCES:
        shutil.copy2(src, folder / src.name)
        out[src.stem] = build.to_ipynb(folder / src.name, "")
    return out


# ------------------------------------------------------------------------------ notebook sources
def test_every_experiment_has_a_notebook():
    stems = [p.stem for p in NOTEBOOK_SOURCES]
    for n in ("00_method", "01_data", "02_classifiers", "03_cam_baseline", "04_individual", "05_best_method",
              "06_baselines", "07_examples", "08_paper_comparison", "09_beyond_the_paper",
              "10_human_in_the_loop"):
        assert n in stems


@pytest.mark.parametrize("src", NOTEBOOK_SOURCES, ids=lambda p: p.stem)
def test_notebook_sources_are_thin(src):
    """A source holds prose and calls into cam2seg_utils.report: no import of anything else, no
    loop, branch or function of its own (no table, verdict or figure computed by hand), no copy
    of the cells the build writes in."""
    import jupytext

    nb = jupytext.read(src)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    own = {t.id for node in ast.parse(tagged[0].source).body for t in getattr(node, "targets", [])}
    assert own <= {"published"}, own                           # the common ones are the build's
    assert not any("google.colab" in c or "REPOSITORY_URL" in c for c in code)
    for cell in code:
        for node in ast.walk(ast.parse(cell)):
            if isinstance(node, ast.ImportFrom):
                assert node.module == "cam2seg_utils.report", (src.stem, node.module)
            assert not isinstance(node, (ast.Import, ast.For, ast.While, ast.If, ast.IfExp, ast.FunctionDef,
                                         ast.Lambda, ast.ListComp, ast.DictComp, ast.Try)), (src.stem, ast.dump(node)[:80])
    imported = {a.name for cell in code for node in ast.walk(ast.parse(cell)) if isinstance(node, ast.ImportFrom)
                for a in node.names}
    # the opening and the page's artefact modules (chapter 09: strategies, headline, selection, label efficiency)
    assert "notebook" in imported and len(imported) <= 5, imported
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


# ------------------------------------------------------------------------------ generated notebooks
@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOK_SOURCES])
def test_generated_notebook_has_the_parameters_and_the_colab_cell(generated, stem):
    import jupytext

    nb = jupytext.read(generated[stem])
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    namespace: dict = {}
    exec(tagged[0].source, namespace)  # noqa: S102 - our own notebook's parameter assignments
    names = [k for k in namespace if not k.startswith("__")]
    # pages that can render a published snapshot declare `published` after the common parameters
    assert names in (list(NOTEBOOK_PARAMETERS), [*NOTEBOOK_PARAMETERS, "published"])
    assert namespace["profile"] == "embedded" and all(namespace[k] is None for k in names[1:])
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    colab = nb.cells[1]
    assert colab.cell_type == "code" and "remove-cell" in colab.metadata["tags"]
    assert '"google.colab" in sys.modules' in colab.source and "pip" in colab.source
    assert colab.source.count('REPOSITORY_URL = ""') == 1
    assert nb.cells.index(tagged[0]) == 2


def test_papermill_reads_every_parameter_without_a_warning(generated, caplog):
    """papermill's parameter parser (the one that printed "Unable to parse line ..." for an inline
    comment with an "=") reads every parameter of every generated notebook, silently."""
    import papermill

    with caplog.at_level(logging.WARNING, logger="papermill"):
        for stem, path in generated.items():
            found = papermill.inspect_notebook(str(path))
            assert list(found) in (list(NOTEBOOK_PARAMETERS), [*NOTEBOOK_PARAMETERS, "published"]), stem
            assert found["profile"]["default"] == '"embedded"' and found["dataset"]["default"] == "None"
    assert not [r for r in caplog.records if "Unable to parse" in r.getMessage()]


def _run_on_fake_colab(source: str, monkeypatch) -> list[list[str]]:
    """Execute a Colab install cell as if on Colab; return the commands it ran."""
    import types

    calls: list[list[str]] = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(list(cmd)))
    exec(compile(source, "<colab cell>", "exec"), {})  # noqa: S102 - our own notebook's cell
    return calls


def _colab_cell(path: Path) -> str:
    import jupytext

    return jupytext.read(path).cells[1].source


def test_colab_cell_without_repository_url_says_what_to_set(generated, monkeypatch):
    cell = _colab_cell(generated["00_method"])
    exec(compile(cell, "<colab cell>", "exec"), {})   # off Colab: a no-op  # noqa: S102
    with pytest.raises(RuntimeError, match=r"set `repository.url` in _config.yml"):
        _run_on_fake_colab(cell, monkeypatch)


def test_generated_notebooks_get_the_repository_url(build, tmp_path, monkeypatch):
    url = "https://git.example.org/someone/cam2seg"
    for src in NOTEBOOK_SOURCES:
        copy = tmp_path / src.name
        shutil.copy2(src, copy)
        cell = _colab_cell(build.to_ipynb(copy, url))
        assert f'REPOSITORY_URL = "{url}"' in cell, src.name
    calls = _run_on_fake_colab(cell, monkeypatch)
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", f"cam2seg[book] @ git+{url}"]]
    # the URL comes from _config.yml by default
    monkeypatch.setattr(build, "book_config", lambda: {"repository": {"url": " " + url + " "}})
    assert build.repository_url() == url
    assert f'REPOSITORY_URL = "{url}"' in _colab_cell(build.to_ipynb(tmp_path / NOTEBOOK_SOURCES[0].name))


def test_a_page_may_not_assign_a_common_parameter(build):
    with pytest.raises(SystemExit, match=r"assigns \['n_images'\]"):
        build.parameters_source("# mine\nn_images = 3\npublished = None", "x.py")
    assert build.parameters_source("# a comment\npublished = None").splitlines()[:2] == ["# a comment",
                                                                                       'profile = "embedded"']


def test_convert_only_writes_the_notebooks_papermill_opens(build, tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy2(NOTEBOOK_SOURCES[3], folder / NOTEBOOK_SOURCES[3].name)
    monkeypatch.setattr(build, "NOTEBOOKS", folder)
    assert build.main(["--convert-only"]) == 0
    assert (folder / NOTEBOOK_SOURCES[3].with_suffix(".ipynb").name).is_file()


# ------------------------------------------------------------------------------ book configuration
PLACEHOLDER_URLS = re.compile(r"github\.com/(cam2seg|your[-_]?(org|name|user)|username|owner|example)/"
                              r"|cam2seg/cam2seg|<your[-_ ]", re.I)


def test_no_placeholder_repository_url_anywhere():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    hits = []
    for rel in files:
        path = REPO / rel
        if rel == "tests/test_book_build.py" or not path.is_file() or path.suffix in (".parquet", ".png", ".jpg"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if PLACEHOLDER_URLS.search(line):
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, hits
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    assert url == "" or (url.startswith("https://") and not PLACEHOLDER_URLS.search(url)), url
    readme = (REPO / "README.md").read_text()
    assert "repository.url" in readme and "_config.yml" in readme       # the README says where to set it


def test_build_writes_toc_and_config(build, tmp_path, monkeypatch):
    monkeypatch.setattr(build, "GENERATED", tmp_path)
    part = {"caption": "Real data: x", "chapters": [{"file": "book/generated/published/x/index"}]}
    source_parts = yaml.safe_load((REPO / "_toc.yml").read_text())["parts"]
    toc = yaml.safe_load(build.write_toc([part], "Synthetic data (profile smoke): pipeline check").read_text())
    captions = [p["caption"] for p in toc["parts"]]
    run = captions.index("Synthetic data (profile smoke): pipeline check")
    # the findings, the method, then real data first, then the run's own part
    assert captions[:2] == ["Findings", "Method"] and captions.index("Real data: x") == run - 1 == 2
    assert toc["parts"][run]["chapters"] == source_parts[2]["chapters"]
    assert not any("`" in c for c in captions)
    # no repository URL: the buttons that would point at it are off
    monkeypatch.setattr(build, "book_config", lambda: {"repository": {"url": ""}, "launch_buttons": {"colab_url": "x"},
                                                       "html": {"use_repository_button": True}})
    cfg = yaml.safe_load(build.write_config().read_text())
    assert "repository" not in cfg and "launch_buttons" not in cfg and cfg["html"]["use_repository_button"] is False
    monkeypatch.setattr(build, "book_config", lambda: {"repository": {"url": "https://git.example.org/a/b"},
                                                       "launch_buttons": {"colab_url": "x"}})
    cfg = yaml.safe_load(build.write_config().read_text())
    assert cfg["repository"]["url"] == "https://git.example.org/a/b" and cfg["launch_buttons"]["colab_url"] == "x"
    assert [build.takes_published(p) for p in NOTEBOOK_SOURCES] == [p.stem[:2] not in ("00", "01") for p in NOTEBOOK_SOURCES]


def test_snapshot_captions_name_the_split_in_plain_text(build, tmp_path):
    """The sidebar captions of the real-data parts say which split, without markup; the reference
    snapshot (the official validation split) comes first; the run's own part says synthetic."""
    def snapshot(name, split, folder, n):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run_summary.json").write_text(json.dumps({"published": {"dataset": {
            "name": "ISIC 2017", "split": split, "split_folder": folder, "n_images": n}}}))
        return tmp_path / name

    official = snapshot("isic-official", "Validation", "Validation", 150)
    local = snapshot("local-isic", "Training (held-out test)", "Training", 32)
    assert build.snapshot_title(official) == "ISIC 2017 official validation split, 150 images (published)"
    assert build.snapshot_title(local) == "ISIC 2017 training-split hold-out, 32 images (published)"
    assert list(build.ordered_snapshots({"local-isic": local, "isic-official": official})) == ["isic-official",
                                                                                            "local-isic"]
    both = {"local-isic": local, "isic-official": official}
    assert build.select_snapshots(both, None) == both
    assert build.select_snapshots(both, ["isic-official"]) == {"isic-official": official}
    with pytest.raises(SystemExit, match="no published snapshot ph2 in .*there are: isic-official, local-isic"):
        build.select_snapshots(both, ["ph2"])
    assert build.run_part_caption("smoke", None).startswith("Synthetic data (profile smoke)")
    assert build.run_part_caption("embedded", None).startswith("Synthetic data (profile embedded)")
    assert build.run_part_caption("isic-official", official) == ("Real data: ISIC 2017 official validation split, "
                                                                 "150 images (published)")
    # the default toc (what `jupyter-book build .` alone shows) says synthetic too
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    run_part = [p for p in toc["parts"] if any(c["file"].startswith("book/generated/0") for c in p["chapters"])
                and not any(c["file"].endswith("00_method") for c in p["chapters"])]
    assert run_part[0]["caption"] == build.run_part_caption("embedded", None)
    # the findings come right after the introduction, with the glossary
    assert [c["file"] for c in toc["parts"][0]["chapters"]] == ["book/findings", "book/glossary"]


def test_intro_fragment_links_the_real_data_comparison_and_says_why_each_snapshot(snapshot_pages, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(snapshot_pages, "GENERATED", tmp_path)
    snapshot_pages.write_snapshots_fragment(None, ["isic-official", "local-isic"])
    text = (tmp_path / "published_snapshots.md").read_text()
    assert "{doc}`/book/generated/published/isic-official/08_paper_comparison`" in text
    assert text.index("isic-official/index") < text.index("local-isic/index")
    assert "150 images of the official Validation split" in text and "reference" in text
    assert "hold-out of the *training* split" in text and "easier" in text
    snapshot_pages.write_snapshots_fragment(None, [])
    assert "08_paper_comparison" in (tmp_path / "published_snapshots.md").read_text()
    intro = (REPO / "book" / "intro.md").read_text()
    assert "generated/08_paper_comparison" not in intro            # the link is the fragment's: real data first
    for chapter in ("(09)", "scaling page", "(06)"):
        assert chapter in intro, chapter


def test_findings_fragment_links_the_chapters_of_the_part_that_renders_the_reference(snapshot_pages, tmp_path,
                                                                                    monkeypatch):
    """The findings page's generated part: computed from the committed reference snapshot, one
    figure per finding written beside it, each finding linking its chapter in whichever part of
    this build renders that snapshot, or naming it when none does."""
    monkeypatch.setattr(snapshot_pages, "GENERATED", tmp_path)
    stems = [p.stem for p in NOTEBOOK_SOURCES]
    snapshot_pages.write_findings_fragment(None, ["isic-official"], stems)
    text = (tmp_path / "findings.md").read_text()
    assert "</book/generated/published/isic-official/09_beyond_the_paper>`" in text
    assert "</book/generated/published/isic-official/10_human_in_the_loop>`" in text
    figures = sorted(p.name for p in (tmp_path / "findings").glob("*.png"))
    assert len(figures) == text.count("```{image} generated/findings/") >= 5
    assert "## Held-out results" in text and "not held out" in text
    snapshot_pages.write_findings_fragment("isic-official", [], stems)
    assert "</book/generated/09_beyond_the_paper>`" in (tmp_path / "findings.md").read_text()
    snapshot_pages.write_findings_fragment(None, ["local-isic"], stems)
    text = (tmp_path / "findings.md").read_text()
    assert "{doc}" not in text and "of the real-data part" in text


def test_published_page_titles_stay_short_and_say_their_snapshot_below(build, tmp_path):
    """A real-data part's pages keep their own title (the sidebar entry); the snapshot is named
    in a line under it."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 05 · Table 2\n\nText.")])
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    build.label_title(path, "ISIC 2017 official validation split, 150 images (published)")
    source = nbformat.read(path, as_version=4).cells[0].source
    assert source.splitlines()[0] == "# 05 · Table 2"
    assert "*Real data: ISIC 2017 official validation split, 150 images (published).*" in source


def test_chapter_09_shows_no_real_data_table_under_its_provenance_box():
    """The ISIC validation record that chose chapter 09's parameters is a static page (the
    chapter is rendered on synthetic runs too); the chapter links it and holds no table of it."""
    src = (REPO / "notebooks" / "09_beyond_the_paper.py").read_text()
    record = (REPO / "book" / "strategy_study.md").read_text()
    assert "{doc}`/book/strategy_study`" in src
    assert "official validation" in record and "| ingredient (official validation, 150) |" in record
    assert "| ingredient (official validation" not in src and "| strategy (validation) |" not in src


def test_chapter_10_shows_no_real_data_table_under_its_provenance_box():
    """Likewise chapter 10: the ISIC probes and the sweep that chose the refinement modes are the
    static page book/hitl_study.md, which says they started from the previous default's masks."""
    src = (REPO / "notebooks" / "10_human_in_the_loop.py").read_text()
    record = (REPO / "book" / "hitl_study.md").read_text()
    assert "{doc}`/book/hitl_study`" in src and "| variant (first 40 images) |" not in src
    assert "| variant (first 40 images) |" in record and "| probe (official validation split) |" in record
    assert "**previous** default strategy's masks" in record


def test_toc_and_config():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    cfg = yaml.safe_load((REPO / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "off"
    assert cfg["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for f in files:
        if f.startswith("book/generated/"):
            assert (REPO / "notebooks" / (Path(f).name + ".py")).is_file(), f
        else:
            assert (REPO / (f + ".md")).is_file(), f
    assert len(files) == len(set(files)) == 1 + len(NOTEBOOK_SOURCES) + 10    # + 10 hand-written pages (findings, glossary, demo, reproducibility, scaling, the three study records, errata, references)
    # every hand-written page is in the book, and none still holds a draft's fill-in marker
    assert {f"book/{p.stem}" for p in (REPO / "book").glob("*.md")} <= set(files)
    for page in (REPO / "book").glob("*.md"):
        assert not re.search(r"__[A-Z_]+__", page.read_text()), f"{page.name} has an unfilled __MARKER__"
    bib = (REPO / "book" / "references.bib").read_text()
    for key in ("codella2018isic", "ma2024medsam", "kirillov2023sam", "selvaraju2017gradcam"):
        assert "{" + key + "," in bib


def test_workdir_copy_has_the_sources_and_none_of_the_outputs(build, tmp_path):
    """``--workdir``: the book's sources copied (the package linked), no generated file with them."""
    dst = build.copy_sources(tmp_path / "copy")
    for rel in build.BUILD_SOURCES:
        assert (dst / rel).exists(), rel
    assert (dst / "cam2seg_utils").is_symlink() and (dst / "cam2seg_utils").resolve() == REPO / "cam2seg_utils"
    assert sorted(p.name for p in (dst / "notebooks").iterdir()) == sorted(p.name for p in NOTEBOOK_SOURCES)
    assert not (dst / "book" / "generated").exists() and not (dst / "_build").exists()
    assert (dst / "results" / "published" / "isic-official" / "run_summary.json").is_file()
    assert build.copy_sources(dst) == dst                                     # a second copy: same folder
    with pytest.raises(SystemExit, match="inside the checkout"):
        build.copy_sources(REPO / "_build" / "copy")
    assert build.without_option(["--profile", "smoke", "--workdir", "/x", "--jobs", "2"], "--workdir") == \
        ["--profile", "smoke", "--jobs", "2"]
    assert build.without_option(["--workdir=/x", "--only", "03"], "--workdir") == ["--only", "03"]


def test_build_param_parsing(build):
    assert build.parse_param("n_images=20") == ("n_images", 20)
    assert build.parse_param('models=["resnet50"]') == ("models", ["resnet50"])
    assert build.parse_param("dataset=isic") == ("dataset", "isic")
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        build.parse_param("n_images")


# ------------------------------------------------------------------------------ smoke build (slow)
@pytest.mark.slow
def test_smoke_book_builds(smoke_book):
    html_root = smoke_book.html
    assert "Unable to parse" not in smoke_book.log                   # papermill read every parameters cell
    generated = smoke_book.root / "book" / "generated"
    # built in a temporary copy: the checkout's own build outputs (a user's `make book`) untouched
    assert smoke_book.checkout_after == smoke_book.checkout_before
    assert smoke_book.html.is_relative_to(smoke_book.root) and "[book] building in" in smoke_book.log
    for src in NOTEBOOK_SOURCES:
        nb = json.loads((generated / f"{src.stem}.ipynb").read_text())
        errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, (src.stem, errors[:1])
        injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and "profile = \"smoke\"" in "".join(injected[0]["source"])
        pngs = sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))
        if src.stem in ("00_method", "01_data", "02_classifiers", "03_cam_baseline", "04_individual",
                        "05_best_method", "07_examples"):
            assert pngs >= 1, f"{src.stem} shows no figure"
        html = (html_root / "book" / "generated" / f"{src.stem}.html").read_text()
        if src.stem != "00_method":
            assert "Provenance: profile" in html and "smoke" in html, src.stem
    results = (html_root / "book" / "generated" / "05_best_method.html").read_text()
    assert "not comparable to the paper" in results and "95% CI" in results and "Wilcoxon" in results
    comparison = (html_root / "book" / "generated" / "08_paper_comparison.html").read_text()
    assert "0.366" in comparison and "MobileNet_v2" in comparison      # the paper's Table 2 beside ours
    assert "different data" in comparison and "whole-image box IoU, same images" in comparison
    assert (html_root / "index.html").is_file()
    # every snapshot asked for (the smoke build: the reference one) gets its own part, beside the
    # smoke run's pages; the others get none
    from conftest import SMOKE_BOOK_ARGS

    from cam2seg_utils.publish import list_snapshots

    intro = (html_root / "book" / "intro.html").read_text()
    asked = SMOKE_BOOK_ARGS[SMOKE_BOOK_ARGS.index("--published") + 1]
    info = json.loads((generated / "build_info.json").read_text())
    assert info["published_parts"] == [asked]
    for other in set(list_snapshots(REPO / "results" / "published")) - {asked}:
        assert f"generated/published/{other}/index.html" not in intro
    for profile in [asked]:
        folder = html_root / "book" / "generated" / "published" / profile
        assert f"generated/published/{profile}/index.html" in intro
        for src in NOTEBOOK_SOURCES:
            if src.stem[:2] in ("00", "01"):
                continue
            html = (folder / f"{src.stem}.html").read_text()
            assert "Provenance: profile <code" in html and profile in html and "published snapshot" in html, src.stem
            assert "ISIC 2017" in html and "not comparable to the paper" not in html   # real data: no synthetic banner


def test_demo_page_installs_from_the_repository():
    """cam2seg is not on PyPI: the demo page's install works from a clone."""
    demo = (REPO / "book" / "demo.md").read_text()
    assert 'pip install -e ".[demo]"' in demo and 'pip install "cam2seg[demo]"' not in demo
    extras = __import__("tomllib").loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "demo" in extras


def test_demo_page_shows_the_committed_capture_without_a_fresh_one(build, tmp_path, monkeypatch):
    """A fresh clone has no test-artifacts/demo.png: the page shows the committed screenshot."""
    from PIL import Image

    monkeypatch.setattr(build, "GENERATED", tmp_path)
    monkeypatch.setattr(build, "DEMO_PNG", tmp_path / "missing.png")
    build.write_demo_fragment()
    frag = (tmp_path / "demo_screenshot.md").read_text()
    path = re.search(r"\{figure\} (\S+)", frag).group(1)
    png = REPO / "book" / path                     # the fragment is included by book/demo.md
    assert png.is_file() and png.stat().st_size < 200_000
    assert Image.open(png).size[0] == 900

"""The book: the paper's numbers, the notebooks' structure, the glue, and (slow) the smoke build
with a headless-browser check of the rendered HTML."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cam2seg_utils import paper

REPO = Path(__file__).resolve().parents[1]
PAPER_TXT = REPO.parent / "shared" / "paper" / "classification-to-segmentation.txt"
NOTEBOOK_PARAMETERS = ["profile", "dataset", "data_root", "device", "models", "cams", "n_images", "percentile",
                       "num_points", "amplification", "epochs", "patience", "seed", "output_dir"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# ------------------------------------------------------------------------------ paper.py
@pytest.fixture(scope="module")
def paper_text() -> str:
    if not PAPER_TXT.is_file():
        pytest.skip(f"paper text not found at {PAPER_TXT}")
    return PAPER_TXT.read_text(encoding="utf-8")


def _numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+\.\d+", line)]


def test_table1_matches_paper_text(paper_text):
    names = {"GradCAM": "gradcam", "GradCAM++": "gradcam++", "AblationCAM": "ablationcam",
             "ScoreCAM": "scorecam", "RandomCAM": "randomcam"}
    found = 0
    for line in paper_text.splitlines():
        head = line.split("\t")[0].strip()
        if head in names and len(_numbers(line)) == 5:
            assert _numbers(line) == [paper.TABLE1[names[head]][m] for m in paper.METRICS], line
            found += 1
    assert found == 5


def test_table2_matches_paper_text(paper_text):
    lines = paper_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Table 2."))
    section = None
    rows = 0
    for line in lines[start:start + 20]:
        cells = [c.strip() for c in line.split("\t")]
        if cells[0] in ("Ablation", "Zero-shot", "Finetuned"):
            section = {"Ablation": "ablation", "Zero-shot": "zero-shot", "Finetuned": "fine-tuned"}[cells[0]]
        if len(cells) < 2 or section is None or cells[1] not in (*paper.PAPER_MODELS, "SAM-base", "MedSAM-base"):
            continue
        values = [float("nan") if c == "-" else float(c) for c in cells[2:7]]
        ours = (paper.TABLE2_BASELINES[cells[1]] if section == "ablation" else paper.TABLE2[section][cells[1]])
        for metric, v in zip(paper.METRICS, values):
            assert (math.isnan(v) and math.isnan(ours[metric])) or v == ours[metric], (section, cells[1], metric)
        rows += 1
    assert rows == 12


@pytest.mark.parametrize("key", sorted(paper.TEXT_VALUES))
def test_text_values_are_quoted_in_the_paper(paper_text, key):
    v = paper.get(key)
    flat = " ".join(paper_text.split())
    for fragment in v.quote.split(" ... "):
        assert fragment in flat, (key, fragment)
    printed = f"{v.value * 100:g}%" if "%" in v.quote and v.value < 1 else f"{v.value:g}"
    assert printed in v.quote.replace("~", ""), (key, printed)


def test_paper_internal_consistency():
    # F1 equals Dice for binary masks, and the paper prints them equal in every row
    for vals in paper.TABLE1.values():
        assert vals["f1"] == vals["dice"]
    for per_model in paper.TABLE2.values():
        for vals in per_model.values():
            assert vals["f1"] == vals["dice"]
    t2 = paper.table2()
    assert len(t2) == 12 and set(t2["setting"]) == {"ablation", "zero-shot", "fine-tuned"}
    best = t2[t2.setting == "fine-tuned"].sort_values("iou").iloc[-1]
    assert (best["model"], best["iou"], best["dice"]) == ("MobileNet_v2", 0.366, 0.510)
    assert paper.table1().loc["gradcam", "iou"] == 0.2356
    assert paper.FIG5_BEST["zero-shot"] == ("MobileNet_v2", "scorecam", 0.184)
    assert paper.get("fig6.zero_iou_reduction").approximate
    with pytest.raises(KeyError, match="fig5.zero_shot.best_iou"):
        paper.get("nope")


@pytest.mark.parametrize("name,label", [("mobilenetv2_100", "MobileNet_v2"), ("tf_efficientnet_lite0", "EfficientNet"),
                                        ("efficientnet_b0", "EfficientNet"), ("resnet50", "ResNet50"),
                                        ("vit_base_patch16_224", "ViT"), ("swin_base_patch4_window7_224", "Swin"),
                                        ("convnext_tiny", None)])
def test_paper_model_label(name, label):
    assert paper.paper_model_label(name) == label


# ------------------------------------------------------------------------------ glue
def test_ci_table_hand_computed():
    from cam2seg_utils import book as cb

    df = pd.DataFrame({"setting": ["a"] * 3 + ["b"] * 2, "iou": [0.5, 0.5, 0.5, 0.0, 1.0], "dice": [0.6] * 3 + [0.0, 1.0]})
    t = cb.ci_table(df, ["setting"]).set_index("setting")
    assert t.loc["a", "n"] == 3 and t.loc["a", "iou"] == 0.5
    assert t.loc["a", "iou_ci_low"] == 0.5 == t.loc["a", "iou_ci_high"]      # no spread -> zero-width CI
    assert t.loc["a", "iou [95% CI]"] == "0.500 [0.500, 0.500]"
    assert t.loc["b", "iou"] == 0.5 and t.loc["b", "iou_ci_low"] == 0.0 and t.loc["b", "iou_ci_high"] == 1.0


def test_config_from_parameters_maps_notebook_parameters():
    pytest.importorskip("cam2seg_utils.profiles")
    from cam2seg_utils import book as cb

    cfg = cb.config_from_parameters("smoke", n_images=3, percentile=80, cams="gradcam", models=None, seed=None)
    assert cfg.max_images == 3 and cfg.percentile == [80.0] and cfg.cams == ["gradcam"]
    base = cb.config_from_parameters("smoke")
    assert cfg.models == base.models and cfg.seed == base.seed
    # a changed configuration gets its own results folder beside the profile's (same heatmap cache)
    assert cfg.output_dir.startswith(base.output_dir + "-") and cfg.output_dir.endswith(cfg.fingerprint()[:8])
    assert Path(cfg.output_dir).parent == Path(base.output_dir).parent
    assert cb.config_from_parameters("smoke", device="cpu").output_dir == base.output_dir
    assert cb.config_from_parameters("smoke", n_images=3, output_dir="/tmp/x").output_dir == "/tmp/x"
    with pytest.raises(KeyError, match="n_images"):
        cb.config_from_parameters("smoke", n_imgs=3)


# ------------------------------------------------------------------------------ notebooks & book config
NOTEBOOK_SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))


def test_every_experiment_has_a_notebook():
    stems = [p.stem for p in NOTEBOOK_SOURCES]
    for n in ("00_method", "01_data", "02_classifiers", "03_cam_baseline", "04_individual", "05_best_method",
              "06_baselines", "07_examples", "08_paper_comparison"):
        assert n in stems


@pytest.mark.parametrize("src", NOTEBOOK_SOURCES, ids=lambda p: p.stem)
def test_notebook_parameters_cell_and_colab_install(src):
    import jupytext

    nb = jupytext.read(src)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    namespace: dict = {}
    exec(tagged[0].source, namespace)  # noqa: S102 - our own notebook's parameter assignments
    names = [k for k in namespace if not k.startswith("__")]
    # pages that can render a published snapshot declare `published` after the common parameters;
    # chapter 10 declares its own (max_clicks, and hitl_results to render a finished hitl folder)
    assert names in (NOTEBOOK_PARAMETERS, NOTEBOOK_PARAMETERS + ["published"],
                     NOTEBOOK_PARAMETERS + ["published", "max_clicks", "hitl_results"])
    assert namespace["profile"] == "embedded"
    assert all(namespace[k] is None for k in names[1:])
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert '"google.colab" in sys.modules' in first_code.source and "pip" in first_code.source
    assert first_code.source.count('REPOSITORY_URL = ""') == 1         # written in by book/build.py
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def _build_module():
    sys.path.insert(0, str(REPO / "book"))
    try:
        import build
    finally:
        sys.path.pop(0)
    return build


def _colab_cell(path: Path) -> str:
    import jupytext

    return next(c for c in jupytext.read(path).cells if c.cell_type == "code").source


def _run_on_fake_colab(source: str, monkeypatch) -> list[list[str]]:
    """Execute a Colab install cell as if on Colab; return the commands it ran."""
    import types

    calls: list[list[str]] = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(list(cmd)))
    exec(compile(source, "<colab cell>", "exec"), {})  # noqa: S102 - our own notebook's cell
    return calls


def test_colab_cell_without_repository_url_says_what_to_set(monkeypatch):
    cell = _colab_cell(NOTEBOOK_SOURCES[0])
    exec(compile(cell, "<colab cell>", "exec"), {})   # off Colab: a no-op  # noqa: S102
    with pytest.raises(RuntimeError, match=r"set `repository.url` in _config.yml"):
        _run_on_fake_colab(cell, monkeypatch)


def test_generated_notebooks_get_the_repository_url(tmp_path, monkeypatch):
    build = _build_module()
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


PLACEHOLDER_URLS = re.compile(r"github\.com/(cam2seg|your[-_]?(org|name|user)|username|owner|example)/"
                              r"|cam2seg/cam2seg|<your[-_ ]", re.I)


def test_no_placeholder_repository_url_anywhere():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    if not files:
        pytest.skip("not a git checkout")
    hits = []
    for rel in files:
        path = REPO / rel
        if rel == "tests/test_book.py" or not path.is_file() or path.suffix in (".parquet", ".png", ".jpg"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if PLACEHOLDER_URLS.search(line):
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, hits
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    assert url == "" or (url.startswith("https://") and not PLACEHOLDER_URLS.search(url)), url
    readme = (REPO / "README.md").read_text()
    assert "repository.url" in readme and "_config.yml" in readme       # the README says where to set it


def test_build_writes_toc_and_config(tmp_path, monkeypatch):
    build = _build_module()
    monkeypatch.setattr(build, "GENERATED", tmp_path)
    part = {"caption": "Real data: x", "chapters": [{"file": "book/generated/published/x/index"}]}
    toc = yaml.safe_load(build.write_toc([part]).read_text())
    captions = [p["caption"] for p in toc["parts"]]
    assert captions.index("Real data: x") == captions.index("Experiments") + 1      # right after the experiments
    assert toc["parts"][captions.index("Experiments")] == yaml.safe_load((REPO / "_toc.yml").read_text())["parts"][1]
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


# ------------------------------------------------------------------------------ published snapshots in the book
def _committed_snapshot():
    from cam2seg_utils.publish import list_snapshots

    found = list_snapshots(REPO / "results" / "published")
    if "local-isic" not in found:
        pytest.skip("no committed local-isic snapshot")
    return found["local-isic"]


def test_published_config_reads_the_snapshot_without_running(monkeypatch):
    from cam2seg_utils import book as cb
    from cam2seg_utils.publish import load_snapshot

    folder = _committed_snapshot()
    snap = load_snapshot(folder)
    cfg = cb.notebook_config({"profile": "local-isic", "published": str(folder), "device": None, "n_images": None})
    assert cfg.name == "local-isic" and cfg.output_dir == str(folder) and cb.snapshot_of(cfg) is not None
    # the page's config is the run's config (run_summary's config_fingerprint is the grid identity:
    # config + weights + images + results version, checked by publish.validate)
    from cam2seg_utils.experiments.config import ExperimentConfig

    assert cfg.fingerprint() == ExperimentConfig.from_dict(snap.summary["config"]).fingerprint()
    monkeypatch.setattr(cb, "ensure_data", lambda c: pytest.fail("a published page must not touch the data"))
    grid = cb.ensure_grid(cfg)
    pd.testing.assert_frame_equal(grid, snap.grid)
    with pytest.raises(ValueError, match="takes no experiment parameters"):
        cb.notebook_config({"profile": "local-isic", "published": str(folder), "n_images": 3})
    with pytest.raises(ValueError, match="is of profile 'local-isic', not 'paper'"):
        cb.notebook_config({"profile": "paper", "published": str(folder)})


def test_paper_comparison_rows_name_their_data_and_carry_the_baselines():
    from cam2seg_utils import book as cb

    cfg = cb.published_config(_committed_snapshot())
    grid = cb.ensure_grid(cfg)
    t2 = cb.table2_comparison(grid, cfg)
    ours = t2[t2["our IoU [95% CI]"].notna()]
    assert len(ours) >= 3                       # the two ablation rows and at least one CAM row
    assert set(ours["comparison"]) == {"different data"} and not cb.same_data_as_paper(cfg, grid)
    assert not any("better" in str(v) for v in t2.to_numpy().ravel())
    ids = set(grid["image_id"])
    gt = grid[(grid["setting"] == "gt-box") & grid["image_id"].isin(ids)]["iou"].mean()
    whole = grid[(grid["setting"] == "whole-image-box") & grid["image_id"].isin(ids)]["iou"].mean()
    assert ours["GT box IoU, same images"].to_numpy() == pytest.approx(gt)
    assert ours["whole-image box IoU, same images"].to_numpy() == pytest.approx(whole)
    n = grid["image_id"].nunique()
    assert set(ours["our data"]) == {f"ISIC 2017, Training (held-out test), {n} images"}
    base = cb.baselines_beside(grid).set_index("baseline (same images)")
    assert list(base.index) == ["gt-box", "gt-point", "whole-image-box"]
    assert set(base["split"]) == {"Training (held-out test)"} and (base["n"] == n).all()
    t1 = cb.table1_comparison(grid, cfg)
    assert set(t1.dropna(subset=["our IoU [95% CI]"])["comparison"]) == {"different data"}


def test_published_figures_need_matching_local_images(tmp_path, monkeypatch):
    from cam2seg_utils import book as cb
    from cam2seg_utils.publish import load_snapshot

    folder = _committed_snapshot()
    cfg = cb.published_config(folder).replace(data_root=str(tmp_path / "absent"))
    monkeypatch.setenv("CAM2SEG_ISIC_ROOT", str(tmp_path / "absent"))
    with pytest.raises(cb.FigureUnavailable, match="never committed"):
        cb.heatmaps_for_image(cfg, cb.ensure_grid(cfg))
    # a local folder whose file differs from the one the snapshot used is refused, naming the file
    snap = load_snapshot(folder)
    image_id = sorted(snap.images["image_id"])[0]
    root = tmp_path / "other"
    (root / "ISIC-2017_Training_Data").mkdir(parents=True)
    (root / "ISIC-2017_Training_Part1_GroundTruth").mkdir()
    from PIL import Image

    Image.fromarray(np.full((32, 32, 3), 120, np.uint8)).save(root / "ISIC-2017_Training_Data" / f"{image_id}.jpg")
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(
        root / "ISIC-2017_Training_Part1_GroundTruth" / f"{image_id}_segmentation.png")
    (root / "ISIC-2017_Training_Part3_GroundTruth.csv").write_text(
        f"image_id,melanoma,seborrheic_keratosis\n{image_id},0,0\n")
    monkeypatch.setenv("CAM2SEG_ISIC_ROOT", str(root))
    with pytest.raises(cb.FigureUnavailable, match=f"{image_id}.jpg differs from the file the snapshot"):
        cb._figure_samples(cfg)(image_id)


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
    assert len(files) == len(set(files)) == 1 + len(NOTEBOOK_SOURCES) + 5
    # every hand-written page is in the book, and none still holds a draft's fill-in marker
    assert {f"book/{p.stem}" for p in (REPO / "book").glob("*.md")} <= set(files)
    for page in (REPO / "book").glob("*.md"):
        assert not re.search(r"__[A-Z_]+__", page.read_text()), f"{page.name} has an unfilled __MARKER__"
    bib = (REPO / "book" / "references.bib").read_text()
    for key in ("codella2018isic", "ma2024medsam", "kirillov2023sam", "selvaraju2017gradcam"):
        assert "{" + key + "," in bib


def test_build_param_parsing():
    build = _build_module()
    assert build.parse_param("n_images=20") == ("n_images", 20)
    assert build.parse_param('models=["resnet50"]') == ("models", ["resnet50"])
    assert build.parse_param("dataset=isic") == ("dataset", "isic")
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        build.parse_param("n_images")


# ------------------------------------------------------------------------------ smoke build (slow)
SMOKE_PARAMS = ["--param", "n_images=2", "--param", 'cams=["gradcam", "randomcam"]']


@pytest.fixture(scope="module")
def smoke_book():
    """Run every notebook with the smoke profile through papermill and build the book."""
    pytest.importorskip("cam2seg_utils.profiles")
    if shutil.which("jupyter-book") is None:
        pytest.skip("jupyter-book not installed")
    env = dict(os.environ, TQDM_DISABLE="1")
    proc = subprocess.run([sys.executable, str(REPO / "book" / "build.py"), "--profile", "smoke", *SMOKE_PARAMS],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return REPO / "_build" / "html"


@pytest.mark.slow
def test_smoke_book_builds(smoke_book):
    generated = REPO / "book" / "generated"
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
        html = (smoke_book / "book" / "generated" / f"{src.stem}.html").read_text()
        if src.stem != "00_method":
            assert "Provenance: profile" in html and "smoke" in html, src.stem
    results = (smoke_book / "book" / "generated" / "05_best_method.html").read_text()
    assert "not comparable to the paper" in results and "95% CI" in results and "Wilcoxon" in results
    comparison = (smoke_book / "book" / "generated" / "08_paper_comparison.html").read_text()
    assert "0.366" in comparison and "MobileNet_v2" in comparison      # the paper's Table 2 beside ours
    assert "different data" in comparison and "whole-image box IoU, same images" in comparison
    assert (smoke_book / "index.html").is_file()
    # every committed snapshot gets its own part: the published pages beside the smoke run's
    from cam2seg_utils.publish import list_snapshots

    intro = (smoke_book / "book" / "intro.html").read_text()
    for profile in list_snapshots(REPO / "results" / "published"):
        folder = smoke_book / "book" / "generated" / "published" / profile
        assert f"generated/published/{profile}/index.html" in intro
        for src in NOTEBOOK_SOURCES:
            if src.stem[:2] in ("00", "01"):
                continue
            html = (folder / f"{src.stem}.html").read_text()
            assert f"Provenance: profile <code" in html and profile in html and "published snapshot" in html, src.stem
            assert "ISIC 2017" in html and "not comparable to the paper" not in html   # real data: no synthetic banner


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.browser
def test_smoke_book_in_chromium(smoke_book):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed at /usr/bin/chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    handler = partial(SimpleHTTPRequestHandler, directory=str(smoke_book))
    handler.log_message = lambda *a, **k: None
    port = _free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/"
    pages = sorted(p.relative_to(smoke_book).as_posix() for p in smoke_book.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    checked_links: dict[str, int] = {}
    try:
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for rel in pages:
                text = (smoke_book / rel).read_text(errors="replace")
                refresh = re.search(r'http-equiv="refresh"[^>]*url=([^"\']+)', text, flags=re.I)
                if refresh:   # a redirect page (index.html -> book/intro.html): its target must exist
                    assert page.request.get(base + refresh.group(1)).status == 200, rel
                    continue
                resp = page.goto(base + rel, wait_until="load")
                assert resp is not None and resp.status == 200, rel
                broken = page.evaluate("""() => Array.from(document.images)
                    .filter(i => i.getAttribute('src') && !i.getAttribute('src').startsWith('http') && !(i.complete && i.naturalWidth > 0))
                    .map(i => i.getAttribute('src'))""")
                assert not broken, (rel, broken)
                hrefs = page.evaluate("""() => Array.from(document.querySelectorAll('a[href]'))
                    .map(a => a.href).filter(h => h.startsWith(location.origin))""")
                for href in hrefs:
                    url = href.split("#")[0]
                    if url not in checked_links:
                        checked_links[url] = page.request.get(url).status
                bad = {u: s for u, s in checked_links.items() if s != 200}
                assert not bad, (rel, bad)
            page.goto(base + "book/generated/05_best_method.html", wait_until="load")
            out = REPO / "test-artifacts" / "book_results.png"
            out.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            published_text = strategies_text = None
            if (smoke_book / PUBLISHED_TABLE2).is_file():
                page.goto(base + PUBLISHED_TABLE2, wait_until="load")
                published_text = page.inner_text("main")
                page.screenshot(path=str(REPO / "test-artifacts" / "book_published_table2.png"), full_page=True)
            if (smoke_book / PUBLISHED_STRATEGIES).is_file():
                page.goto(base + PUBLISHED_STRATEGIES, wait_until="load")
                strategies_text = page.inner_text("main")
                page.screenshot(path=str(REPO / "test-artifacts" / "book_published_strategies.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    assert len(pages) >= 14 and len(checked_links) > 10
    assert (REPO / "test-artifacts" / "book_results.png").stat().st_size > 10_000
    if published_text is not None:
        _assert_published_table2(published_text)
    if strategies_text is not None:
        _assert_published_strategies(strategies_text)


PUBLISHED_TABLE2 = "book/generated/published/local-isic/05_best_method.html"
PUBLISHED_STRATEGIES = "book/generated/published/local-isic/09_beyond_the_paper.html"


def _assert_published_strategies(text: str) -> None:
    """The rendered "Beyond the paper" page of the local-isic snapshot shows every strategy's
    ISIC IoU with its CI (recomputed here from the committed tables), the oracle and floor rows
    among them, and the verdict on whether the CAM earns its keep."""
    from cam2seg_utils import book as cb
    from cam2seg_utils.publish import load_snapshot

    folder = _committed_snapshot()
    snap = load_snapshot(folder)
    table = cb.strategy_summary(snap.grid, cb.published_config(folder))
    assert {"algorithm1", "candidates", "image-prior", "whole-image", "oracle-gt-box"} <= set(table["strategy"])
    for value in table["iou [95% CI]"]:
        assert value in text, value
    assert "Provenance: profile local-isic" in text
    assert "beats every CAM strategy" in text or "a CAM strategy leads" in text


def _assert_published_table2(text: str) -> None:
    """The rendered Table 2 page of the local-isic snapshot shows its ISIC numbers (recomputed
    here from the committed tables), the baselines of the same images and its provenance."""
    from cam2seg_utils import book as cb
    from cam2seg_utils.publish import load_snapshot

    folder = _committed_snapshot()
    snap = load_snapshot(folder)
    cfg = cb.published_config(folder)
    best = cb.best_rows(snap.grid, cb.main_variant(cfg), cfg)
    expected = cb.ci_table(best, ["setting", "model", "selection"])["iou [95% CI]"]
    assert len(expected) >= 2
    for value in expected:
        assert value in text, value
    for value in cb.baselines_beside(snap.grid)["iou [95% CI]"]:
        assert value in text, value
    ds = snap.published["dataset"]
    assert "Provenance: profile local-isic" in text
    assert f"ISIC 2017 ({ds['data_root']}), split {ds['split']} ({ds['n_images']} images)" in text
    assert str(snap.summary["git_commit"])[:12] in text and "results/published/local-isic" in text
    assert "whole-image-box" in text and "gt-box" in text


def test_provenance_names_the_slow_cam_parameters_in_words():
    from cam2seg_utils import book as cb
    from cam2seg_utils.profiles import get_profile

    cfg = get_profile("local-isic")
    assert cb._slow_cam_label(cfg) == "ScoreCAM on top 64 channels by variance; AblationCAM on every channel"
    cfg.scorecam_channels, cfg.ablation_ratio = None, 0.25
    assert cb._slow_cam_label(cfg) == "ScoreCAM on every channel; AblationCAM on upstream's channel subset, ratio 0.25"

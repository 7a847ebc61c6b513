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
    assert [k for k in namespace if not k.startswith("__")] == NOTEBOOK_PARAMETERS
    assert namespace["profile"] == "embedded"
    assert all(namespace[k] is None for k in NOTEBOOK_PARAMETERS[1:])
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert '"google.colab" in sys.modules' in first_code.source and "pip" in first_code.source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


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
    assert len(files) == len(set(files)) == 1 + len(NOTEBOOK_SOURCES) + 4
    bib = (REPO / "book" / "references.bib").read_text()
    for key in ("codella2018isic", "ma2024medsam", "kirillov2023sam", "selvaraju2017gradcam"):
        assert "{" + key + "," in bib


def test_build_param_parsing():
    sys.path.insert(0, str(REPO / "book"))
    try:
        import build
    finally:
        sys.path.pop(0)
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
    assert (smoke_book / "index.html").is_file()


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
            browser.close()
    finally:
        server.shutdown()
    assert len(pages) >= 14 and len(checked_links) > 10
    assert (REPO / "test-artifacts" / "book_results.png").stat().st_size > 10_000

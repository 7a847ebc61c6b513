"""The built smoke book in a headless Chromium (slow): every page loads, no image or internal link
is broken, and the published snapshot's pages show its numbers (recomputed here from the
committed tables) with their provenance."""
from __future__ import annotations

import re
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cam2seg_utils.publish import list_snapshots, load_snapshot
from cam2seg_utils.report import baselines, headline, strategies, table2
from cam2seg_utils.report.provenance import published_config
from test_reader_text import internal_words

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REFERENCE = "isic-official"     # the book's real-data reference: the official validation split
PUBLISHED_TABLE2 = f"book/generated/published/{REFERENCE}/05_best_method.html"
PUBLISHED_STRATEGIES = f"book/generated/published/{REFERENCE}/09_beyond_the_paper.html"
FINDINGS = "book/findings.html"
# What a reader must never see in a page's text (code blocks aside): a raw nan, a raw backtick,
# an integer printed with decimals ("8.000 epochs"), a CI or p-value of fewer than 5 images.
PAGE_CHECKS_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .highlight').forEach(e => e.remove());
  const text = clone.innerText;
  const problems = [];
  if (/\bnan\b/.test(text)) problems.push('raw nan');
  if (text.includes('`')) problems.push('raw backtick: ' + text.slice(Math.max(0, text.indexOf('`') - 40), text.indexOf('`') + 40));
  const ints = text.match(/(^|[^\d.])([2-9]|\d{2,})\.000(?!\d)/g);
  if (ints) problems.push('integer with decimals: ' + ints.slice(0, 3).join(' | '));
  for (const table of main.querySelectorAll('table')) {
    let scrolls = false, wide = table.scrollWidth > table.parentElement.clientWidth + 2;
    for (let e = table; e && e !== main.parentElement; e = e.parentElement) {
      const ox = getComputedStyle(e).overflowX;
      if (ox === 'auto' || ox === 'scroll') { scrolls = true; break; }
    }
    if (wide && !scrolls) problems.push('table wider than its container without a scroll');
    const head = Array.from(table.querySelectorAll('thead th')).map(th => th.innerText.trim());
    const ni = head.indexOf('n');
    if (ni < 0) continue;
    for (const tr of table.querySelectorAll('tbody tr')) {
      const cells = Array.from(tr.children).map(td => td.innerText.trim());
      const offset = cells.length - head.length;   // a row-header cell shifts the columns
      const n = Number(cells[ni + offset]);
      if (Number.isFinite(n) && n < 5 && cells.some(c => /\[-?\d\.\d{3}, -?\d\.\d{3}\]/.test(c)))
        problems.push('CI shown for n = ' + n);
    }
  }
  return problems;
}"""


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
    html_root = smoke_book.html
    handler = partial(SimpleHTTPRequestHandler, directory=str(html_root))
    handler.log_message = lambda *a, **k: None
    port = _free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}/"
    pages = sorted(p.relative_to(html_root).as_posix() for p in html_root.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    checked_links: dict[str, int] = {}
    try:
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for rel in pages:
                text = (html_root / rel).read_text(errors="replace")
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
                assert not page.evaluate(PAGE_CHECKS_JS), (rel, page.evaluate(PAGE_CHECKS_JS))
                # nothing of the work's organisation reaches a reader, on any rendered page
                assert internal_words(page.inner_text("main") if page.query_selector("main") else "") == [], rel
                hrefs = page.evaluate("""() => Array.from(document.querySelectorAll('a[href]'))
                    .map(a => a.href).filter(h => h.startsWith(location.origin))""")
                for href in hrefs:
                    url = href.split("#")[0]
                    if url not in checked_links:
                        checked_links[url] = page.request.get(url).status
                bad = {u: s for u, s in checked_links.items() if s != 200}
                assert not bad, (rel, bad)
            nav = page.inner_text("nav") if page.query_selector("nav") else ""
            assert "Synthetic" in nav, "the navigation must label the synthetic part as synthetic"
            page.goto(base + "book/generated/05_best_method.html", wait_until="load")
            out = REPO / "test-artifacts" / "book_results.png"
            out.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            published_text = strategies_text = findings_text = None
            page.goto(base + FINDINGS, wait_until="load")
            findings_text = page.inner_text("main")
            page.screenshot(path=str(REPO / "test-artifacts" / "book_findings.png"), full_page=True)
            if (html_root / PUBLISHED_TABLE2).is_file():
                page.goto(base + PUBLISHED_TABLE2, wait_until="load")
                published_text = page.inner_text("main")
                page.screenshot(path=str(REPO / "test-artifacts" / "book_published_table2.png"), full_page=True)
            if (html_root / PUBLISHED_STRATEGIES).is_file():
                page.goto(base + PUBLISHED_STRATEGIES, wait_until="load")
                # the long tables sit behind folds (a reader opens them): open every fold, read all
                page.evaluate(OPEN_FOLDS_JS)
                strategies_text = page.eval_on_selector("main", "e => e.textContent")
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
    _assert_findings(findings_text)


def _assert_findings(text: str) -> None:
    """The findings page shows the numbers of the committed tables, read here straight from the
    snapshot's CSV tables and the held-out file (not through the module that wrote the page):
    the default strategy (the code's), Algorithm 1, the floor and the ceiling, the image prior,
    the border slice, the clicks to IoU 0.85, the held-out rows; and the page's own findings."""
    import pandas as pd

    from cam2seg_utils.prompting import DEFAULT_STRATEGY
    from cam2seg_utils.refinement import DEFAULT_MODE
    from cam2seg_utils.report import findings

    text = text.replace("\u2019", "'")          # Sphinx's smart quotes
    folder = list_snapshots(REPO / "results" / "published")[REFERENCE]
    table = pd.read_csv(folder / "tables" / "strategies.csv")
    zs = table[table["setting"] == "zero-shot"]

    def iou(strategy, slice_="all", cam=None):
        rows = zs[(zs["strategy"] == strategy) & (zs["slice"] == slice_)]
        if cam is not None:
            rows = rows[rows["cam"] == cam]
        return f"{rows['iou'].iloc[0]:.3f}"

    for value in (iou("algorithm1", cam="gradcam"), iou(DEFAULT_STRATEGY), iou("image-prior"), iou("oracle-gt-box"),
                  iou("whole-image"), iou(DEFAULT_STRATEGY, "touches border"), iou("whole-image", "touches border")):
        assert value in text, value
    noc = pd.read_csv(folder / "hitl" / "noc.csv")
    noc = noc[(noc["slice"] == "all") & (noc["mode"] == DEFAULT_MODE)].set_index("start")["noc@85"]
    for start in ("default-strategy", "gt-box", "whole-image"):
        assert f"{noc[start]:.2f}" in text, start
    held = pd.read_csv(REPO / "results" / "heldout" / "figures.csv")
    for _, r in held.iterrows():
        assert r["images"] in text and str(r["commit"])[:7] in text and r["ran_by"] in text, r["id"]
        for c in ("iou", "gt_box", "whole_image"):
            if pd.notna(r[c]):
                assert f"{r[c]:.3f}" in text, (r["id"], c)
    assert "not held out: the defaults were chosen on these masks" in text
    found = findings.findings(findings.measure(folder))
    assert len(found) >= 5
    for f in found:
        assert f.title in text and all(n in text for n in f.numbers), f.key


#: Opens what a reader can unfold: <details> elements and sphinx-togglebutton's collapsed blocks.
OPEN_FOLDS_JS = """() => {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
}"""


def _assert_published_strategies(text: str) -> None:
    """The rendered "Beyond the paper" page of the reference snapshot shows every strategy's
    ISIC IoU with its CI (recomputed here from the committed tables), the oracle and floor rows
    among them, and the verdict on whether the CAM earns its keep (computed by the package)."""
    folder = list_snapshots(REPO / "results" / "published")[REFERENCE]
    snap = load_snapshot(folder)
    table = strategies.summary_table(snap.grid, published_config(folder))
    assert {"algorithm1", "candidates", "image-prior", "whole-image", "oracle-gt-box"} <= set(table["strategy"])
    for value in table["iou [95% CI]"]:
        assert value in text, value
    assert f"Provenance: profile {REFERENCE}" in text
    for line in strategies.verdict(table, snap.grid).lines:
        assert re.sub(r"^- |\*\*", "", line) in text, line
    # the headline table (README's first results table): every number and CI, recomputed here
    head = headline.headline_table(snap.grid, published_config(folder))
    for cell in re.findall(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", headline.headline_markdown(head)):
        assert cell in text, cell


def _assert_published_table2(text: str) -> None:
    """The rendered Table 2 page of the reference snapshot shows its ISIC numbers (recomputed
    here from the committed tables), the baselines of the same images and its provenance."""
    folder = list_snapshots(REPO / "results" / "published")[REFERENCE]
    snap = load_snapshot(folder)
    expected = table2.table(snap.grid, published_config(folder))["iou [95% CI]"]
    assert len(expected) >= 2
    for value in expected:
        assert value in text, value
    for value in baselines.beside(snap.grid)["iou [95% CI]"]:
        assert value in text, value
    ds = snap.published["dataset"]
    assert f"Provenance: profile {REFERENCE}" in text
    assert f"ISIC 2017 ({ds['data_root']}), split {ds['split']} ({ds['n_images']} images)" in text
    assert str(snap.summary["git_commit"])[:12] in text and f"results/published/{REFERENCE}" in text
    assert "whole-image-box" in text and "gt-box" in text

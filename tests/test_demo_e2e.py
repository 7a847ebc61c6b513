"""End to end in headless Chromium: upload -> first mask -> negative click on the lesion -> smaller
mask. Real models (embedded EfficientNet-Lite0, LiteMedSAM), app bound to 127.0.0.1 on a free port.
Saves screenshots to ``test-artifacts/demo.png`` (the first mask; the book includes it) and
``demo_after_click.png`` (git-ignored)."""
from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AREA = re.compile(r"Mask area: (\d+) px")
NEG = re.compile(r"(\d+) negative")

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_app(embedded_classifier, litemedsam, tmp_path):
    from cam2seg_utils.demo.app import build_app, launch_kwargs
    from cam2seg_utils.demo.resources import ClassifierChoice, DemoConfig, ModelPool

    config = DemoConfig(examples_dir=str(tmp_path / "examples"), offer_hub_classifiers=False, n_examples=2)
    pool = ModelPool(config)  # the session's models, already loaded by the conftest fixtures
    pool.add_classifier(ClassifierChoice(config.classifier, config.classifier_weights), embedded_classifier)
    pool.set_segmenter(litemedsam)
    blocks = build_app(config, pool=pool)
    port = _free_port()
    kwargs = launch_kwargs(config, host="127.0.0.1", port=port)
    kwargs["quiet"] = True
    blocks.launch(prevent_thread_lock=True, **kwargs)
    try:
        yield f"http://127.0.0.1:{port}/", blocks
    finally:
        blocks.close()


def _status_text(page) -> str:
    return page.locator("#status").inner_text()


def _wait_status(page, predicate, timeout_s: float = 90.0) -> str:
    import time

    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = _status_text(page)
        if predicate(text):
            return text
        page.wait_for_timeout(150)
    raise AssertionError(f"status never matched within {timeout_s} s; last status: {text!r}")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
def test_upload_click_negative_point_shrinks_mask(running_app, tmp_path, repo_root):
    from conftest import synthetic_disk_image
    from playwright.sync_api import sync_playwright

    url, _ = running_app
    image, _ = synthetic_disk_image()  # disk centre (x=150, y=110), radius 55, 320 x 240
    upload = tmp_path / "lesion.png"
    Image.fromarray(image).save(upload)
    external: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})

            def _track(request) -> None:
                parsed = urlparse(request.url)
                if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in ("127.0.0.1", "localhost"):
                    external.append(request.url)

            page.on("request", _track)
            page.goto(url, wait_until="domcontentloaded")
            page.locator("#upload input[type=file]").set_input_files(str(upload))
            first = _wait_status(page, lambda t: AREA.search(t) is not None)
            area_before = int(AREA.search(first).group(1))
            assert area_before > 1000, first
            artifacts = repo_root / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            # the book's screenshot: the automatic first mask, before any click
            page.wait_for_timeout(500)
            page.screenshot(path=str(artifacts / "demo.png"), full_page=True)

            page.locator("#mode").get_by_text("negative point").click()
            img = page.locator("#view img")
            img.wait_for(state="visible")
            # map the lesion centre (original pixels) to the displayed view (a 320-wide image is
            # shown enlarged to 512), then to the screen with the object-fit: contain arithmetic
            # gradio uses for SelectData.index
            geo = img.evaluate("e => { const r = e.getBoundingClientRect();"
                               " return [r.left, r.top, r.width, r.height, e.naturalWidth, e.naturalHeight]; }")
            left, top, width, height, nat_w, nat_h = geo
            assert nat_w * 240 == nat_h * 320  # aspect ratio kept
            s_d = nat_w / 320
            x_d, y_d = (150 + 0.5) * s_d - 0.5, (110 + 0.5) * s_d - 0.5
            scale = min(width / nat_w, height / nat_h, 1.0)
            off_x, off_y = (width - nat_w * scale) / 2, (height - nat_h * scale) / 2
            page.mouse.click(left + off_x + (x_d + 0.5) * scale, top + off_y + (y_d + 0.5) * scale)

            after = _wait_status(page, lambda t: (m := NEG.search(t)) is not None and m.group(1) == "1")
            area_after = int(AREA.search(after).group(1))
            assert area_after < area_before, (first, after)

            page.locator("#export").click()  # mask PNG + prompts JSON, offered for download
            page.locator("#downloads").get_by_text("lesion_prompts").wait_for(timeout=30_000)
            listing = page.locator("#downloads").inner_text()  # names are shown as stem + suffix
            assert "lesion_mask" in listing and ".png" in listing and ".json" in listing, listing

            page.screenshot(path=str(artifacts / "demo_after_click.png"), full_page=True)
        finally:
            browser.close()
    assert not external, f"the page requested external resources: {external}"

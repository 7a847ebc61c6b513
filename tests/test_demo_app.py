"""The demo's gradio handlers and launch settings, called directly (no browser)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

gr = pytest.importorskip("gradio")

from cam2seg_utils.demo.__main__ import build_parser  # noqa: E402
from cam2seg_utils.demo.app import (  # noqa: E402
    MODE_BOX,
    MODE_NEGATIVE,
    DemoApp,
    configure_environment,
    launch_kwargs,
)
from cam2seg_utils.demo.resources import DemoConfig  # noqa: E402
from cam2seg_utils.demo.state import PromptState, RefinementSession, UserState  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = DemoConfig(max_upload_mb=0.01, offer_hub_classifiers=False,
                        examples_dir=str(tmp_path_factory.mktemp("examples")))
    return DemoApp(config)  # models are built lazily: the rejection tests never load them


def test_safe_defaults():
    args = build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.classifier == "tf_efficientnet_lite0"
    assert args.classifier_weights == "embedded" and args.segmenter == "litemedsam"
    assert args.max_upload_mb == 20.0 and not args.share
    kw = launch_kwargs(DemoConfig(max_upload_mb=5))
    assert kw["server_name"] == "127.0.0.1" and kw["share"] is False
    assert kw["max_file_size"] == 5 * 1024 * 1024 and kw["ssr_mode"] is False
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    root = configure_environment()
    assert os.environ["GRADIO_TEMP_DIR"] == str(root) and root.is_dir()
    # theme fonts are system fonts only: no Google Fonts stylesheet to fetch
    theme = kw["theme"]
    assert all(not str(sheet).startswith("http") for sheet in theme._stylesheets)


def test_cli_rejects_bad_limits(capsys):
    from cam2seg_utils.demo.__main__ import main

    assert main(["--max-upload-mb", "0"]) == 2
    assert main(["--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


def test_non_image_and_oversized_uploads_are_refused(app, tmp_path):
    text = tmp_path / "report.jpg"
    text.write_text("not an image")
    with pytest.raises(gr.Error, match="report.jpg: not a readable image"):
        app.load_file(str(text), None, None, "gradcam", 90, 3, 2, "box+points")
    noise = np.random.default_rng(0).integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
    big = tmp_path / "big.png"
    Image.fromarray(noise).save(big)  # ~120 kB of incompressible noise > 0.01 MB
    with pytest.raises(gr.Error, match=r"big.png: the file is 0.1 MB; the limit is 0.0 MB"):
        app.load_file(str(big), None, None, "gradcam", 90, 3, 2, "box+points")


def test_handlers_without_an_image_explain_what_to_do(app):
    out = app.click(10, 10, MODE_NEGATIVE, None)
    assert isinstance(out[0], UserState) and out[1] is None and "Upload an image first" in out[2]
    with pytest.raises(gr.Error, match="upload an image first"):
        app.export(UserState())


def test_click_and_box_handlers_use_displayed_coordinates(app, litemedsam, tmp_path):
    from conftest import synthetic_disk_image

    image, _ = synthetic_disk_image()  # 320 x 240, shown enlarged 1.6x (512 x 384)
    session = RefinementSession(image=image, segmenter=litemedsam, embedding=litemedsam.embed(image),
                                auto=PromptState.make([95, 55, 205, 165], np.zeros((0, 2)), []))
    user = UserState(session=session)
    area = session.mask_area()
    xd, yd = round(150.5 * 1.6 - 0.5), round(110.5 * 1.6 - 0.5)  # the disk centre on the view
    out = app.click(xd, yd, MODE_NEGATIVE, user, show_heatmap=False)
    assert out[0] is user and out[1].shape == (384, 512, 3)
    # x = (x_d + 0.5) / 1.6 - 0.5 (pixel centres aligned): 240 -> 149.81, 176 -> 109.81
    assert (xd, yd) == (240, 176)
    np.testing.assert_allclose(session.current.points, [[149.81, 109.81]])
    assert session.current.point_labels.tolist() == [0]
    assert session.mask_area() < area and f"Mask area: {session.mask_area()} px" in out[2]
    assert "last edit:" in out[2]
    # box mode: two clicks on the view set the box in original pixels; the number fields follow
    app.click(368, 288, MODE_BOX, user)  # -> (229.81, 179.81): corners in any order
    out = app.click(96, 64, MODE_BOX, user)  # -> (59.81, 39.81)
    assert out[3:] == (59.8, 39.8, 229.8, 179.8)
    out = app.set_box(90, 50, 210, 170, user)
    assert out[3:] == (90.0, 50.0, 210.0, 170.0)
    with pytest.raises(gr.Error, match="fill in all four"):
        app.set_box(90, None, 210, 170, user)
    out = app.undo(user)
    assert out[3:] == (59.8, 39.8, 229.8, 179.8)
    out = app.reset(user)
    assert out[3:] == (95.0, 55.0, 205.0, 165.0) and len(session.current.points) == 0
    user.source_name = "lesion.png"
    paths = [Path(p) for p in app.export(user)]
    assert [p.name for p in paths] == ["lesion_mask.png", "lesion_prompts.json"]
    assert all(p.is_file() and p.resolve().is_relative_to(app.temp_root.resolve()) for p in paths)


def test_examples_are_generated_synthetic_images(app):
    paths = app.examples()
    assert len(paths) == app.config.n_examples == 4
    assert all(p.suffix == ".jpg" and Path(app.config.examples_dir) in p.parents for p in paths)
    thumbs = app.example_thumbnails()
    assert all(t.dtype == np.uint8 and t.ndim == 3 and max(t.shape[:2]) <= 160 for t in thumbs)
    with pytest.raises(gr.Error, match="no example number 9"):
        app.load_example(9, None, None, "gradcam", 90, 3, 2, "box+points")


def test_upload_then_recompute_reuses_the_embedding_and_keeps_edits_undoable(
        embedded_classifier, litemedsam, tmp_path):
    from conftest import synthetic_disk_image

    from cam2seg_utils.demo.resources import ClassifierChoice, ModelPool

    config = DemoConfig(offer_hub_classifiers=False, examples_dir=str(tmp_path / "examples"))
    pool = ModelPool(config)
    pool.add_classifier(ClassifierChoice(config.classifier, config.classifier_weights), embedded_classifier)
    pool.set_segmenter(litemedsam)
    app = DemoApp(config, pool=pool)
    image, _ = synthetic_disk_image()
    path = tmp_path / "lesion.png"
    Image.fromarray(image).save(path)
    calls = litemedsam.encoder_calls
    label = app.choices[0].label
    out = app.load_file(str(path), None, label, "gradcam", 90, 3, 2, "box+points")
    user = out[0]
    assert litemedsam.encoder_calls == calls + 1
    assert out[1].shape == (384, 512, 3) and "Prediction:" in out[2] and "gradcam" in out[2]
    app.click(240, 176, MODE_NEGATIVE, user)
    edited = user.session.current
    out = app.recompute(user, label, "eigencam", 95, 2, 2, "box")
    assert litemedsam.encoder_calls == calls + 1  # same image: the embedding came from the cache
    assert user.session.meta["cam"] == "eigencam" and len(user.session.current.points) == 0
    assert user.session.timings.embedding_cached and "encoder cached" in out[2]
    app.undo(user)  # the edits made before the recompute are one Undo away
    assert user.session.current.key() == edited.key()


def test_other_exceptions_show_no_message():
    assert launch_kwargs(DemoConfig())["show_error"] is False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_removes_its_private_folder_on_sigterm(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_TEMP_DIR"}
    env.update(TMPDIR=str(tmpdir), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "cam2seg_utils.demo", "--port", str(port),
                             "--no-hub-classifiers", "--examples-dir", str(tmp_path / "examples")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        private = list(tmpdir.glob("cam2seg-demo-*"))
        assert len(private) == 1 and private[0].is_dir()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert not private[0].exists()

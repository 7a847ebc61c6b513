"""Gradio UI of the human-in-the-loop demo (thin: all logic is in :mod:`.state`).

(Over 500 lines on purpose: the Gradio layout and the wiring of every event to :mod:`.state` /
:mod:`.session` are one page of UI, easier to check against the running app in one file.)

Privacy and safety:

* every per-user object (image, embedding, prompts, undo stack, export folder) lives in one
  ``gr.State`` holding a :class:`~cam2seg_utils.demo.state.UserState`; the module holds no
  per-image state, so one user's image never reaches another session;
* uploads go to gradio's temporary folder, which :func:`configure_environment` points at a private
  ``tempfile.mkdtemp`` folder (``GRADIO_TEMP_DIR``) unless the caller set one; exports go to a
  per-session sub-folder of it, deleted when the browser session ends;
* analytics are off (``GRADIO_ANALYTICS_ENABLED=False``), the theme uses system fonts (no Google
  Fonts request), server-side rendering is off: the page loads with no external request;
* non-images and oversized uploads are refused with a message naming the file; messages shown to
  users never carry server paths (:func:`~cam2seg_utils.demo.upload.redact_paths`; the full error
  goes to the server's stderr), and other exceptions show no message at all (``show_error=False``);
* the private temporary folder is removed when the process ends: at exit, and on SIGTERM / SIGINT
  when launched from the command line (:mod:`cam2seg_utils.demo.__main__`).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

_ENV_LOCK = threading.Lock()
_TEMP_ROOT: Path | None = None
_OWN_TEMP_ROOT = False   # True when the folder is ours (not a GRADIO_TEMP_DIR the caller set)


def configure_environment() -> Path:
    """Switch gradio analytics off and give gradio a private upload folder; call before
    importing gradio. Returns the private temporary root (uploads, exports)."""
    global _TEMP_ROOT, _OWN_TEMP_ROOT
    with _ENV_LOCK:
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        if _TEMP_ROOT is None:
            preset = os.environ.get("GRADIO_TEMP_DIR")
            if preset:
                _TEMP_ROOT = Path(preset)
                _TEMP_ROOT.mkdir(parents=True, exist_ok=True)
            else:
                import atexit

                from .resources import private_temp_root

                _TEMP_ROOT = private_temp_root()
                _OWN_TEMP_ROOT = True
                os.environ["GRADIO_TEMP_DIR"] = str(_TEMP_ROOT)
                atexit.register(remove_private_temp_root)
        return _TEMP_ROOT


def remove_private_temp_root() -> None:
    """Delete the private temporary folder (uploads, exports) if this process created it; runs at
    exit, and the command line calls it when the demo stops on a signal."""
    if _TEMP_ROOT is not None and _OWN_TEMP_ROOT:
        import shutil

        shutil.rmtree(_TEMP_ROOT, ignore_errors=True)


configure_environment()

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from ..prompting.algorithm1 import PromptParams  # noqa: E402
from .resources import (  # noqa: E402
    ClassifierChoice,
    DemoConfig,
    ModelPool,
    default_examples_dir,
    ensure_examples,
)
from .refine import mode_choices  # noqa: E402
from .session import RefinementSession  # noqa: E402
from .state import UserState, analyse_image  # noqa: E402
from .upload import ImageRejected, load_image_file, redact_paths  # noqa: E402

MODE_POSITIVE = "positive point"
MODE_NEGATIVE = "negative point"
MODE_BOX = "box (2 clicks: corner, corner)"
MODES = [MODE_POSITIVE, MODE_NEGATIVE, MODE_BOX]
CAM_DEFAULT = "gradcam"
#: The "Automatic prompts" choices: the best GT-free strategy first (the first mask), the paper's
#: Algorithm 1 one click away, then every other strategy.
from ..prompting import DEFAULT_STRATEGY, STRATEGIES  # noqa: E402

AUTOMATIC_PROMPTS = (DEFAULT_STRATEGY, "box+points", "box",
                     *[n for n in STRATEGIES.names() if n not in (DEFAULT_STRATEGY, "algorithm1")])
#: The view is re-sent on every click: JPEG encodes a 768 px view in ~1 ms (PNG: ~110 ms, WebP:
#: ~55 ms), which keeps a click well inside its 200 ms budget. Exports are exact PNG masks.
VIEW_FORMAT = "jpeg"
EXAMPLE_MAX_BYTES = 64 * 1024 * 1024  # the bundled examples are ours: the upload limit does not apply

INTRO = """\
### cam2seg · classification-to-segmentation, human in the loop
Upload a dermoscopy image (or pick a synthetic example). The classifier's CAM gives a box and
points (Algorithm 1), the segmenter draws the mask. Refine it: click to add **positive** (green) or
**negative** (red) clicks, or redraw the **box** with two clicks; the refinement mode turns each click
into the next mask (default: the best measured, `box-edit`); undo or remove any click, reset, export.
"""


def _theme() -> gr.themes.Base:
    """Default look with system fonts only (no web-font download: the demo runs offline)."""
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                             font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def _cam_methods() -> list[str]:
    from ..cams import CAM_METHODS

    names = list(CAM_METHODS.names())
    if CAM_DEFAULT in names:
        names.remove(CAM_DEFAULT)
        names.insert(0, CAM_DEFAULT)
    return names


def _fmt_status(user: UserState, note: str = "", edit_ms: float | None = None) -> str:
    s = user.session
    if s is None:
        return "No image yet. Upload one or pick an example." + (f"  \n{note}" if note else "")
    st = s.status()
    pred = s.meta.get("prediction", {})
    model = s.meta.get("model", {})
    t = s.timings
    lines = [
        f"**Prediction:** {pred.get('class_name', '?')} (p = {pred.get('probability', float('nan')):.3f}) · "
        f"**model:** {model.get('label') or model.get('name')} · **CAM:** {s.meta.get('cam')} · "
        f"**segmenter:** {s.meta.get('segmenter')}",
        f"**Clicks: {st['clicks']}** ({st['positive_points']} positive, {st['negative_points']} negative) · "
        f"**refinement mode: {st['refinement_mode']}**" + (f" · last step: {st['last_step']}" if st['last_step'] else ""),
        f"**Mask area: {st['mask_area_px']} px** of {s.height * s.width} · "
        f"box: {st['box']} · undo steps: {st['undo_depth']}",
        f"First mask: {t.total_s:.2f} s (classifier {t.classify_s:.2f}, CAM {t.cam_s:.2f}, prompts "
        f"{t.prompts_s:.3f}, encoder {'cached' if t.embedding_cached else f'{t.embed_s:.2f}'}, "
        f"decoder {t.decode_s:.3f})" + (f" · last edit: {edit_ms:.0f} ms" if edit_ms is not None else ""),
    ]
    if len(s.current.points):
        lines.append("Clicks: " + ", ".join(f"#{i + 1} {'+' if lab == 1 else '−'} ({x:.0f}, {y:.0f})"
                                            for i, ((x, y), lab) in enumerate(zip(s.current.points,
                                                                                  s.current.point_labels))))
    if s.auto_prompts is not None and s.auto_prompts.used_fallback:
        lines.append("Algorithm 1 used its fallback (fewer than 4 hot pixels): box from sampled points.")
    if s.pending_corner is not None:
        lines.append(f"Box: first corner at ({s.pending_corner[0]:.0f}, {s.pending_corner[1]:.0f}); "
                     "click the opposite corner.")
    if note:
        lines.append(note)
    return "  \n".join(lines)


class DemoApp:
    """The handlers, bound to one configuration and one (shared, read-only) model pool.

    Every handler takes the user's :class:`UserState` and returns it with the view outputs
    ``(state, view image, status markdown, x0, y0, x1, y1)``; they are plain methods, callable
    without a browser (the benchmark times them)."""

    def __init__(self, config: DemoConfig | None = None, pool: ModelPool | None = None,
                 temp_root: str | os.PathLike | None = None) -> None:
        self.config = config or DemoConfig()
        self.pool = pool or ModelPool(self.config)
        self.temp_root = Path(temp_root) if temp_root is not None else configure_environment()
        self.choices = self.config.classifier_choices()
        self._choice_by_label = {c.label: c for c in self.choices}
        self._examples: list[Path] | None = None
        self._examples_lock = threading.Lock()

    # -- helpers ------------------------------------------------------------------------------
    def examples(self) -> list[Path]:
        with self._examples_lock:
            if self._examples is None:
                folder = Path(self.config.examples_dir) if self.config.examples_dir else default_examples_dir()
                self._examples = ensure_examples(folder, n_images=self.config.n_examples)
            return list(self._examples)

    def example_thumbnails(self, side: int = 160) -> list[np.ndarray]:
        """Small RGB previews of :meth:`examples` (served from gradio's cache, not from disk paths)."""
        thumbs = []
        for path in self.examples():
            image = load_image_file(path, max_bytes=EXAMPLE_MAX_BYTES, max_pixels=self.config.max_pixels)
            scale = side / max(image.shape[:2])
            thumbs.append(_downscale(image, scale) if scale < 1 else image)
        return thumbs

    def _outputs(self, user: UserState, note: str = "", show_heatmap: bool = True,
                 t_start: float | None = None) -> tuple:
        """``(state, view, status, x0, y0, x1, y1)``; ``t_start`` (perf_counter) of an edit: its
        server time up to the rendered view is shown in the status."""
        s = user.session
        if s is None:
            return (user, None, _fmt_status(user, note), None, None, None, None)
        view = s.render(show_heatmap=show_heatmap)
        edit_ms = None if t_start is None else (time.perf_counter() - t_start) * 1e3
        box = s.current.box
        b = [None] * 4 if box is None else [round(float(v), 1) for v in box]
        return (user, view, _fmt_status(user, note, edit_ms), *b)

    def _choice(self, label: str | None) -> ClassifierChoice:
        if not label:
            return self.choices[0]
        try:
            return self._choice_by_label[label]
        except KeyError:
            raise gr.Error(f"unknown classifier {label!r}") from None

    def _analyse(self, image: np.ndarray, user: UserState, classifier_label: str | None, cam: str,
                 percentile: float, num_points: float, amplification: float, variant: str) -> RefinementSession:
        choice = self._choice(classifier_label)
        try:
            params = PromptParams(percentile=float(percentile), num_points=int(num_points),
                                  amplification=float(amplification))
        except ValueError as err:
            raise gr.Error(f"Algorithm 1 parameters: {err}") from None
        try:
            classifier, cam_lock = self.pool.classifier(choice)
            segmenter = self.pool.segmenter()
        except Exception as err:  # noqa: BLE001 - shown to the user, naming model and weights
            print(f"cam2seg-demo: cannot load {choice.label}: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            raise gr.Error(f"cannot load {choice.label}: {type(err).__name__}: {redact_paths(str(err))}") from None
        return analyse_image(image, classifier, segmenter, cam_method=cam or CAM_DEFAULT, params=params,
                             variant=variant if variant in AUTOMATIC_PROMPTS else "box+points",
                             classifier_label=choice.label, embeddings=user.embeddings,
                             display_max_side=self.config.display_max_side, model_lock=cam_lock)

    # -- handlers -----------------------------------------------------------------------------
    def load_file(self, path: str | None, user: UserState | None, classifier_label: str | None, cam: str,
                  percentile: float, num_points: float, amplification: float, variant: str,
                  show_heatmap: bool = True, display_name: str | None = None,
                  max_bytes: int | None = None) -> tuple:
        """Upload: validate the file (``max_bytes`` default: the upload limit), run Algorithm 1
        and the first mask."""
        user = user if isinstance(user, UserState) else UserState()
        if not path:
            return self._outputs(user, show_heatmap=show_heatmap)
        name = display_name or Path(path).name
        try:
            image = load_image_file(path, max_bytes=max_bytes or self.config.max_upload_bytes,
                                    max_pixels=self.config.max_pixels, display_name=name)
        except ImageRejected as err:
            raise gr.Error(str(err)) from None
        user.session = self._analyse(image, user, classifier_label, cam, percentile, num_points,
                                     amplification, variant)
        if user.refinement:
            user.session.set_refinement(user.refinement)
        user.source_name = name
        return self._outputs(user, show_heatmap=show_heatmap)

    def load_example(self, index: int, user: UserState | None, *settings: Any) -> tuple:
        examples = self.examples()
        if not 0 <= int(index) < len(examples):
            raise gr.Error(f"no example number {index}")
        path = examples[int(index)]
        return self.load_file(str(path), user, *settings, display_name=path.name, max_bytes=EXAMPLE_MAX_BYTES)

    def recompute(self, user: UserState | None, classifier_label: str | None, cam: str, percentile: float,
                  num_points: float, amplification: float, variant: str, show_heatmap: bool = True) -> tuple:
        """New automatic prompts for the same image (the embedding comes from the user's cache)."""
        user = user if isinstance(user, UserState) else UserState()
        if user.session is None:
            return self._outputs(user, "Upload an image first.", show_heatmap)
        old = user.session
        new = self._analyse(old.image, user, classifier_label, cam, percentile, num_points,
                            amplification, variant)
        # the user's earlier prompts on this image stay reachable with Undo
        if old.current.key() != new.current.key():
            new.history = [*old.history, old.current][-new.max_history:]
        new.set_refinement(old.refinement)
        user.session = new
        return self._outputs(user, show_heatmap=show_heatmap)

    def click(self, x_display: float, y_display: float, mode: str, user: UserState | None,
              show_heatmap: bool = True) -> tuple:
        """A click at ``(x, y)`` on the displayed view (gradio ``SelectData.index``)."""
        user = user if isinstance(user, UserState) else UserState()
        s = user.session
        if s is None:
            return self._outputs(user, "Upload an image first.", show_heatmap)
        t0 = time.perf_counter()
        x, y = s.display_to_image(x_display, y_display)
        if mode == MODE_BOX:
            s.box_click(x, y)
        else:
            s.add_point(x, y, positive=(mode != MODE_NEGATIVE))
        s.current_mask()
        out = self._outputs(user, show_heatmap=show_heatmap, t_start=t0)
        return out

    def on_select(self, mode: str, show_heatmap: bool, user: UserState | None, evt: gr.SelectData) -> tuple:
        if evt is None or evt.index is None:
            return self._outputs(user if isinstance(user, UserState) else UserState(), show_heatmap=show_heatmap)
        x_d, y_d = evt.index[0], evt.index[1]
        return self.click(float(x_d), float(y_d), mode, user, show_heatmap)

    def set_box(self, x0: float | None, y0: float | None, x1: float | None, y1: float | None,
                user: UserState | None, show_heatmap: bool = True) -> tuple:
        user = user if isinstance(user, UserState) else UserState()
        s = user.session
        if s is None:
            return self._outputs(user, "Upload an image first.", show_heatmap)
        if any(v is None for v in (x0, y0, x1, y1)):
            raise gr.Error("fill in all four box numbers x0, y0, x1, y1 (original-image pixels)")
        t0 = time.perf_counter()
        try:
            s.set_box(x0, y0, x1, y1)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        s.current_mask()
        return self._outputs(user, show_heatmap=show_heatmap, t_start=t0)

    def set_mode(self, mode: str, user: UserState | None, show_heatmap: bool = True) -> tuple:
        """Switch the refinement mode (:data:`cam2seg_utils.refinement.REFINEMENT_MODES`); the
        clicks stay and are replayed with it."""
        user = user if isinstance(user, UserState) else UserState()
        try:
            from ..refinement import REFINEMENT_MODES

            REFINEMENT_MODES.get(mode)
        except KeyError as err:
            raise gr.Error(str(err)) from None
        user.refinement = mode
        s = user.session
        if s is None:
            return self._outputs(user, show_heatmap=show_heatmap)
        t0 = time.perf_counter()
        s.set_refinement(mode)
        s.current_mask()
        return self._outputs(user, show_heatmap=show_heatmap, t_start=t0)

    def remove_click(self, number: float | None, user: UserState | None, show_heatmap: bool = True) -> tuple:
        """Remove click ``#number`` (1-based, as the status lists them); undoable."""
        user = user if isinstance(user, UserState) else UserState()
        s = user.session
        if s is None:
            return self._outputs(user, "Upload an image first.", show_heatmap)
        if number is None:
            raise gr.Error("give the number of the click to remove (#1 is the first)")
        t0 = time.perf_counter()
        try:
            s.remove_point(int(number) - 1)
        except ValueError as err:
            raise gr.Error(str(err)) from None
        s.current_mask()
        return self._outputs(user, show_heatmap=show_heatmap, t_start=t0)

    def _edit(self, user: UserState | None, show_heatmap: bool, action: str) -> tuple:
        user = user if isinstance(user, UserState) else UserState()
        s = user.session
        if s is None:
            return self._outputs(user, "Upload an image first.", show_heatmap)
        t0 = time.perf_counter()
        note = ""
        if action == "undo":
            if not s.undo():
                note = "Nothing to undo."
        elif action == "reset":
            s.reset()
        elif action == "clear_points":
            s.clear_points()
        elif action == "clear_box":
            s.clear_box()
        s.current_mask()
        return self._outputs(user, note, show_heatmap, t_start=t0)

    def undo(self, user, show_heatmap=True):
        return self._edit(user, show_heatmap, "undo")

    def reset(self, user, show_heatmap=True):
        return self._edit(user, show_heatmap, "reset")

    def clear_points(self, user, show_heatmap=True):
        return self._edit(user, show_heatmap, "clear_points")

    def clear_box(self, user, show_heatmap=True):
        return self._edit(user, show_heatmap, "clear_box")

    def rerender(self, user, show_heatmap=True):
        return self._edit(user, show_heatmap, "none")

    def export(self, user: UserState | None) -> list[str]:
        if not isinstance(user, UserState) or user.session is None:
            raise gr.Error("nothing to export: upload an image first")
        mask_path, json_path = user.export(self.temp_root / "exports")
        return [str(mask_path), str(json_path)]

    # -- layout -------------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        cams = _cam_methods()
        defaults = PromptParams()
        with gr.Blocks(title="cam2seg demo", analytics_enabled=False,
                       delete_cache=(1800, 3600)) as demo:
            user = gr.State(None, time_to_live=3 * 3600, delete_callback=_close_user)
            gr.Markdown(INTRO)
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    upload = gr.File(label=f"Image (max {self.config.max_upload_mb:g} MB)",
                                     file_types=["image"], type="filepath", elem_id="upload")
                    examples = gr.Gallery(self.example_thumbnails(), label="Synthetic examples (click one)",
                                          columns=4, height=120, allow_preview=False, elem_id="examples")
                    classifier = gr.Dropdown([c.label for c in self.choices], value=self.choices[0].label,
                                             label="Classifier")
                    cam = gr.Dropdown(cams, value=CAM_DEFAULT if CAM_DEFAULT in cams else cams[0],
                                      label="CAM method")
                    percentile = gr.Slider(5, 99.9, value=defaults.percentile, step=0.1,
                                           label="Percentile (Algorithm 1 step 7)")
                    num_points = gr.Slider(1, 20, value=defaults.num_points, step=1, label="Points")
                    amplification = gr.Slider(0, 10, value=defaults.amplification, step=0.5,
                                              label="Amplification")
                    variant = gr.Dropdown(list(AUTOMATIC_PROMPTS), value=DEFAULT_STRATEGY,
                                          label="Automatic prompts (strategy; 'box+points' / 'box' = the paper's Algorithm 1)")
                    recompute = gr.Button("Recompute automatic prompts", variant="primary")
                with gr.Column(scale=2):
                    view = gr.Image(label="Click to refine", type="numpy", interactive=False, format=VIEW_FORMAT,
                                    elem_id="view", buttons=[], show_label=True)
                    status = gr.Markdown(_fmt_status(UserState()), elem_id="status")
                    with gr.Row():
                        mode = gr.Radio(MODES, value=MODE_POSITIVE, label="Click adds", elem_id="mode")
                        show_heatmap = gr.Checkbox(True, label="Show heatmap")
                    with gr.Row():
                        refinement = gr.Dropdown(mode_choices(), value=mode_choices()[0], elem_id="refinement",
                                                 label="Refinement mode (what a click does; first = best measured)")
                        click_number = gr.Number(1, label="click # to remove", precision=0, minimum=1, elem_id="click-number")
                        remove_click = gr.Button("Remove click", elem_id="remove-click")
                    with gr.Row():
                        undo = gr.Button("Undo", elem_id="undo")
                        reset = gr.Button("Reset to automatic", elem_id="reset")
                        clear_points = gr.Button("Clear points")
                        clear_box = gr.Button("Clear box")
                    with gr.Row():
                        x0 = gr.Number(label="box x0", precision=1, minimum=0)
                        y0 = gr.Number(label="box y0", precision=1, minimum=0)
                        x1 = gr.Number(label="box x1", precision=1, minimum=0)
                        y1 = gr.Number(label="box y1", precision=1, minimum=0)
                        apply_box = gr.Button("Apply box")
                    with gr.Row():
                        export = gr.Button("Export mask (PNG) + prompts (JSON)", elem_id="export")
                    files = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                    elem_id="downloads", height=150)

            settings = [classifier, cam, percentile, num_points, amplification, variant]
            outputs = [user, view, status, x0, y0, x1, y1]

            upload.upload(lambda p, u, *a: self.load_file(p, u, *a), [upload, user, *settings, show_heatmap],
                          outputs, show_progress="minimal")

            def _example(u, c, m, p, n, a, v, h, evt: gr.SelectData):
                return self.load_example(int(evt.index), u, c, m, p, n, a, v, h)

            examples.select(_example, [user, *settings, show_heatmap], outputs)
            recompute.click(self.recompute, [user, *settings, show_heatmap], outputs)
            for control in (classifier, cam, variant):  # new automatic prompts at once (embedding cached)
                control.input(self.recompute, [user, *settings, show_heatmap], outputs)
            for slider in (percentile, num_points, amplification):
                slider.release(self.recompute, [user, *settings, show_heatmap], outputs)
            view.select(self.on_select, [mode, show_heatmap, user], outputs, show_progress="hidden")
            apply_box.click(self.set_box, [x0, y0, x1, y1, user, show_heatmap], outputs)
            refinement.input(self.set_mode, [refinement, user, show_heatmap], outputs, show_progress="hidden")
            remove_click.click(self.remove_click, [click_number, user, show_heatmap], outputs, show_progress="hidden")
            undo.click(self.undo, [user, show_heatmap], outputs, show_progress="hidden")
            reset.click(self.reset, [user, show_heatmap], outputs, show_progress="hidden")
            clear_points.click(self.clear_points, [user, show_heatmap], outputs, show_progress="hidden")
            clear_box.click(self.clear_box, [user, show_heatmap], outputs, show_progress="hidden")
            show_heatmap.change(self.rerender, [user, show_heatmap], outputs, show_progress="hidden")
            export.click(self.export, [user], [files])
        return demo


def _downscale(image: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))


def _close_user(user: Any) -> None:
    if isinstance(user, UserState):
        user.close()


def build_app(config: DemoConfig | None = None, *, pool: ModelPool | None = None, warm_up: bool = True,
              **overrides: Any) -> gr.Blocks:
    """Build the demo as ``gr.Blocks`` (call ``.launch(...)`` yourself, e.g. in a notebook).

    ``overrides`` set :class:`DemoConfig` fields (``classifier=...``, ``segmenter_checkpoint=...``).
    ``pool``: a :class:`ModelPool` with models already loaded (default: built lazily from ``config``).
    Launch it with :func:`launch_kwargs` (theme with system fonts, upload limit, no SSR).
    """
    config = config or DemoConfig()
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise TypeError(f"unknown demo setting {key!r}")
        setattr(config, key, value)
    app = DemoApp(config, pool=pool)
    if warm_up:
        app.pool.warm_up()
        app.examples()
    blocks = app.build()
    blocks.cam2seg_app = app  # type: ignore[attr-defined]
    return blocks


def launch_kwargs(config: DemoConfig, host: str = "127.0.0.1", port: int | None = None,
                  share: bool = False) -> dict[str, Any]:
    """The ``Blocks.launch`` arguments the demo needs (safe defaults)."""
    return dict(server_name=host, server_port=port, share=share, theme=_theme(),
                max_file_size=config.max_upload_bytes, ssr_mode=False, mcp_server=False,
                footer_links=["settings"], show_error=False, quiet=False)


def launch(share: bool = False, host: str = "127.0.0.1", port: int | None = None,
           config: DemoConfig | None = None, prevent_thread_lock: bool = False, **overrides: Any):
    """Build and launch the demo (``share=True`` in Colab gives a public gradio link).

    Binds ``127.0.0.1`` unless ``host`` says otherwise. Returns the launched ``gr.Blocks``.
    """
    config = config or DemoConfig()
    blocks = build_app(config, **overrides)
    blocks.launch(prevent_thread_lock=prevent_thread_lock,
                  **launch_kwargs(config, host=host, port=port, share=share))
    return blocks


__all__ = ["DemoApp", "build_app", "launch", "launch_kwargs", "configure_environment", "remove_private_temp_root", "MODES",
           "MODE_POSITIVE", "MODE_NEGATIVE", "MODE_BOX"]

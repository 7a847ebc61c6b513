"""The demo's automatic pass and per-user state (no gradio import; unit-tested without a browser).

:func:`analyse_image` runs the one-image pipeline (:func:`cam2seg_utils.pipeline.segment_image`:
classify -> CAMs -> strategy -> mask) and Algorithm 1, and returns a
:class:`~.session.RefinementSession` the user refines with clicks. The image embedding is computed
once per image and reused by every edit; :class:`EmbeddingCache` lets a user re-run the automatic
prompts (another CAM, other Algorithm 1 parameters) on the same image without a second encoder
pass. Nothing here is module-level mutable per-image state: every user holds their own
:class:`UserState`.

The demo's other parts: :mod:`.upload` (an uploaded file -> a checked image, or a refusal naming
it), :mod:`.session` (the prompts, their undo history, the exports), :mod:`.render` (the view).
Their names are re-exported here, where the app and users' code have always imported them.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..cams.registry import CAM_METHODS
from ..file_digest import image_digest
from ..pipeline import CamMap, ClassifierFailed, ImagePass, StrategyRun
from ..prompting.algorithm1 import PromptParams, generate_prompts
from ..seeding import make_rng
from .render import BOX_RGB, NEGATIVE_RGB, POSITIVE_RGB, heatmap_to_rgb, mask_contour, render_overlay
from .session import (DEFAULT_DISPLAY_MAX_SIDE, DEFAULT_DISPLAY_MIN_SIDE, PROMPTS_JSON_FORMAT, PromptState,
                      RefinementSession, Timings, read_prompts_json)
from .upload import (DEFAULT_MAX_PIXELS, DEFAULT_MAX_UPLOAD_BYTES, MIN_IMAGE_SIDE, ImageRejected, check_image_array,
                     load_image_file, redact_paths)

#: Algorithm 1's two variants, or the name of any prompting strategy
#: (:data:`cam2seg_utils.prompting.STRATEGIES`, e.g. ``"prior-cam"``, the demo's default).
PromptVariant = str
ALGORITHM1_VARIANTS = ("box+points", "box")
#: The heatmaps a multi-CAM strategy gets in the demo (the CAMs its ranking weights were fitted on),
#: plus the CAM chosen in the UI.
STRATEGY_CAMS = ("gradcam", "gradcam++")


class EmbeddingCache:
    """A tiny LRU of image embeddings, keyed by ``(image sha256, segmenter name)``.

    One instance per user session (never shared between users)."""

    def __init__(self, capacity: int = 2) -> None:
        self.capacity = max(1, int(capacity))
        self._items: "OrderedDict[tuple[str, str], Any]" = OrderedDict()

    def get(self, key: tuple[str, str]):
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple[str, str], embedding: Any) -> None:
        self._items[key] = embedding
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


def prompt_rng(sha256: str, cam_method: str, params: PromptParams) -> np.random.Generator:
    """The generator for Algorithm 1's sampling: fixed per image, CAM and parameters."""
    return make_rng("demo-prompts", sha256, cam_method, params.percentile, params.num_points,
                    params.amplification)


def analyse_image(image: np.ndarray, classifier: Any, segmenter: Any, *, cam_method: str = "gradcam",
                  params: PromptParams | None = None, variant: PromptVariant = "box+points",
                  classifier_label: str | None = None, embeddings: EmbeddingCache | None = None,
                  display_max_side: int = DEFAULT_DISPLAY_MAX_SIDE, model_lock: Any = None) -> RefinementSession:
    """The automatic prompts of one image, then the first mask: returns a ready :class:`RefinementSession`.

    Steps: :func:`~cam2seg_utils.pipeline.segment_image` (classifier prediction = CAM target, the
    CAM heatmap at the original size, the image embedding, taken from ``embeddings`` when this
    image was embedded before, and the strategy's run), then Algorithm 1
    (:func:`~cam2seg_utils.prompting.algorithm1.generate_prompts`, rng from :func:`prompt_rng`) and
    the first decoder call.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        classifier: a :class:`cam2seg_utils.models.Classifier`.
        segmenter: a :class:`cam2seg_utils.segmenters.base.Segmenter`.
        variant: ``"box+points"`` (box and Algorithm 1's positive points) or ``"box"``
            (Algorithm 1, the paper's prompts), or a prompting-strategy name
            (:data:`cam2seg_utils.prompting.STRATEGIES`, e.g. ``"prior-cam"``): the automatic
            prompt is then the strategy's last box, and its first mask the strategy's mask.
        model_lock: optional context manager held while the classifier / CAM hooks run
            (CAM hooks on a shared model must not interleave between users).
    """
    from ..prompting import STRATEGIES

    image = check_image_array(image)
    params = PromptParams() if params is None else params
    if variant not in ALGORITHM1_VARIANTS and variant not in STRATEGIES:
        raise ValueError(f"variant must be 'box+points', 'box' or a strategy ({', '.join(STRATEGIES.names())}), "
                         f"got {variant!r}")
    strategy = None if variant in ALGORITHM1_VARIANTS else STRATEGIES.get(variant)()
    sha = image_digest(image)
    cams = [cam_method]
    if strategy is not None and strategy.uses_classifier and not strategy.per_cam:
        cams += [cam for cam in STRATEGY_CAMS if cam != cam_method]
    key = (sha, str(getattr(segmenter, "name", type(segmenter).__name__)))
    cached = embeddings.get(key) if embeddings is not None else None
    result = ImagePass(image, classifier, segmenter, [] if strategy is None else [strategy], cams=cams,
                       embedding=cached,
                       cam_rng=lambda cam: make_rng(f"demo-{cam.lower()}", sha) if CAM_METHODS.get(cam).needs_rng else None,
                       seeds=("demo-strategy", sha, variant, cam_method), model_lock=model_lock)
    runs = []
    try:
        for item in result:
            if isinstance(item, CamMap) and item.error is not None:
                raise item.error       # the demo stops at a failed CAM (the grid records it and goes on)
            if isinstance(item, StrategyRun):
                runs.append(item)
    except ClassifierFailed as exc:
        raise exc.__cause__ from None
    timings = Timings(classify_s=result.seconds["classify"], cam_s=result.seconds["cams"],
                      embed_s=result.seconds["embed"], embedding_cached=cached is not None)
    if embeddings is not None and cached is None:
        embeddings.put(key, result.embedding)
    heatmap = np.asarray(result.heatmaps[cam_method], dtype=np.float32)
    t0 = time.perf_counter()
    prompts = generate_prompts(heatmap, params, prompt_rng(sha, cam_method, params))
    timings.prompts_s = time.perf_counter() - t0

    strategy_details: dict[str, Any] = {}
    if strategy is not None:
        run, = runs
        if run.error is not None:
            raise run.error
        # the strategy's final mask is the decoding of its last box: that box becomes the
        # automatic prompt the clinician refines (Reset returns to it)
        auto = PromptState.make(run.outcome.box, np.zeros((0, 2)), np.zeros(0, np.int64))
        strategy_details = {"name": variant, "confidence": float(run.outcome.confidence), **run.outcome.details}
    elif variant == "box":
        auto = PromptState.make(prompts.box, np.zeros((0, 2)), np.zeros(0, np.int64))
    else:
        auto = PromptState.make(prompts.box, prompts.points, prompts.point_labels)
    weights = str(getattr(classifier, "weights", ""))
    prediction = result.prediction
    meta = {
        "model": {"name": getattr(getattr(classifier, "spec", None), "name", classifier_label),
                  "weights": os.path.basename(weights) if os.path.sep in weights else weights,
                  "label": classifier_label},
        "cam": cam_method,
        "segmenter": key[1],
        "params": {"percentile": params.percentile, "num_points": params.num_points,
                   "amplification": params.amplification, "eps": params.eps, "variant": variant},
        "strategy": strategy_details,
        "prediction": {"class_index": int(prediction.class_index), "class_name": str(prediction.class_name),
                       "probability": float(prediction.probability)},
    }
    session = RefinementSession(image=image, segmenter=segmenter, embedding=result.embedding, auto=auto,
                                heatmap=heatmap, auto_prompts=prompts, meta=meta,
                                display_max_side=display_max_side, timings=timings)
    t1 = time.perf_counter()
    session.current_mask()
    timings.decode_s = time.perf_counter() - t1
    return session


@dataclass
class UserState:
    """Per-user state held in one ``gr.State``: the current session, the user's embedding cache and
    the user's private export folder (created lazily under ``export_root``)."""

    session: RefinementSession | None = None
    embeddings: EmbeddingCache = field(default_factory=EmbeddingCache)
    export_dir: Path | None = None
    source_name: str | None = None
    refinement: str | None = None      # the user's choice of refinement mode (None: the default)

    def ensure_export_dir(self, export_root: str | os.PathLike | None = None) -> Path:
        if self.export_dir is None or not self.export_dir.is_dir():
            root = None if export_root is None else str(export_root)
            if root is not None:
                os.makedirs(root, exist_ok=True)
            self.export_dir = Path(tempfile.mkdtemp(prefix="cam2seg-export-", dir=root))
        return self.export_dir

    def export(self, export_root: str | os.PathLike | None = None) -> tuple[Path, Path]:
        """Write ``<stem>_mask.png`` and ``<stem>_prompts.json`` into the private export folder."""
        if self.session is None:
            raise ValueError("no image loaded: upload an image first")
        folder = self.ensure_export_dir(export_root)
        stem = Path(self.source_name or "image").stem or "image"
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:64] or "image"
        return (self.session.export_mask_png(folder / f"{stem}_mask.png"),
                self.session.export_prompts_json(folder / f"{stem}_prompts.json"))

    def close(self) -> None:
        """Forget the image and delete the export folder (called when the browser session ends)."""
        self.session = None
        self.embeddings.clear()
        if self.export_dir is not None:
            shutil.rmtree(self.export_dir, ignore_errors=True)
            self.export_dir = None


def params_dict(params: PromptParams) -> dict[str, Any]:
    return asdict(params)


__all__ = [
    "PROMPTS_JSON_FORMAT", "ImageRejected", "PromptState", "Timings", "RefinementSession",
    "EmbeddingCache", "UserState", "analyse_image", "load_image_file", "check_image_array",
    "read_prompts_json", "render_overlay", "heatmap_to_rgb", "mask_contour",
    "prompt_rng", "redact_paths", "ALGORITHM1_VARIANTS", "STRATEGY_CAMS", "DEFAULT_DISPLAY_MAX_SIDE",
    "DEFAULT_DISPLAY_MIN_SIDE", "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_UPLOAD_BYTES", "MIN_IMAGE_SIDE", "BOX_RGB",
    "NEGATIVE_RGB", "POSITIVE_RGB",
]

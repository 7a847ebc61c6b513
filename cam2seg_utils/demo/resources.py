"""Shared, read-only resources of the demo (no gradio import): configuration, the model pool and
the bundled synthetic examples.

Models are shared by all users (they hold no per-image state); every per-image object lives in
the user's own :class:`~cam2seg_utils.demo.state.UserState`. CAM extraction registers hooks on the
classifier, so one lock per classifier serialises CAM passes between users.
"""
from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .session import DEFAULT_DISPLAY_MAX_SIDE
from .upload import DEFAULT_MAX_PIXELS

DEFAULT_CLASSIFIER = "tf_efficientnet_lite0"
DEFAULT_CLASSIFIER_WEIGHTS = "embedded"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class ClassifierChoice:
    """One entry of the classifier dropdown: a registry name and its weights
    (``"embedded"``, ``"imagenet"`` or a checkpoint path)."""

    name: str
    weights: str

    @property
    def label(self) -> str:
        w = self.weights
        if w not in ("embedded", "imagenet", "random"):
            w = f"checkpoint {Path(w).name}"
        elif w == "imagenet":
            w = "ImageNet (timm hub)"
        return f"{self.name} · {w}"


@dataclass
class DemoConfig:
    """Launch-time settings (from the command line or :func:`cam2seg_utils.demo.launch`)."""

    classifier: str = DEFAULT_CLASSIFIER
    classifier_weights: str = DEFAULT_CLASSIFIER_WEIGHTS
    segmenter: str = "litemedsam"
    segmenter_checkpoint: str | None = None
    device: str = "cpu"
    max_upload_mb: float = 20.0
    max_pixels: int = DEFAULT_MAX_PIXELS
    display_max_side: int = DEFAULT_DISPLAY_MAX_SIDE
    offer_hub_classifiers: bool = True
    n_examples: int = 4
    examples_dir: str | None = None
    work_dir: str | None = None
    extra_classifiers: list[ClassifierChoice] = field(default_factory=list)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def classifier_choices(self) -> list[ClassifierChoice]:
        """The configured classifier first, then the embedded default, then the other registered
        classifiers with ImageNet hub weights (these need a download once, or a warm cache)."""
        choices = [ClassifierChoice(self.classifier, self.classifier_weights), *self.extra_classifiers]
        default = ClassifierChoice(DEFAULT_CLASSIFIER, DEFAULT_CLASSIFIER_WEIGHTS)
        if default not in choices:
            choices.append(default)
        if self.offer_hub_classifiers:
            from ..models import list_classifiers

            for name in list_classifiers():
                c = ClassifierChoice(name, "imagenet")
                if c not in choices and name != DEFAULT_CLASSIFIER:
                    choices.append(c)
        return choices


class ModelPool:
    """Lazily built, shared classifiers and the segmenter; thread-safe."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._classifiers: dict[ClassifierChoice, Any] = {}
        self._cam_locks: dict[ClassifierChoice, threading.Lock] = {}
        self._segmenter: Any = None

    def classifier(self, choice: ClassifierChoice) -> tuple[Any, threading.Lock]:
        """``(Classifier, its CAM lock)``; builds it on first use (errors name model and weights)."""
        with self._lock:
            if choice not in self._classifiers:
                from ..models import build_classifier

                self._classifiers[choice] = build_classifier(choice.name, weights=choice.weights,
                                                             device=self.config.device)
                self._cam_locks[choice] = threading.Lock()
            return self._classifiers[choice], self._cam_locks[choice]

    def add_classifier(self, choice: ClassifierChoice, classifier: Any) -> None:
        """Register an already built classifier for ``choice`` (e.g. one a notebook loaded)."""
        with self._lock:
            self._classifiers[choice] = classifier
            self._cam_locks[choice] = threading.Lock()

    def set_segmenter(self, segmenter: Any) -> None:
        """Use an already built segmenter instead of building ``config.segmenter``."""
        with self._lock:
            self._segmenter = segmenter

    def segmenter(self) -> Any:
        with self._lock:
            if self._segmenter is None:
                from ..segmenters import build_segmenter

                self._segmenter = build_segmenter(self.config.segmenter,
                                                  checkpoint=self.config.segmenter_checkpoint,
                                                  device=self.config.device)
            return self._segmenter

    def warm_up(self) -> None:
        """Build the configured classifier and the segmenter now (fail fast at start-up)."""
        self.classifier(self.config.classifier_choices()[0])
        self.segmenter()


def private_temp_root() -> Path:
    """A private (mode 0700) temporary folder for this process: uploads and exports live there."""
    return Path(tempfile.mkdtemp(prefix="cam2seg-demo-"))


def ensure_examples(folder: str | os.PathLike, n_images: int = 4, seed: int = 0) -> list[Path]:
    """Synthetic dermoscopy-like examples in ``folder`` (generated on first use, then reused).

    Uses :func:`cam2seg_utils.data.generate_synthetic` (idempotent: an existing complete set with
    the same arguments is kept), so no image is committed to the project. Returns the image paths
    (``ISIC-2017_Training_Data/SYN_*.jpg``), sorted.
    """
    from ..data import generate_synthetic
    from ..data.isic import split_paths

    root = generate_synthetic(Path(folder), n_images=n_images, seed=seed, size_range=(360, 480), progress=False)
    data_dir = split_paths(root, "Training")[0]
    found = sorted(p for p in Path(data_dir).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise RuntimeError(f"generate_synthetic wrote no images under {data_dir}")
    return found[:n_images]


def default_examples_dir() -> Path:
    """``$CAM2SEG_DEMO_EXAMPLES`` or ``<user cache>/cam2seg/demo-examples``."""
    env = os.environ.get("CAM2SEG_DEMO_EXAMPLES")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cam2seg" / "demo-examples"


__all__ = ["ClassifierChoice", "DemoConfig", "ModelPool", "ensure_examples", "default_examples_dir",
           "private_temp_root", "DEFAULT_CLASSIFIER", "DEFAULT_CLASSIFIER_WEIGHTS"]

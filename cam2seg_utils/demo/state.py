"""Pure logic of the human-in-the-loop demo (no gradio import; unit-tested without a browser).

Coordinate conventions (as everywhere in cam2seg):

* images are ``uint8`` ``(H, W, 3)`` RGB; masks ``bool`` ``(H, W)``;
* a box is ``[x_min, y_min, x_max, y_max]`` in **original-image pixels** (x = column, y = row),
  inclusive pixel indices as float;
* points are ``(N, 2)`` float64 ``(x, y)`` in original-image pixels, labels ``(N,)`` int64 with
  1 = foreground (positive click) and 0 = background (negative click).

The displayed image may be smaller than the original (``display_scale`` < 1 for large photos, so
that every refinement click sends a small PNG) or larger (small images, up to 2x); :meth:`RefinementSession.display_to_image` maps a
click on the displayed image (gradio's ``SelectData.index``: ``(x, y)`` in displayed pixels) back to
original pixels, with pixel centres aligned: ``x = (x_d + 0.5) / s - 0.5``.

The image embedding is computed once per image (:func:`analyse_image`) and reused by every edit;
:class:`EmbeddingCache` lets a user re-run the automatic prompts (another CAM, other Algorithm 1
parameters) on the same image without a second encoder pass. Nothing here is module-level mutable
per-image state: every user holds their own :class:`UserState`.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..prompts import PromptParams, Prompts, generate_prompts
from ..seeding import make_rng

PROMPTS_JSON_FORMAT = "cam2seg-demo-prompts/1"
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Refuse decompression bombs: 50 megapixels is far above any dermoscopy photograph.
DEFAULT_MAX_PIXELS = 50_000_000
MIN_IMAGE_SIDE = 16
#: Longest side of the displayed image; larger photos are shown downscaled.
DEFAULT_DISPLAY_MAX_SIDE = 768
#: Small images are shown enlarged (at most 2x) to at least this longest side, for precise clicks.
DEFAULT_DISPLAY_MIN_SIDE = 512

#: Algorithm 1's two variants, or the name of any prompting strategy
#: (:data:`cam2seg_utils.prompting.STRATEGIES`, e.g. ``"prior-cam"``, the demo's default).
PromptVariant = str
ALGORITHM1_VARIANTS = ("box+points", "box")
#: The heatmaps a multi-CAM strategy gets in the demo (the CAMs its ranking weights were fitted on),
#: plus the CAM chosen in the UI.
STRATEGY_CAMS = ("gradcam", "gradcam++")


class ImageRejected(ValueError):
    """An upload that is not usable as an image; the message names the file and the problem."""


_ABSOLUTE_PATH = re.compile(r"""(?<![\w:/.~])(?:[A-Za-z]:\\|/)[^\s'"()<>,;:|]+""")


def redact_paths(text: str) -> str:
    """``text`` with every absolute file path replaced by its last component, so that messages
    shown to a user never reveal the server's folders (the full message goes to the server log)."""
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0).replace("\\", "/")).name or "<path>", str(text))


# --------------------------------------------------------------------------------------------
# image input
# --------------------------------------------------------------------------------------------

def image_sha256(image: np.ndarray) -> str:
    """SHA-256 of the decoded pixels (shape + RGB bytes), independent of the file format."""
    image = np.ascontiguousarray(image)
    digest = hashlib.sha256()
    digest.update(f"{image.shape}|{image.dtype}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def load_image_file(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
                    max_pixels: int = DEFAULT_MAX_PIXELS, display_name: str | None = None) -> np.ndarray:
    """Read an uploaded file as ``uint8`` ``(H, W, 3)`` RGB (EXIF orientation applied).

    Raises:
        ImageRejected: the file is missing, empty, larger than ``max_bytes``, not an image PIL can
            decode, larger than ``max_pixels`` or smaller than 16 px on a side. The message names
            the file (``display_name`` if given, e.g. the user's original file name).
    """
    path = Path(path)
    name = display_name or path.name
    if not path.is_file():
        raise ImageRejected(f"{name}: file not found")
    size = path.stat().st_size
    if size == 0:
        raise ImageRejected(f"{name}: the file is empty")
    if size > max_bytes:
        raise ImageRejected(f"{name}: the file is {size / 2**20:.1f} MB; the limit is "
                            f"{max_bytes / 2**20:.1f} MB")
    try:
        with Image.open(path) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise ImageRejected(f"{name}: {width}x{height} pixels is more than the limit of "
                                    f"{max_pixels / 1e6:.0f} megapixels")
            probe.verify()
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA", "P"):
                img = img.convert("RGBA")
                background = Image.new("RGBA", img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, img)
            array = np.array(img.convert("RGB"), dtype=np.uint8)  # a writable copy
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        reason = str(err).replace(str(path), name)   # PIL quotes the server-side upload path
        raise ImageRejected(f"{name}: not a readable image ({type(err).__name__}: {redact_paths(reason)})") from None
    if min(array.shape[:2]) < MIN_IMAGE_SIDE:
        raise ImageRejected(f"{name}: {array.shape[1]}x{array.shape[0]} pixels is too small "
                            f"(at least {MIN_IMAGE_SIDE} px on each side)")
    return np.ascontiguousarray(array)


def check_image_array(image: np.ndarray) -> np.ndarray:
    """Validate an in-memory image: ``uint8`` ``(H, W, 3)``; returns it contiguous."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageRejected(f"image must be uint8 (H, W, 3) RGB, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        raise ImageRejected(f"image {image.shape[1]}x{image.shape[0]} is too small")
    return np.ascontiguousarray(image)


# --------------------------------------------------------------------------------------------
# prompt state
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PromptState:
    """One immutable snapshot of the prompts sent to the segmenter.

    Attributes:
        box: ``(4,)`` float64 ``[x_min, y_min, x_max, y_max]`` original pixels, or ``None``.
        points: ``(N, 2)`` float64 ``(x, y)`` original pixels (``N`` may be 0).
        point_labels: ``(N,)`` int64, 1 = positive (foreground), 0 = negative (background).
    """

    box: np.ndarray | None
    points: np.ndarray
    point_labels: np.ndarray

    @staticmethod
    def make(box: Any, points: Any, point_labels: Any) -> "PromptState":
        b = None if box is None else np.asarray(box, dtype=np.float64).reshape(4).copy()
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2).copy()
        lab = np.asarray(point_labels, dtype=np.int64).reshape(-1).copy()
        if len(p) != len(lab):
            raise ValueError(f"{len(p)} points but {len(lab)} labels")
        if not np.all(np.isin(lab, (0, 1))):
            raise ValueError(f"point labels must be 0 or 1, got {lab.tolist()}")
        for arr in (b, p, lab):
            if arr is not None:
                arr.setflags(write=False)
        return PromptState(b, p, lab)

    def key(self) -> bytes:
        """Hashable identity of the prompts (for the per-session mask cache)."""
        box = b"none" if self.box is None else self.box.tobytes()
        return box + b"|" + self.points.tobytes() + b"|" + self.point_labels.tobytes()

    @property
    def is_empty(self) -> bool:
        return self.box is None and len(self.points) == 0

    def to_json(self) -> dict[str, Any]:
        return {"box": None if self.box is None else [float(v) for v in self.box],
                "points": [[float(x), float(y)] for x, y in self.points],
                "point_labels": [int(v) for v in self.point_labels]}


@dataclass
class Timings:
    """Seconds spent in each step of the automatic pass (one image)."""

    classify_s: float = 0.0
    cam_s: float = 0.0
    prompts_s: float = 0.0
    embed_s: float = 0.0
    decode_s: float = 0.0
    embedding_cached: bool = False

    @property
    def total_s(self) -> float:
        return self.classify_s + self.cam_s + self.prompts_s + self.embed_s + self.decode_s


@dataclass
class RefinementSession:
    """Everything one user needs to refine one image's mask.

    ``image`` ``(H, W, 3)`` uint8; ``heatmap`` ``(H, W)`` float32 in [0, 1] (or ``None`` when the
    prompts did not come from a CAM); ``embedding`` the segmenter's image embedding, computed once
    and reused for every edit. ``history`` is the undo stack of earlier :class:`PromptState`.
    """

    image: np.ndarray
    segmenter: Any                       # cam2seg_utils.segmenters.base.Segmenter
    embedding: Any                       # ImageEmbedding
    auto: PromptState
    heatmap: np.ndarray | None = None
    auto_prompts: Prompts | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    display_max_side: int = DEFAULT_DISPLAY_MAX_SIDE
    display_min_side: int = DEFAULT_DISPLAY_MIN_SIDE
    max_history: int = 200
    timings: Timings = field(default_factory=Timings)
    #: the refinement mode (cam2seg_utils.refinement.REFINEMENT_MODES) turning the clicks into the mask
    refinement: str = field(default_factory=lambda: _default_mode())
    current: PromptState = field(init=False)
    history: list[PromptState] = field(init=False, default_factory=list)
    pending_corner: tuple[float, float] | None = field(init=False, default=None)
    sha256: str = field(init=False)
    _masks: "OrderedDict[bytes, Any]" = field(init=False, repr=False, default_factory=OrderedDict)
    _replay: Any = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        from .refine import ClickReplay

        self._replay = ClickReplay(self.segmenter, self.embedding)
        self.image = check_image_array(self.image)
        if self.heatmap is not None and self.heatmap.shape != self.image.shape[:2]:
            raise ValueError(f"heatmap shape {self.heatmap.shape} != image shape {self.image.shape[:2]}")
        self.current = self.auto
        self.sha256 = image_sha256(self.image)

    # -- geometry ---------------------------------------------------------------------------
    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def display_scale(self) -> float:
        """Displayed size / original size: large photos shrink to ``display_max_side``, small
        images grow (at most 2x) towards ``display_min_side``."""
        longest = max(self.height, self.width)
        grow = min(2.0, max(1.0, self.display_min_side / longest))
        return min(self.display_max_side / longest, grow)

    @property
    def display_size(self) -> tuple[int, int]:
        """``(H_d, W_d)`` of the rendered view."""
        s = self.display_scale
        return max(1, round(self.height * s)), max(1, round(self.width * s))

    def display_to_image(self, x_d: float, y_d: float) -> tuple[float, float]:
        """Map a click ``(x, y)`` on the displayed view to original-image pixels (clipped)."""
        hd, wd = self.display_size
        sx, sy = wd / self.width, hd / self.height
        x = (float(x_d) + 0.5) / sx - 0.5
        y = (float(y_d) + 0.5) / sy - 0.5
        return (float(np.clip(round(x, 2), 0, self.width - 1)),
                float(np.clip(round(y, 2), 0, self.height - 1)))

    def _check_xy(self, x: float, y: float) -> tuple[float, float]:
        x, y = float(x), float(y)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"point ({x}, {y}) is not finite")
        if not (0 <= x <= self.width - 1 and 0 <= y <= self.height - 1):
            raise ValueError(f"point (x={x}, y={y}) is outside the {self.width}x{self.height} image")
        return x, y

    # -- edits ------------------------------------------------------------------------------
    def _push(self, new: PromptState) -> None:
        self.history.append(self.current)
        if len(self.history) > self.max_history:
            del self.history[0]
        self.current = new
        self.pending_corner = None

    def add_point(self, x: float, y: float, positive: bool = True) -> None:
        """Add a positive (label 1) or negative (label 0) point at ``(x, y)`` original pixels."""
        x, y = self._check_xy(x, y)
        cur = self.current
        self._push(PromptState.make(cur.box, np.vstack([cur.points, [[x, y]]]),
                                    np.append(cur.point_labels, 1 if positive else 0)))

    def set_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Replace the box; corners in any order are sorted, then clipped to the image."""
        vals = [float(v) for v in (x0, y0, x1, y1)]
        if not all(math.isfinite(v) for v in vals):
            raise ValueError(f"box {vals} is not finite")
        xa, xb = sorted((vals[0], vals[2]))
        ya, yb = sorted((vals[1], vals[3]))
        box = [np.clip(xa, 0, self.width - 1), np.clip(ya, 0, self.height - 1),
               np.clip(xb, 0, self.width - 1), np.clip(yb, 0, self.height - 1)]
        cur = self.current
        self._push(PromptState.make(box, cur.points, cur.point_labels))

    def box_click(self, x: float, y: float) -> bool:
        """Two-click box drawing: the first click stores a corner, the second sets the box.

        Returns True when the click completed a box.
        """
        x, y = self._check_xy(x, y)
        if self.pending_corner is None:
            self.pending_corner = (x, y)
            return False
        (xa, ya), self.pending_corner = self.pending_corner, None
        self.set_box(xa, ya, x, y)
        return True

    def clear_box(self) -> None:
        """Drop the box (segment from the points alone)."""
        if self.current.box is not None:
            cur = self.current
            self._push(PromptState.make(None, cur.points, cur.point_labels))

    def clear_points(self) -> None:
        """Drop every point, keep the box."""
        if len(self.current.points):
            self._push(PromptState.make(self.current.box, np.zeros((0, 2)), np.zeros(0, np.int64)))

    def apply_prompts(self, box: Any, points: Any, point_labels: Any) -> None:
        """Replace all prompts at once (e.g. from an exported JSON); undoable."""
        new = PromptState.make(box, points, point_labels)
        if new.box is not None:
            if not np.all(np.isfinite(new.box)):
                raise ValueError(f"box {new.box.tolist()} is not finite")
        for x, y in new.points:
            self._check_xy(x, y)
        self._push(new)

    def remove_point(self, index: int) -> None:
        """Remove click number ``index`` (0-based, in click order), keeping the others; undoable.
        The mask is then the replay of the remaining clicks."""
        cur = self.current
        if not 0 <= int(index) < len(cur.points):
            raise ValueError(f"there is no click number {int(index) + 1} (the prompts hold {len(cur.points)})")
        keep = np.arange(len(cur.points)) != int(index)
        self._push(PromptState.make(cur.box, cur.points[keep], cur.point_labels[keep]))

    def set_refinement(self, mode: str) -> None:
        """Switch the refinement mode (the clicks stay; the mask is their replay with ``mode``)."""
        from ..refinement import REFINEMENT_MODES

        REFINEMENT_MODES.get(mode)  # KeyError naming the known modes
        self.refinement = mode

    def undo(self) -> bool:
        """Return to the previous prompts; False when there is nothing to undo."""
        if self.pending_corner is not None:
            self.pending_corner = None
            return True
        if not self.history:
            return False
        self.current = self.history.pop()
        return True

    def reset(self) -> None:
        """Back to the automatic (Algorithm 1) prompts; undoable."""
        if self.current.key() != self.auto.key():
            self._push(self.auto)
        self.pending_corner = None

    # -- segmentation -----------------------------------------------------------------------
    def segment(self, prompts: PromptState | None = None):
        """The refinement state for ``prompts`` (default: the current ones), cached per prompt
        state and mode: the box is the start (none: the whole-image box), the points are the
        clicks in order, and the active :attr:`refinement` mode turns them into the mask
        (:class:`~.refine.ClickReplay`, the code the ``hitl`` experiment measures).

        Returns a :class:`~cam2seg_utils.refinement.RefinementState` (``mask`` ``(H, W)`` bool,
        ``box``, ``last``), or ``None`` when there is no prompt at all (the mask is then empty).
        """
        prompts = self.current if prompts is None else prompts
        if prompts.is_empty:
            return None
        key = self.refinement.encode() + b"|" + prompts.key()
        hit = self._masks.get(key)
        if hit is not None:
            self._masks.move_to_end(key)
            return hit
        result = self._replay.state(self.refinement, prompts.box, prompts.points, prompts.point_labels)
        self._masks[key] = result
        while len(self._masks) > 64:
            self._masks.popitem(last=False)
        return result

    def current_mask(self) -> np.ndarray:
        """``(H, W)`` bool mask of the current prompts (all False when there is no prompt)."""
        result = self.segment()
        if result is None:
            return np.zeros(self.image.shape[:2], dtype=bool)
        return np.asarray(result.mask, dtype=bool)

    def mask_area(self) -> int:
        return int(self.current_mask().sum())

    # -- export -----------------------------------------------------------------------------
    def export_mask_png(self, path: str | os.PathLike) -> Path:
        """Write the current mask as an 8-bit PNG (0 background, 255 lesion) at original size."""
        path = Path(path)
        mask = self.current_mask()
        tmp = path.with_name(path.name + ".part")
        Image.fromarray(mask.astype(np.uint8) * 255).save(tmp, format="PNG")
        os.replace(tmp, path)
        return path

    def prompts_record(self) -> dict[str, Any]:
        """The JSON-serialisable description of the current prompts and how they were made."""
        record: dict[str, Any] = {
            "format": PROMPTS_JSON_FORMAT,
            "coordinates": "original-image pixels; box [x_min, y_min, x_max, y_max]; "
                           "points (x, y) with x = column, y = row; labels 1 = foreground, 0 = background",
            "image_sha256": self.sha256,
            "image_size": {"height": self.height, "width": self.width},
            **self.current.to_json(),
            "mask_area_px": self.mask_area(),
            "automatic": self.auto.to_json(),
        }
        if self.auto_prompts is not None:
            record["automatic"]["threshold"] = float(self.auto_prompts.threshold)
            record["automatic"]["used_fallback"] = bool(self.auto_prompts.used_fallback)
        record.update({k: v for k, v in self.meta.items() if k not in record})
        return record

    def export_prompts_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`prompts_record` as JSON (atomic)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(self.prompts_record(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    # -- rendering --------------------------------------------------------------------------
    def render(self, *, show_heatmap: bool = True, show_mask: bool = True,
               show_prompts: bool = True, heatmap_alpha: float = 0.35) -> np.ndarray:
        """The view shown to the user: ``(H_d, W_d, 3)`` uint8 RGB at :attr:`display_size`."""
        return render_overlay(
            self.image, heatmap=self.heatmap if show_heatmap else None,
            mask=self.current_mask() if show_mask else None,
            box=self.current.box if show_prompts else None,
            points=self.current.points if show_prompts else None,
            point_labels=self.current.point_labels if show_prompts else None,
            pending_corner=self.pending_corner if show_prompts else None,
            display_size=self.display_size, heatmap_alpha=heatmap_alpha)

    def status(self) -> dict[str, Any]:
        """Numbers shown in the UI (and read by the end-to-end test)."""
        from .refine import mode_label

        pos = int((self.current.point_labels == 1).sum())
        result = self.segment()
        return {"mask_area_px": self.mask_area(), "clicks": int(len(self.current.point_labels)),
                "refinement_mode": mode_label(self.refinement),
                "last_step": None if result is None else result.last, "positive_points": pos,
                "negative_points": int(len(self.current.point_labels) - pos),
                "box": None if self.current.box is None else [round(float(v), 1) for v in self.current.box],
                "undo_depth": len(self.history), "pending_corner": self.pending_corner}


def read_prompts_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by :meth:`RefinementSession.export_prompts_json` (checks the format)."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable prompts JSON ({err})") from None
    if not isinstance(record, dict) or record.get("format") != PROMPTS_JSON_FORMAT:
        raise ValueError(f"{path}: not a cam2seg demo prompts file (format {PROMPTS_JSON_FORMAT!r} expected)")
    return record


# --------------------------------------------------------------------------------------------
# rendering (numpy only)
# --------------------------------------------------------------------------------------------

_JET_ANCHORS = np.array([[0.0, 0, 0, 128], [0.125, 0, 0, 255], [0.375, 0, 255, 255],
                         [0.625, 255, 255, 0], [0.875, 255, 0, 0], [1.0, 128, 0, 0]])
_JET_LUT = np.stack([np.interp(np.linspace(0, 1, 256), _JET_ANCHORS[:, 0], _JET_ANCHORS[:, c])
                     for c in (1, 2, 3)], axis=1).astype(np.uint8)
POSITIVE_RGB = (40, 220, 60)
NEGATIVE_RGB = (235, 40, 40)
BOX_RGB = (0, 160, 255)
CONTOUR_RGB = (255, 235, 0)
PENDING_RGB = (255, 255, 255)


def heatmap_to_rgb(heatmap: np.ndarray) -> np.ndarray:
    """``(H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8 with a jet colour map."""
    idx = np.clip(np.nan_to_num(heatmap, nan=0.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return _JET_LUT[idx]


def _resize_rgb(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == tuple(size_hw):
        return image
    return np.asarray(Image.fromarray(image).resize((size_hw[1], size_hw[0]), Image.BILINEAR))


def _resize_map(values: np.ndarray, size_hw: tuple[int, int], nearest: bool) -> np.ndarray:
    if values.shape == tuple(size_hw):
        return values
    if nearest:
        rows = np.minimum((np.arange(size_hw[0]) + 0.5) * values.shape[0] / size_hw[0], values.shape[0] - 1)
        cols = np.minimum((np.arange(size_hw[1]) + 0.5) * values.shape[1] / size_hw[1], values.shape[1] - 1)
        return values[rows.astype(int)[:, None], cols.astype(int)[None, :]]
    img = Image.fromarray(values.astype(np.float32))
    return np.asarray(img.resize((size_hw[1], size_hw[0]), Image.BILINEAR))


def mask_contour(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Boundary pixels of ``mask`` (inside the mask, within ``thickness`` px of the outside)."""
    mask = np.asarray(mask, dtype=bool)
    inner = mask.copy()
    for _ in range(max(1, thickness)):
        shrunk = inner.copy()
        shrunk[1:, :] &= inner[:-1, :]
        shrunk[:-1, :] &= inner[1:, :]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        shrunk[0, :] = shrunk[-1, :] = False
        shrunk[:, 0] = shrunk[:, -1] = False
        inner = shrunk
    return mask & ~inner


def _disk(canvas: np.ndarray, cx: float, cy: float, radius: float, rgb: tuple[int, int, int],
          outline: tuple[int, int, int] | None = (255, 255, 255)) -> None:
    h, w = canvas.shape[:2]
    r_out = radius + (1.5 if outline else 0)
    y0, y1 = max(0, int(cy - r_out - 1)), min(h, int(cy + r_out + 2))
    x0, x1 = max(0, int(cx - r_out - 1)), min(w, int(cx + r_out + 2))
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d2 = (xx - cx) ** 2 + (yy - cy) ** 2
    patch = canvas[y0:y1, x0:x1]
    if outline:
        patch[d2 <= r_out ** 2] = outline
    patch[d2 <= radius ** 2] = rgb


def _rect(canvas: np.ndarray, x0: float, y0: float, x1: float, y1: float, rgb: tuple[int, int, int],
          thickness: int) -> None:
    h, w = canvas.shape[:2]
    xa, xb = int(round(min(x0, x1))), int(round(max(x0, x1)))
    ya, yb = int(round(min(y0, y1))), int(round(max(y0, y1)))
    xa, xb = np.clip([xa, xb], 0, w - 1)
    ya, yb = np.clip([ya, yb], 0, h - 1)
    t = max(1, thickness)
    canvas[ya:min(ya + t, yb + 1), xa:xb + 1] = rgb
    canvas[max(yb - t + 1, ya):yb + 1, xa:xb + 1] = rgb
    canvas[ya:yb + 1, xa:min(xa + t, xb + 1)] = rgb
    canvas[ya:yb + 1, max(xb - t + 1, xa):xb + 1] = rgb


def render_overlay(image: np.ndarray, *, heatmap: np.ndarray | None = None, mask: np.ndarray | None = None,
                   box: np.ndarray | None = None, points: np.ndarray | None = None,
                   point_labels: np.ndarray | None = None,
                   pending_corner: tuple[float, float] | None = None,
                   display_size: tuple[int, int] | None = None, heatmap_alpha: float = 0.35,
                   mask_alpha: float = 0.25) -> np.ndarray:
    """Draw the heatmap, mask, box and points on ``image``.

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
        heatmap: ``(H, W)`` float in [0, 1], blended with a jet colour map.
        mask: ``(H, W)`` bool; tinted and outlined in yellow.
        box: ``[x_min, y_min, x_max, y_max]`` original pixels (blue rectangle).
        points: ``(N, 2)`` ``(x, y)`` original pixels; ``point_labels`` 1 -> green, 0 -> red.
        pending_corner: first corner ``(x, y)`` of a box being drawn (white dot).
        display_size: ``(H_d, W_d)`` of the output (default: original size).

    Returns:
        ``(H_d, W_d, 3)`` uint8 RGB.
    """
    h, w = image.shape[:2]
    size = (h, w) if display_size is None else (int(display_size[0]), int(display_size[1]))
    sy, sx = size[0] / h, size[1] / w
    canvas = _resize_rgb(np.ascontiguousarray(image, dtype=np.uint8), size).astype(np.float32)
    if heatmap is not None:
        hm = _resize_map(np.asarray(heatmap, dtype=np.float32), size, nearest=False)
        canvas = (1 - heatmap_alpha) * canvas + heatmap_alpha * heatmap_to_rgb(hm).astype(np.float32)
    out = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    thick = max(1, round(max(size) / 256))
    if mask is not None:
        m = _resize_map(np.asarray(mask, dtype=bool), size, nearest=True)
        if m.any():
            tint = np.array(CONTOUR_RGB, dtype=np.float32)
            out[m] = np.clip((1 - mask_alpha) * out[m].astype(np.float32) + mask_alpha * tint + 0.5,
                             0, 255).astype(np.uint8)
            out[mask_contour(m, thick)] = CONTOUR_RGB
    if box is not None:
        b = np.asarray(box, dtype=np.float64)
        _rect(out, (b[0] + 0.5) * sx - 0.5, (b[1] + 0.5) * sy - 0.5,
              (b[2] + 0.5) * sx - 0.5, (b[3] + 0.5) * sy - 0.5, BOX_RGB, thick)
    radius = max(3.0, max(size) / 110)
    if points is not None and len(points):
        labels = np.ones(len(points), np.int64) if point_labels is None else np.asarray(point_labels)
        for (x, y), lab in zip(np.asarray(points, dtype=np.float64), labels):
            _disk(out, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, radius,
                  POSITIVE_RGB if lab == 1 else NEGATIVE_RGB)
    if pending_corner is not None:
        x, y = pending_corner
        _disk(out, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5, radius * 0.8, PENDING_RGB, outline=BOX_RGB)
    return out


# --------------------------------------------------------------------------------------------
# the automatic pass (Algorithm 1 + segmenter) and per-user state
# --------------------------------------------------------------------------------------------

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


def _default_mode() -> str:
    from ..refinement import DEFAULT_MODE

    return DEFAULT_MODE


def prompt_rng(sha256: str, cam_method: str, params: PromptParams) -> np.random.Generator:
    """The generator for Algorithm 1's sampling: fixed per image, CAM and parameters."""
    return make_rng("demo-prompts", sha256, cam_method, params.percentile, params.num_points,
                    params.amplification)


def analyse_image(image: np.ndarray, classifier: Any, segmenter: Any, *, cam_method: str = "gradcam",
                  params: PromptParams | None = None, variant: PromptVariant = "box+points",
                  classifier_label: str | None = None, embeddings: EmbeddingCache | None = None,
                  display_max_side: int = DEFAULT_DISPLAY_MAX_SIDE, model_lock: Any = None) -> RefinementSession:
    """Algorithm 1 on one image, then the first mask: returns a ready :class:`RefinementSession`.

    Steps: classifier prediction (argmax = CAM target), CAM heatmap at the original size,
    :func:`~cam2seg_utils.prompts.generate_prompts` (rng from :func:`prompt_rng`), image embedding
    (taken from ``embeddings`` when this image was embedded before), first decoder call.

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
    from ..cams import compute_heatmap

    image = check_image_array(image)
    params = PromptParams() if params is None else params
    from ..prompting import STRATEGIES

    if variant not in ALGORITHM1_VARIANTS and variant not in STRATEGIES:
        raise ValueError(f"variant must be 'box+points', 'box' or a strategy ({', '.join(STRATEGIES.names())}), "
                         f"got {variant!r}")
    strategy = None if variant in ALGORITHM1_VARIANTS else STRATEGIES.get(variant)()
    sha = image_sha256(image)
    timings = Timings()
    lock = model_lock if model_lock is not None else _NullLock()
    with lock:
        t0 = time.perf_counter()
        prediction = classifier.predict(image)
        t1 = time.perf_counter()
        rng_cam = make_rng("demo-randomcam", sha) if cam_method.lower() == "randomcam" else None
        heat = compute_heatmap(classifier, image, cam_method, target_class=int(prediction.class_index),
                               rng=rng_cam)
        extra_heatmaps = {}
        if strategy is not None and strategy.uses_classifier and not strategy.per_cam:
            for cam in STRATEGY_CAMS:
                if cam != cam_method:
                    extra_heatmaps[cam] = compute_heatmap(classifier, image, cam,
                                                          target_class=int(prediction.class_index)).heatmap
        t2 = time.perf_counter()
    timings.classify_s, timings.cam_s = t1 - t0, t2 - t1
    heatmap = np.asarray(heat.heatmap, dtype=np.float32)
    t2 = time.perf_counter()
    prompts = generate_prompts(heatmap, params, prompt_rng(sha, cam_method, params))
    timings.prompts_s = time.perf_counter() - t2

    key = (sha, str(getattr(segmenter, "name", type(segmenter).__name__)))
    embedding = embeddings.get(key) if embeddings is not None else None
    timings.embedding_cached = embedding is not None
    if embedding is None:
        t3 = time.perf_counter()
        embedding = segmenter.embed(image)
        timings.embed_s = time.perf_counter() - t3
        if embeddings is not None:
            embeddings.put(key, embedding)

    strategy_details: dict[str, Any] = {}
    if strategy is not None:
        from ..prompting import PromptContext

        heatmaps = {} if not strategy.uses_classifier else {cam_method: heatmap, **extra_heatmaps}
        ctx = PromptContext(image, embedding, segmenter, heatmaps, make_rng("demo-strategy", sha, variant, cam_method))
        outcome = strategy(ctx)
        # the strategy's final mask is the decoding of its last box: that box becomes the
        # automatic prompt the clinician refines (Reset returns to it)
        auto = PromptState.make(outcome.box, np.zeros((0, 2)), np.zeros(0, np.int64))
        strategy_details = {"name": variant, "confidence": float(outcome.confidence), **outcome.details}
    elif variant == "box":
        auto = PromptState.make(prompts.box, np.zeros((0, 2)), np.zeros(0, np.int64))
    else:
        auto = PromptState.make(prompts.box, prompts.points, prompts.point_labels)
    weights = str(getattr(classifier, "weights", ""))
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
    session = RefinementSession(image=image, segmenter=segmenter, embedding=embedding, auto=auto,
                                heatmap=heatmap, auto_prompts=prompts, meta=meta,
                                display_max_side=display_max_side, timings=timings)
    t4 = time.perf_counter()
    session.current_mask()
    timings.decode_s = time.perf_counter() - t4
    return session


class _NullLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


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
    "image_sha256", "read_prompts_json", "render_overlay", "heatmap_to_rgb", "mask_contour",
    "prompt_rng",
]

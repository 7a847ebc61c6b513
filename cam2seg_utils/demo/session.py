"""One user's refinement of one image: the prompts, their undo history, the masks, the exports.

Coordinate conventions (as everywhere in cam2seg):

* images are ``uint8`` ``(H, W, 3)`` RGB; masks ``bool`` ``(H, W)``;
* a box is ``[x_min, y_min, x_max, y_max]`` in **original-image pixels** (x = column, y = row),
  inclusive pixel indices as float;
* points are ``(N, 2)`` float64 ``(x, y)`` in original-image pixels, labels ``(N,)`` int64 with
  1 = foreground (positive click) and 0 = background (negative click).

The displayed image may be smaller than the original (``display_scale`` < 1 for large photos, so
that every refinement click sends a small PNG) or larger (small images, up to 2x);
:meth:`RefinementSession.display_to_image` maps a click on the displayed image (gradio's
``SelectData.index``: ``(x, y)`` in displayed pixels) back to original pixels, with pixel centres
aligned: ``x = (x_d + 0.5) / s - 0.5``. Every edit is undoable and only re-runs the mask decoder
on the image embedding computed once.
"""
from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..atomic import atomic_open
from ..file_digest import image_digest
from ..prompting.algorithm1 import Prompts
from .refine import ClickReplay, mode_label
from .render import render_overlay
from .upload import check_image_array

__all__ = ["PROMPTS_JSON_FORMAT", "DEFAULT_DISPLAY_MAX_SIDE", "DEFAULT_DISPLAY_MIN_SIDE", "PromptState", "Timings",
           "RefinementSession", "read_prompts_json"]

PROMPTS_JSON_FORMAT = "cam2seg-demo-prompts/1"
#: Longest side of the displayed image; larger photos are shown downscaled.
DEFAULT_DISPLAY_MAX_SIDE = 768
#: Small images are shown enlarged (at most 2x) to at least this longest side, for precise clicks.
DEFAULT_DISPLAY_MIN_SIDE = 512


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
        self._replay = ClickReplay(self.segmenter, self.embedding)
        self.image = check_image_array(self.image)
        if self.heatmap is not None and self.heatmap.shape != self.image.shape[:2]:
            raise ValueError(f"heatmap shape {self.heatmap.shape} != image shape {self.image.shape[:2]}")
        self.current = self.auto
        self.sha256 = image_digest(self.image)

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
        """Write the current mask as an 8-bit PNG (0 background, 255 lesion) at original size (atomic)."""
        path = Path(path)
        mask = self.current_mask()
        with atomic_open(path, "wb") as fh:
            Image.fromarray(mask.astype(np.uint8) * 255).save(fh, format="PNG")
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
            "refinement_mode": self.refinement,
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
        with atomic_open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(self.prompts_record(), indent=2) + "\n")
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
        pos = int((self.current.point_labels == 1).sum())
        result = self.segment()
        return {"mask_area_px": self.mask_area(), "clicks": int(len(self.current.point_labels)),
                "refinement_mode": mode_label(self.refinement),
                "last_step": None if result is None else result.last, "positive_points": pos,
                "negative_points": int(len(self.current.point_labels) - pos),
                "box": None if self.current.box is None else [round(float(v), 1) for v in self.current.box],
                "undo_depth": len(self.history), "pending_corner": self.pending_corner}


def _default_mode() -> str:
    from ..refinement import DEFAULT_MODE

    return DEFAULT_MODE


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

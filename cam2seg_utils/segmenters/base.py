"""The promptable-segmenter interface shared by LiteMedSAM, MedSAM and SAM.

One image is encoded once (:meth:`Segmenter.embed`, the expensive image encoder); any number of
prompts are then decoded against that embedding (:meth:`Segmenter.segment`, or
:meth:`Segmenter.segment_batch` for ``B`` prompts in **one** decoder call).

Conventions (see ``docs/ARCHITECTURE.md``):

* images: ``numpy.ndarray`` ``uint8`` ``(H, W, 3)`` RGB. A grayscale ``(H, W)`` or ``(H, W, 1)``
  ``uint8`` image is accepted and stacked to three identical channels; anything else raises
  ``ValueError``.
* boxes: ``[x_min, y_min, x_max, y_max]`` in original-image pixels, x = column, y = row.
* points: ``(N, 2)`` of ``(x, y)`` in original-image pixels; labels ``(N,)``: 1 foreground,
  0 background.
* Boxes and points that reach outside the image are **clipped** to ``[0, W-1] x [0, H-1]``;
  a box that does not overlap the image at all, or has ``x_min > x_max`` / ``y_min > y_max``,
  raises ``ValueError``.
* masks: ``bool`` ``(H, W)`` at the original image size, ``sigmoid(logits) > 0.5`` where the
  logits are the decoder's low-resolution logits resized to the image (never a percentile cut).
* The decoder always runs with ``multimask_output=False`` (one mask per prompt, the output
  MedSAM/LiteMedSAM were trained for; for SAM this is SamPredictor's choice for a box prompt).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .decoder import decode_low_res

LOW_RES_SIZE = 256  # the SAM-family mask decoder emits 256x256 low-resolution logits


class CheckpointNotFoundError(FileNotFoundError):
    """A segmenter checkpoint is missing; the message names the expected file and where to get it."""


@dataclass
class ImageEmbedding:
    """The image encoder's output for one image.

    features: ``(1, 256, 64, 64)`` float32 tensor on the segmenter's device.
    original_size: ``(H, W)`` of the image given to :meth:`Segmenter.embed`.
    input_size: ``(h, w)`` of the resized image inside the model canvas, before padding,
        in model pixels (LiteMedSAM: longest side 256; SAM: longest side 1024; MedSAM: (1024, 1024)).
    model_size: side of the square model canvas: 256 (LiteMedSAM) or 1024 (SAM / MedSAM).
    segmenter: name of the segmenter that produced it; other segmenters refuse it.
    """

    features: torch.Tensor
    original_size: Tuple[int, int]
    input_size: Tuple[int, int]
    model_size: int
    segmenter: str


@dataclass
class SegmentationResult:
    """One decoded mask.

    mask: ``(H, W)`` bool at the original image size, ``sigmoid(logits) > 0.5``.
    predicted_iou: the decoder's IoU-head estimate for this mask (a regression output: it can
        fall slightly outside ``[0, 1]``).
    low_res_logits: ``(256, 256)`` float32 decoder logits on the model canvas (padded frame);
        pass them back as ``mask_input`` to refine with a mask prompt.
    """

    mask: np.ndarray
    predicted_iou: float
    low_res_logits: np.ndarray


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Validate an image and return it as a contiguous ``(H, W, 3)`` uint8 RGB array.

    ``(H, W)`` and ``(H, W, 1)`` uint8 grayscale images are stacked to three channels.
    Raises ``ValueError`` for any other shape, for non-uint8 dtypes, or for empty images.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy.ndarray (H, W, 3) uint8, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"image must have dtype uint8 (RGB 0..255), got {image.dtype} with shape {image.shape}; "
            "convert floats with (img * 255).round().astype(np.uint8) if they are in [0, 1]"
        )
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3) RGB (or (H, W) grayscale), got {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image is empty: shape {image.shape}")
    return np.ascontiguousarray(image)


def _clip_boxes(boxes: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
    """Validate ``(B, 4)`` boxes ``[x_min, y_min, x_max, y_max]`` and clip them to the image."""
    h, w = original_size
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (B, 4) [x_min, y_min, x_max, y_max], got {boxes.shape}")
    if not np.all(np.isfinite(boxes)):
        raise ValueError(f"boxes contain NaN or inf: {boxes.tolist()}")
    bad = (boxes[:, 0] > boxes[:, 2]) | (boxes[:, 1] > boxes[:, 3])
    if bad.any():
        raise ValueError(
            f"box must satisfy x_min <= x_max and y_min <= y_max ([x_min, y_min, x_max, y_max]), "
            f"got {boxes[bad][0].tolist()}"
        )
    outside = (boxes[:, 2] < 0) | (boxes[:, 3] < 0) | (boxes[:, 0] > w - 1) | (boxes[:, 1] > h - 1)
    if outside.any():
        raise ValueError(f"box {boxes[outside][0].tolist()} does not overlap the {w}x{h} (W x H) image")
    out = boxes.copy()
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w - 1)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h - 1)
    return out


def _clip_points(points: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
    """Validate ``(B, N, 2)`` points ``(x, y)`` and clip them to the image."""
    h, w = original_size
    if points.ndim != 3 or points.shape[2] != 2:
        raise ValueError(f"points must have shape (B, N, 2) of (x, y), got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points contain NaN or inf")
    out = points.copy()
    out[..., 0] = np.clip(out[..., 0], 0, w - 1)
    out[..., 1] = np.clip(out[..., 1], 0, h - 1)
    return out


class Segmenter(ABC):
    """A promptable segmenter: ``embed`` once per image, ``segment`` many prompts per embedding.

    Subclasses provide the model parts (``prompt_encoder``, ``mask_decoder``), the image
    preprocessing, the prompt-coordinate transform and the mask post-processing.

    Attributes:
        name: registry name, e.g. ``"litemedsam"``.
        device: torch device the model and embeddings live on.
        encoder_calls: number of :meth:`embed` calls so far (the grid checks the one-encoder-pass
            per image rule with it).
        model_size: side of the square model canvas (256 or 1024).
    """

    name: str
    device: torch.device
    model_size: int

    def __init__(self, name: str, device: str | torch.device = "cpu") -> None:
        self.name = name
        self.device = torch.device(device)
        self.encoder_calls = 0

    # -- parts a subclass provides -------------------------------------------------------------
    @property
    @abstractmethod
    def prompt_encoder(self) -> nn.Module:
        """The SAM-style prompt encoder (input canvas ``model_size``; embedding grid 64x64)."""

    @property
    @abstractmethod
    def mask_decoder(self) -> nn.Module:
        """The SAM-style mask decoder."""

    @abstractmethod
    def preprocess(self, image: np.ndarray) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """``(H, W, 3)`` uint8 -> (``(1, 3, S, S)`` float tensor on CPU, ``input_size (h, w)``)."""

    @abstractmethod
    def transform_coords(self, coords: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
        """Map ``(..., 2)`` ``(x, y)`` original-pixel coordinates to model-canvas coordinates."""

    @abstractmethod
    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Run the image encoder on ``(1, 3, S, S)`` pixels on ``self.device`` -> ``(1, 256, 64, 64)``."""

    @abstractmethod
    def postprocess_logits(self, low_res: torch.Tensor, embedding: ImageEmbedding) -> torch.Tensor:
        """``(B, 1, 256, 256)`` low-res logits -> ``(B, 1, H, W)`` logits at the original size."""

    # -- public API ----------------------------------------------------------------------------
    def transform_boxes(self, boxes: np.ndarray, original_size: Tuple[int, int]) -> np.ndarray:
        """Map ``(B, 4)`` ``[x_min, y_min, x_max, y_max]`` original-pixel boxes to model coordinates."""
        boxes = np.asarray(boxes, dtype=np.float64)
        return self.transform_coords(boxes.reshape(-1, 2, 2), original_size).reshape(-1, 4)

    def embed(self, image: np.ndarray) -> ImageEmbedding:
        """Encode one image (the expensive step). Increments :attr:`encoder_calls`.

        Args:
            image: ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` grayscale uint8, stacked to 3 channels).
        Returns:
            :class:`ImageEmbedding` with ``features`` ``(1, 256, 64, 64)`` float32 on :attr:`device`
            (computed under ``torch.inference_mode``: an inference tensor, not for autograd).
        """
        image = as_rgb_uint8(image)
        original_size = (int(image.shape[0]), int(image.shape[1]))
        pixels, input_size = self.preprocess(image)
        with torch.inference_mode():
            features = self._encode(pixels.to(self.device)).float()
        self.encoder_calls += 1
        return ImageEmbedding(
            features=features,
            original_size=original_size,
            input_size=(int(input_size[0]), int(input_size[1])),
            model_size=int(self.model_size),
            segmenter=self.name,
        )

    def segment(
        self,
        embedding: ImageEmbedding,
        box: Optional[np.ndarray] = None,
        points: Optional[np.ndarray] = None,
        point_labels: Optional[np.ndarray] = None,
        mask_input: Optional[np.ndarray] = None,
    ) -> SegmentationResult:
        """Decode one prompt against an embedding.

        Args:
            embedding: from :meth:`embed` of this segmenter.
            box: ``(4,)`` ``[x_min, y_min, x_max, y_max]`` original pixels (x = column), or None.
            points: ``(N, 2)`` ``(x, y)`` original pixels (a single ``(2,)`` point is accepted), or None.
            point_labels: ``(N,)`` int, 1 = foreground, 0 = background; None means all 1.
            mask_input: optional extension: ``(256, 256)`` low-res logits (e.g. a previous
                :attr:`SegmentationResult.low_res_logits`) used as a dense mask prompt.
        At least one of ``box``, ``points`` or ``mask_input`` is required.
        """
        boxes = None if box is None else np.asarray(box, dtype=np.float64).reshape(1, -1)
        pts = None if points is None else np.asarray(points, dtype=np.float64)
        if pts is not None and pts.shape == (2,):  # a single (x, y) point
            pts = pts.reshape(1, 2)
        pts = None if pts is None else pts[None]
        labels = None if point_labels is None else np.asarray(point_labels).reshape(-1)[None]
        masks = None if mask_input is None else np.asarray(mask_input, dtype=np.float32)[None]
        return self.segment_batch(embedding, boxes, pts, labels, mask_input=masks)[0]

    def segment_batch(
        self,
        embedding: ImageEmbedding,
        boxes: Optional[np.ndarray] = None,
        points: Optional[np.ndarray] = None,
        point_labels: Optional[np.ndarray] = None,
        mask_input: Optional[np.ndarray] = None,
    ) -> List[SegmentationResult]:
        """Decode ``B`` prompts on one image in one decoder call.

        Args:
            boxes: ``(B, 4)`` ``[x_min, y_min, x_max, y_max]`` original pixels, or None.
            points: ``(B, N, 2)`` ``(x, y)`` original pixels, or None.
            point_labels: ``(B, N)`` int (1 fg / 0 bg); None means all 1.
            mask_input: optional ``(B, 256, 256)`` (or ``(256, 256)``, shared) low-res logits.
        Returns:
            ``B`` :class:`SegmentationResult`, in prompt order.
        """
        low_np, iou_np = self.decode_low_res(embedding, boxes, points, point_labels, mask_input)
        masks_np = self.upscale_masks(low_np, embedding)
        return [
            SegmentationResult(mask=masks_np[i], predicted_iou=float(iou_np[i]), low_res_logits=low_np[i])
            for i in range(len(low_np))
        ]

    def decode_low_res(
        self,
        embedding: ImageEmbedding,
        boxes: Optional[np.ndarray] = None,
        points: Optional[np.ndarray] = None,
        point_labels: Optional[np.ndarray] = None,
        mask_input: Optional[np.ndarray] = None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """The decoder's outputs for ``B`` prompts (arguments as :meth:`segment_batch`), before
        any image-size mask is made: ``(low_res_logits (B, 256, 256) float32 on the model
        canvas, predicted_iou (B,) float32)``. :meth:`upscale_masks` makes the masks of those a
        caller keeps (the grid keeps a few of ~50 candidates; at 6688 x 4439 each is 30 MB)."""
        if not isinstance(embedding, ImageEmbedding):
            raise ValueError(f"embedding must be an ImageEmbedding from {self.name}.embed(), got {type(embedding)}")
        if embedding.segmenter != self.name or embedding.model_size != self.model_size:
            raise ValueError(
                f"embedding was produced by {embedding.segmenter!r} (canvas {embedding.model_size}), "
                f"not by this {self.name!r} segmenter; embed the image with this segmenter"
            )
        if boxes is None and points is None and mask_input is None:
            raise ValueError("segment needs a prompt: a box, points, or a mask_input")
        box_t, pts_t, lab_t, mask_t = self.prompt_tensors(embedding.original_size, boxes, points, point_labels,
                                                          mask_input)
        batch = next(len(t) for t in (box_t, pts_t, mask_t) if t is not None)
        if batch == 0:
            return np.zeros((0, LOW_RES_SIZE, LOW_RES_SIZE), np.float32), np.zeros((0,), np.float32)
        with torch.inference_mode():
            # a box present -> no padding point (prompt encoder: pad = boxes is None)
            sparse, dense = self.prompt_encoder(
                points=None if pts_t is None else (pts_t, lab_t),
                boxes=None if box_t is None else box_t[:, None, :],
                masks=mask_t,
            )
            low_res, iou = decode_low_res(self.mask_decoder, embedding.features, self.prompt_encoder.get_dense_pe(),
                                          sparse, dense)
        return low_res[:, 0].float().cpu().numpy(), iou[:, 0].float().cpu().numpy()

    def prompt_tensors(self, original_size: Tuple[int, int], boxes: Optional[np.ndarray] = None,
                       points: Optional[np.ndarray] = None, point_labels: Optional[np.ndarray] = None,
                       mask_input: Optional[np.ndarray] = None):
        """Validate and clip ``B`` prompts and map them to the model canvas: ``(boxes (B, 4),
        points (B, N, 2), labels (B, N), mask_input (B, 1, 256, 256))`` float32 / int64 tensors on
        :attr:`device` (None where absent): exactly what the prompt encoder receives, so two
        prompts with equal tensors decode to equal masks."""
        batch: Optional[int] = None
        box_t = pts_t = lab_t = mask_t = None
        if boxes is not None:
            b = _clip_boxes(np.asarray(boxes, dtype=np.float64), original_size)
            batch = b.shape[0]
            box_t = torch.as_tensor(self.transform_boxes(b, original_size), dtype=torch.float32, device=self.device)
        if points is not None:
            p = _clip_points(np.asarray(points, dtype=np.float64), original_size)
            if batch is not None and p.shape[0] != batch:
                raise ValueError(f"boxes give B={batch} prompts but points give B={p.shape[0]}")
            batch = p.shape[0]
            if point_labels is None:
                lab = np.ones(p.shape[:2], dtype=np.int64)
            else:
                lab = np.asarray(point_labels)
                if lab.shape != p.shape[:2]:
                    raise ValueError(f"point_labels must have shape {p.shape[:2]} (B, N), got {lab.shape}")
                if not np.isin(lab, (0, 1)).all():
                    raise ValueError(f"point_labels must be 1 (foreground) or 0 (background), got {np.unique(lab)}")
            pts_t = torch.as_tensor(self.transform_coords(p, original_size), dtype=torch.float32, device=self.device)
            lab_t = torch.as_tensor(lab.astype(np.int64), device=self.device)
        if mask_input is not None:
            m = np.asarray(mask_input, dtype=np.float32)
            if m.ndim == 2:
                m = np.broadcast_to(m, (batch or 1,) + m.shape)
            if m.ndim != 3 or m.shape[1:] != (LOW_RES_SIZE, LOW_RES_SIZE):
                raise ValueError(f"mask_input must be (256, 256) or (B, 256, 256) low-res logits, got {m.shape}")
            if batch is not None and m.shape[0] != batch:
                raise ValueError(f"prompts give B={batch} but mask_input gives B={m.shape[0]}")
            mask_t = torch.as_tensor(np.ascontiguousarray(m), device=self.device)[:, None]
        return box_t, pts_t, lab_t, mask_t

    def upscale_masks(self, low_res: np.ndarray, embedding: ImageEmbedding) -> np.ndarray:
        """``(B, 256, 256)`` low-res logits -> ``(B, H, W)`` bool masks at the image size,
        ``sigmoid(postprocess_logits) > 0.5``."""
        low = torch.as_tensor(np.asarray(low_res, dtype=np.float32), device=self.device)[:, None]
        H, W = embedding.original_size
        # full-size logits for a few prompts at a time: 64 candidates of a 6688 x 4439 image
        # would be 7.6 GB of float32 at once (plus as much for the sigmoid); the bool masks
        # (1 byte per pixel each) are what is kept
        per_chunk = max(1, POSTPROCESS_BYTES // max(1, 4 * int(H) * int(W)))
        masks_np = np.empty((low.shape[0], int(H), int(W)), dtype=bool)
        with torch.inference_mode():
            for start in range(0, low.shape[0], per_chunk):
                logits = self.postprocess_logits(low[start:start + per_chunk], embedding)
                masks_np[start:start + per_chunk] = (torch.sigmoid(logits) > 0.5)[:, 0].cpu().numpy()
                del logits
        return masks_np

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, device={str(self.device)!r})"


class SamModelSegmenter(Segmenter):
    """A segmenter around one SAM-style ``nn.Module`` holding ``image_encoder``,
    ``prompt_encoder`` and ``mask_decoder`` (LiteMedSAM, SAM, MedSAM): the model parts come from
    it, and the image encoder runs as it is (a subclass may wrap it, e.g. in autocast).
    Subclasses provide the preprocessing, the coordinate transform and the post-processing."""

    def __init__(self, model: nn.Module, name: str, device: str | torch.device = "cpu") -> None:
        super().__init__(name, device)
        self.model = model.to(self.device).eval()

    @property
    def prompt_encoder(self) -> nn.Module:
        return self.model.prompt_encoder

    @property
    def mask_decoder(self) -> nn.Module:
        return self.model.mask_decoder

    def _encode(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.image_encoder(pixels)


#: bytes of full-size float32 logits that :meth:`Segmenter.segment_batch` makes at a time
POSTPROCESS_BYTES = 256 * 2**20


def resize_logits(logits: torch.Tensor, size_hw: Tuple[int, int]) -> torch.Tensor:
    """Bilinear (align_corners=False) resize of ``(B, 1, h, w)`` logits to ``size_hw``."""
    return F.interpolate(logits, size=(int(size_hw[0]), int(size_hw[1])), mode="bilinear", align_corners=False)


def load_state_dict_file(path: str, map_location: str | torch.device = "cpu") -> dict:
    """Load a model state dict with ``torch.load(weights_only=True)``.

    Accepts a bare state dict or a training checkpoint holding it under ``"model"`` or
    ``"state_dict"``. Raises ``ValueError`` naming the file when it cannot be read.
    """
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise ValueError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from exc
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    elif isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"checkpoint {path} does not hold a state dict (got {type(obj).__name__})")
    return obj


def load_strict(module: nn.Module, state: dict, path: str) -> None:
    """``module.load_state_dict(state, strict=True)``; a mismatch raises ``ValueError`` naming ``path``."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        msg = str(exc)
        if len(msg) > 600:
            msg = msg[:600] + " ..."
        raise ValueError(f"checkpoint {path} does not fit the {type(module).__name__} architecture: {msg}") from exc


__all__ = [
    "CheckpointNotFoundError",
    "ImageEmbedding",
    "SegmentationResult",
    "Segmenter",
    "SamModelSegmenter",
    "as_rgb_uint8",
    "load_state_dict_file",
    "load_strict",
    "resize_logits",
    "LOW_RES_SIZE",
    "POSTPROCESS_BYTES",
]

"""The extractor: one adapter around every CAM method, giving heatmaps at the original image size.

:class:`CamExtractor` (and the one-shot :func:`compute_heatmap`) for a
:class:`~cam2seg_utils.models.Classifier` and a method of :data:`.registry.CAM_METHODS`:

1. the image is preprocessed by the classifier (whole image resized, no crop);
2. one forward pass through pytorch-grad-cam's activation/gradient hooks gives the logits; the
   target class is their argmax unless given (Algorithm 1, step 4), scored by
   ``ClassifierOutputTarget``;
3. gradient methods back-propagate that score; then the method's own ``get_cam_image`` (and so its
   ``get_cam_weights``) computes the raw CAM at the target layer's resolution ``(h, w)``
   (e.g. 7 x 7 at 224 px for stride-32 CNNs, 14 x 14 for ViT-B/16);
4. ``ReLU`` (as pytorch-grad-cam does), then :func:`normalize_heatmap`: bilinear resize of the
   ``(h, w)`` map straight to the **original** image size ``(H, W)`` (the network saw the whole
   image resized, so layer cell ``(i, j)`` covers the same fraction of the original image) and
   min-max scaling to ``[0, 1]``.

Degenerate maps are defined, never NaN: non-finite raw values (NaN, +-inf; e.g. AblationCAM
dividing by a zero score) are treated as 0, and a flat map (all values equal up to float32
resolution) becomes an all-zero heatmap.

Hooks: :class:`CamExtractor` is a context manager; on exit every forward hook that
pytorch-grad-cam put on the target layers is removed. Used outside ``with``, each call creates
and releases its hooks itself.

Resolution: ``HeatmapResult.raw`` is the CAM at the target layer's ``(h, w)``; step 4 is the only
place the image size enters, so a caller may keep ``raw`` (the grid's heatmap cache does) and
make the ``(H, W)`` heatmap later with :func:`normalize_heatmap`, bit for bit the same.
``resize=False`` skips step 4's resize (no ``(H, W)`` array at all), and ``input_tensor`` lets
several CAMs share one ``classifier.preprocess`` of a large image.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from cam2seg_utils.cam_options import (
    DEFAULT_ABLATION_CHANNELS,
    DEFAULT_CAM_BATCH_SIZE,
    DEFAULT_SCORECAM_CHANNELS,
    DEFAULT_SCORECAM_SELECTION,
    CamOptions,
)
from cam2seg_utils.models import Classifier

from .registry import AUG_SMOOTH_TRANSFORMS, CAM_METHODS, CamMethod
from .seeded_random import SeededRandomCAM

__all__ = ["CamExtractor", "HeatmapResult", "compute_heatmap", "normalize_heatmap"]

# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------

_FLAT_RTOL = 1e-6  # float32 carries ~7 significant digits: smaller spreads are rounding noise


def _is_flat(lo: float, hi: float) -> bool:
    """A map with range ``[lo, hi]`` is flat: its spread is rounding noise (or exactly 0)."""
    return hi - lo <= _FLAT_RTOL * max(abs(lo), abs(hi)) or hi - lo == 0.0


def normalize_heatmap(raw: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize a raw CAM ``(h, w)`` to ``size_hw = (H, W)`` and min-max scale it to ``[0, 1]``.

    Returns ``float32 (H, W)``, always finite. Non-finite entries (NaN, +-inf) count as 0. A flat
    map -- peak-to-peak spread ``<= 1e-6 * max|raw|`` (or exactly 0) -- gives all zeros. Resizing
    is bilinear with half-pixel centres (``align_corners=False``, like ``cv2.resize``), in float64.

    Deterministic: the result depends only on ``raw`` and ``size_hw`` (this is how a cached
    CAM-resolution map becomes the image-size heatmap). Memory: one float64 ``(H, W)`` work array,
    scaled in place, plus the float32 result -- 12 bytes per pixel at the peak (356 MB for a
    6688 x 4439 image).
    """
    arr = np.asarray(raw, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"raw heatmap must be 2-D (h, w), got shape {arr.shape}")
    H, W = int(size_hw[0]), int(size_hw[1])
    if H < 1 or W < 1:
        raise ValueError(f"target size must be positive, got {size_hw}")
    if arr.size == 0:
        raise ValueError("raw heatmap is empty")
    arr = np.where(np.isfinite(arr), arr, 0.0)
    lo, hi = float(arr.min()), float(arr.max())
    if _is_flat(lo, hi):
        return np.zeros((H, W), dtype=np.float32)
    arr = (arr - lo) / (hi - lo)
    if arr.shape != (H, W):
        t = torch.from_numpy(arr)[None, None]
        arr = F.interpolate(t, size=(H, W), mode="bilinear", align_corners=False)[0, 0].numpy()
        lo, hi = float(arr.min()), float(arr.max())
        if hi - lo <= 0.0:  # cannot happen for a non-flat map, kept for safety
            return np.zeros((H, W), dtype=np.float32)
        arr -= lo                 # in place: (arr - lo) / (hi - lo), the same float64 operations
        arr /= hi - lo
    np.clip(arr, 0.0, 1.0, out=arr)
    return arr.astype(np.float32)


# --------------------------------------------------------------------------------------------
# extractor
# --------------------------------------------------------------------------------------------


@dataclass
class HeatmapResult:
    """A CAM heatmap.

    ``heatmap``: float32 in ``[0, 1]``, always finite: ``(H, W)`` at the original image size, or
    with ``resize=False`` at the CAM's own resolution ``cam_size`` (then
    ``normalize_heatmap(raw, (H, W))`` gives the original-size one, bit for bit).
    ``raw``: float64 ``cam_size`` map after ReLU, non-finite values set to 0 -- everything the
    heatmap depends on besides the image size (what the heatmap cache stores).
    ``target_class``: the explained class (argmax of the logits unless overridden).
    ``raw_min`` / ``raw_max``: range of ``raw``; equal values mean a flat map and an all-zero
    heatmap. ``cam_size``: ``(h, w)`` of ``raw``. ``logits``: ``(num_classes,)`` of the forward pass.
    """

    heatmap: np.ndarray
    target_class: int
    raw_min: float
    raw_max: float
    method: str = ""
    cam_size: tuple[int, int] = (0, 0)
    logits: np.ndarray | None = None
    raw: np.ndarray | None = None


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in {"1", "true", "yes", "on"}


class CamExtractor:
    """Explain a classifier's predictions with one CAM method.

    >>> with CamExtractor(classifier, "gradcam") as cam:      # doctest: +SKIP
    ...     result = cam(image)                              # result.heatmap: (H, W) float32

    ``batch_size``: perturbed copies per forward pass for ScoreCAM / AblationCAM (ignored
    otherwise). ``ablation_channels``: AblationCAM's ``ratio_channels_to_ablate`` in (0, 1]
    (``None`` = all). ``scorecam_channels`` / ``scorecam_selection``: ScoreCAM's top-k channel
    subset (``None`` = all channels, the full method). Defaults: the ``DEFAULT_*`` constants.
    ``progress``: show the ScoreCAM / AblationCAM progress bars (``None``: on unless
    ``TQDM_DISABLE`` is set).
    """

    def __init__(
        self,
        classifier: Classifier,
        method: str,
        batch_size: int = DEFAULT_CAM_BATCH_SIZE,
        ablation_channels: float | None = DEFAULT_ABLATION_CHANNELS,
        *,
        scorecam_channels: int | None = DEFAULT_SCORECAM_CHANNELS,
        scorecam_selection: str = DEFAULT_SCORECAM_SELECTION,
        progress: bool | None = None,
    ) -> None:
        self.classifier = classifier
        self.method: CamMethod = CAM_METHODS.get(method)
        self.options = CamOptions(batch_size=int(batch_size), ablation_channels=ablation_channels,
                                  scorecam_channels=scorecam_channels, scorecam_selection=scorecam_selection)
        self.batch_size = self.options.batch_size
        self.ablation_channels = ablation_channels
        self.progress = progress
        self._cam: BaseCAM | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The options that change this method's heatmap (empty for most methods)."""
        return self.method.cache_params(self.options)

    # -- hooks -------------------------------------------------------------------------------
    def _open(self) -> BaseCAM:
        clf = self.classifier
        cam = self.method.build(clf.model, clf.cam_target_layers(), clf.cam_reshape_transform(),
                                clf.spec.family, self.options)
        if hasattr(cam, "progress"):
            cam.progress = _progress_enabled(self.progress)
        return cam

    @staticmethod
    def _release(cam: BaseCAM) -> None:
        # not cam.__exit__: upstream's __exit__ swallows IndexError and prints it
        cam.activations_and_grads.release()

    def __enter__(self) -> "CamExtractor":
        if self._cam is None:
            self._cam = self._open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def close(self) -> None:
        """Remove the hooks (idempotent)."""
        if self._cam is not None:
            self._release(self._cam)
            self._cam = None

    # -- compute -----------------------------------------------------------------------------
    def __call__(
        self,
        image: np.ndarray,
        target_class: int | None = None,
        rng: np.random.Generator | None = None,
        *,
        input_tensor: torch.Tensor | None = None,
        resize: bool = True,
    ) -> HeatmapResult:
        """Heatmap of ``image`` ``(H, W, 3)`` uint8 for ``target_class`` (``None``: argmax).

        ``rng`` is required by ``"randomcam"`` and ignored by the other methods.
        ``input_tensor``: ``classifier.preprocess(image)`` computed once by the caller and reused
        across methods (a full-size image is resized once, not once per CAM). ``resize=False``:
        the heatmap stays at the CAM resolution (no ``(H, W)`` array is made; see
        :class:`HeatmapResult`).
        """
        if self.method.needs_rng and not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"CAM method {self.method.name!r} needs rng=numpy.random.Generator "
                "(e.g. cam2seg_utils.seeding.make_rng(image_id, 'randomcam'))"
            )
        if target_class is not None:
            target_class = int(target_class)
            if not 0 <= target_class < self.classifier.num_classes:
                raise ValueError(
                    f"target_class {target_class} outside 0..{self.classifier.num_classes - 1}"
                )
        x = self.classifier.preprocess(image) if input_tensor is None else input_tensor  # validates the image
        H, W = image.shape[:2]
        if self._cam is not None:
            return self._compute(self._cam, x, (H, W) if resize else None, target_class, rng)
        cam = self._open()
        try:
            return self._compute(cam, x, (H, W) if resize else None, target_class, rng)
        finally:
            self._release(cam)

    def _compute(
        self,
        cam: BaseCAM,
        x: torch.Tensor,
        size_hw: tuple[int, int] | None,
        target_class: int | None,
        rng: np.random.Generator | None,
    ) -> HeatmapResult:
        if isinstance(cam, SeededRandomCAM):
            cam.rng = rng
        try:
            raw, logits, cls = self._raw_map(cam, x, target_class)
            if self.method.aug_smooth:
                # every augmentation explains the class predicted on the plain input (upstream
                # re-takes the argmax per augmented copy, so its maps could mix two classes)
                maps = [_unit_range(raw)]
                for flip, factor in AUG_SMOOTH_TRANSFORMS[1:]:
                    augmented = x * factor
                    if flip:
                        augmented = torch.flip(augmented, dims=[-1])
                    m, _, _ = self._raw_map(cam, augmented, cls)
                    maps.append(_unit_range(m[:, ::-1] if flip else m))
                raw = np.mean(maps, axis=0)
        finally:
            if isinstance(cam, SeededRandomCAM):
                cam.rng = None
        heatmap = normalize_heatmap(raw, raw.shape if size_hw is None else size_hw)
        return HeatmapResult(
            heatmap=heatmap,
            target_class=cls,
            raw_min=float(raw.min()),
            raw_max=float(raw.max()),
            method=self.method.name,
            cam_size=(int(raw.shape[0]), int(raw.shape[1])),
            logits=logits,
            raw=raw,
        )

    def _raw_map(self, cam: BaseCAM, x: torch.Tensor, target_class: int | None) -> tuple[np.ndarray, np.ndarray, int]:
        """One pass of the method on ``x`` ``(1, 3, h_in, w_in)``: ``(raw (h, w) float64 map after
        ReLU, finite; logits (num_classes,); explained class)``."""
        model = self.classifier.model
        try:
            with torch.set_grad_enabled(cam.uses_gradients):
                outputs = cam.activations_and_grads(x)
                logits = outputs[0].detach().float().cpu().numpy()
                cls = int(np.argmax(logits)) if target_class is None else target_class
                targets = [ClassifierOutputTarget(cls)]
                if cam.uses_gradients:
                    model.zero_grad(set_to_none=True)
                    loss = sum(t(o) for t, o in zip(targets, outputs))
                    loss.backward()
                del outputs
                acts = [a.cpu().numpy() for a in cam.activations_and_grads.activations]
                grads = [g.cpu().numpy() for g in cam.activations_and_grads.gradients]
                # ScoreCAM / AblationCAM run many more forward passes through the hooked layer;
                # do not let the hooks pile up their activations (hundreds of MB for 2048 channels)
                cam.activations_and_grads.activations = _DiscardList()
                maps = []
                for i, layer in enumerate(cam.target_layers):
                    a = acts[i] if i < len(acts) else None
                    g = grads[i] if i < len(grads) else None
                    if a is None or a.ndim != 4:
                        raise RuntimeError(
                            f"{self.method.name}: target layer {type(layer).__name__} gave activations of shape "
                            f"{None if a is None else a.shape}; expected (B, C, h, w) after the reshape transform"
                        )
                    with torch.no_grad(), np.errstate(divide="ignore", invalid="ignore"):  # non-finite -> 0 below
                        m = cam.get_cam_image(x, layer, targets, a, g, self.method.eigen_smooth)
                    maps.append(np.maximum(np.asarray(m, dtype=np.float64)[0], 0.0))
        finally:
            cam.activations_and_grads.clear()
            model.zero_grad(set_to_none=True)
        raw = maps[0] if len(maps) == 1 else _mean_resized(maps)
        return np.where(np.isfinite(raw), raw, 0.0), logits, cls


def _unit_range(raw: np.ndarray) -> np.ndarray:
    """``raw`` min-max scaled to ``[0, 1]`` (a flat map becomes zeros), as upstream scales each
    augmented CAM before ``aug_smooth`` averages them."""
    lo, hi = float(raw.min()), float(raw.max())
    if _is_flat(lo, hi):
        return np.zeros_like(raw)
    return (raw - lo) / (hi - lo)


class _DiscardList(list):
    """A list that ignores ``append`` (sink for pytorch-grad-cam's activation hook)."""

    def append(self, item) -> None:  # noqa: ARG002
        return None


def _mean_resized(maps: list[np.ndarray]) -> np.ndarray:
    """Mean of several layers' maps after resizing them to the largest one."""
    h = max(m.shape[0] for m in maps)
    w = max(m.shape[1] for m in maps)
    out = []
    for m in maps:
        m = np.where(np.isfinite(m), m, 0.0)
        if m.shape != (h, w):
            t = torch.from_numpy(np.ascontiguousarray(m))[None, None]
            m = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
        out.append(m)
    return np.mean(out, axis=0)


def compute_heatmap(
    classifier: Classifier,
    image: np.ndarray,
    method: str,
    target_class: int | None = None,
    rng: np.random.Generator | None = None,
    batch_size: int = DEFAULT_CAM_BATCH_SIZE,
    ablation_channels: float | None = DEFAULT_ABLATION_CHANNELS,
    *,
    scorecam_channels: int | None = DEFAULT_SCORECAM_CHANNELS,
    scorecam_selection: str = DEFAULT_SCORECAM_SELECTION,
    progress: bool | None = None,
) -> HeatmapResult:
    """One-shot :class:`CamExtractor` call (hooks installed and removed around it)."""
    with CamExtractor(classifier, method, batch_size=batch_size, ablation_channels=ablation_channels,
                      scorecam_channels=scorecam_channels, scorecam_selection=scorecam_selection,
                      progress=progress) as cam:
        return cam(image, target_class=target_class, rng=rng)

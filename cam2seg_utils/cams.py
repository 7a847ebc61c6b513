"""CAM methods over pytorch-grad-cam, producing heatmaps at the original image size.

Every method is a :data:`CAM_METHODS` registry entry (a :class:`CamMethod`) that builds a
pytorch-grad-cam ``BaseCAM`` object for a :class:`~cam2seg_utils.models.Classifier`.
:class:`CamExtractor` is the single adapter around all of them:

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

``"randomcam"`` is the paper's random baseline: a raw map of i.i.d. uniform ``[-1, 1]`` values at
the CAM layer resolution, drawn from the ``numpy.random.Generator`` passed in (pytorch-grad-cam's
own ``RandomCAM`` draws random channel *weights* from numpy's global state and is therefore neither
reproducible nor activation-independent; it is not used). It then goes through the same ReLU /
resize / min-max steps as every other method.

Hooks: :class:`CamExtractor` is a context manager; on exit every forward hook that
pytorch-grad-cam put on the target layers is removed (and AblationCAM's temporary layer
replacement is always undone, even on error). Used outside ``with``, each call creates and releases
its hooks itself.

Speed: ScoreCAM and AblationCAM need one forward pass per channel of the target layer
(320-2048 of them); ``batch_size`` sets how many run at once and ``ablation_channels``
(AblationCAM's ``ratio_channels_to_ablate``) how many channels AblationCAM ablates -- raise the
first / lower the second on a GPU or for quick looks.
"""
from __future__ import annotations

import contextlib
import functools
import os
import types
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam import (
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    XGradCAM,
)
from pytorch_grad_cam.ablation_layer import AblationLayer, AblationLayerVit
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.find_layers import replace_layer_recursive
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from cam2seg_utils.models import Classifier
from cam2seg_utils.registry import Registry

__all__ = [
    "CAM_METHODS",
    "PAPER_CAMS",
    "CamMethod",
    "CamExtractor",
    "HeatmapResult",
    "SeededRandomCAM",
    "compute_heatmap",
    "normalize_heatmap",
]

PAPER_CAMS: tuple[str, ...] = ("gradcam", "gradcam++", "ablationcam", "scorecam", "randomcam")


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------

_FLAT_RTOL = 1e-6  # float32 carries ~7 significant digits: smaller spreads are rounding noise


def normalize_heatmap(raw: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize a raw CAM ``(h, w)`` to ``size_hw = (H, W)`` and min-max scale it to ``[0, 1]``.

    Returns ``float32 (H, W)``, always finite. Non-finite entries (NaN, +-inf) count as 0. A flat
    map -- peak-to-peak spread ``<= 1e-6 * max|raw|`` (or exactly 0) -- gives all zeros. Resizing
    is bilinear with half-pixel centres (``align_corners=False``, like ``cv2.resize``).
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
    scale = max(abs(lo), abs(hi))
    if hi - lo <= _FLAT_RTOL * scale or hi - lo == 0.0:
        return np.zeros((H, W), dtype=np.float32)
    arr = (arr - lo) / (hi - lo)
    if arr.shape != (H, W):
        t = torch.from_numpy(arr)[None, None]
        arr = F.interpolate(t, size=(H, W), mode="bilinear", align_corners=False)[0, 0].numpy()
        lo, hi = float(arr.min()), float(arr.max())
        if hi - lo <= 0.0:  # cannot happen for a non-flat map, kept for safety
            return np.zeros((H, W), dtype=np.float32)
        arr = (arr - lo) / (hi - lo)
    return np.clip(arr, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------
# method classes
# --------------------------------------------------------------------------------------------


class SeededRandomCAM(BaseCAM):
    """Random baseline: raw map ~ U[-1, 1] i.i.d. at the target layer resolution ``(h, w)``.

    The values come from ``self.rng`` (a ``numpy.random.Generator`` set before each call); no
    global random state is touched, so the same seed gives the same map.
    """

    def __init__(self, model: nn.Module, target_layers: list[nn.Module], reshape_transform=None) -> None:
        super().__init__(model, target_layers, reshape_transform, uses_gradients=False)
        self.rng: np.random.Generator | None = None

    def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth=False):
        if self.rng is None:
            raise ValueError("randomcam needs rng: pass a numpy.random.Generator (see cam2seg_utils.seeding.make_rng)")
        b, h, w = activations.shape[0], activations.shape[-2], activations.shape[-1]
        return self.rng.uniform(-1.0, 1.0, size=(b, h, w)).astype(np.float32)


class SafeAblationCAM(AblationCAM):
    """AblationCAM that always puts the original target layer back, even when a forward pass
    inside the ablation loop raises (upstream leaves the ``AblationLayer`` in the model)."""

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
        try:
            return super().get_cam_weights(input_tensor, target_layer, targets, activations, grads)
        finally:
            replace_layer_recursive(self.model, self.ablation_layer, target_layer)


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------

CamBuilder = Callable[..., BaseCAM]


@dataclass(frozen=True)
class CamMethod:
    """A registered CAM method.

    ``build(model, target_layers, reshape_transform, family, batch_size, ablation_channels)``
    returns a fresh pytorch-grad-cam object. ``uses_gradients``: needs a backward pass.
    ``needs_rng``: the ``rng`` argument is required.
    """

    name: str
    build: CamBuilder
    uses_gradients: bool
    needs_rng: bool = False
    description: str = ""


def _simple(cls: type[BaseCAM]) -> CamBuilder:
    def build(model, target_layers, reshape_transform, family, batch_size, ablation_channels):  # noqa: ARG001
        return cls(model=model, target_layers=target_layers, reshape_transform=reshape_transform)

    return build


def _build_scorecam(model, target_layers, reshape_transform, family, batch_size, ablation_channels):  # noqa: ARG001
    cam = ScoreCAM(model=model, target_layers=target_layers, reshape_transform=reshape_transform)
    cam.batch_size = int(batch_size)  # read by ScoreCAM.get_cam_weights
    return cam


def _build_ablationcam(model, target_layers, reshape_transform, family, batch_size, ablation_channels):
    # a fresh ablation layer per object (upstream's default argument is one shared instance);
    # transformer targets output tokens with channels last -> the ViT variant (also right for
    # timm 1.x Swin's (B, H, W, C)).
    layer = AblationLayerVit() if family in ("vit", "swin") else AblationLayer()
    ratio = 1.0 if ablation_channels is None else float(ablation_channels)
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"ablation_channels must be in (0, 1], got {ablation_channels}")
    return SafeAblationCAM(
        model=model,
        target_layers=target_layers,
        reshape_transform=reshape_transform,
        ablation_layer=layer,
        batch_size=int(batch_size),
        ratio_channels_to_ablate=ratio,
    )


CAM_METHODS: Registry[CamMethod] = Registry("CAM method")
for _m in (
    CamMethod("gradcam", _simple(GradCAM), True, description="Grad-CAM (Selvaraju et al. 2017)"),
    CamMethod("gradcam++", _simple(GradCAMPlusPlus), True, description="Grad-CAM++ (Chattopadhyay et al. 2018)"),
    CamMethod("ablationcam", _build_ablationcam, False, description="Ablation-CAM (Desai & Ramaswamy 2020)"),
    CamMethod("scorecam", _build_scorecam, False, description="Score-CAM (Wang et al. 2020)"),
    CamMethod("randomcam", _simple(SeededRandomCAM), False, needs_rng=True, description="U[-1,1] random baseline"),
    CamMethod("hirescam", _simple(HiResCAM), True, description="HiResCAM (Draelos & Carin 2020)"),
    CamMethod("xgradcam", _simple(XGradCAM), True, description="XGrad-CAM (Fu et al. 2020)"),
    CamMethod("eigencam", _simple(EigenCAM), False, description="Eigen-CAM (Muhammad & Yeasin 2020)"),
    CamMethod("layercam", _simple(LayerCAM), True, description="LayerCAM (Jiang et al. 2021)"),
):
    CAM_METHODS.register(_m.name, _m)


# --------------------------------------------------------------------------------------------
# extractor
# --------------------------------------------------------------------------------------------


@dataclass
class HeatmapResult:
    """A CAM heatmap.

    ``heatmap``: float32 ``(H, W)`` in ``[0, 1]`` at the original image size, always finite.
    ``target_class``: the explained class (argmax of the logits unless overridden).
    ``raw_min`` / ``raw_max``: range of the raw (ReLU'd, non-finite -> 0) CAM at the layer
    resolution, before normalisation; equal values mean a flat map and an all-zero heatmap.
    ``cam_size``: ``(h, w)`` of that raw map. ``logits``: ``(num_classes,)`` of the forward pass.
    """

    heatmap: np.ndarray
    target_class: int
    raw_min: float
    raw_max: float
    method: str = ""
    cam_size: tuple[int, int] = (0, 0)
    logits: np.ndarray | None = None


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def _upstream_progress(enabled: bool) -> Iterator[None]:
    """pytorch-grad-cam's ScoreCAM / AblationCAM call ``tqdm.tqdm`` directly; switch it."""
    import tqdm as _tqdm
    from pytorch_grad_cam import ablation_cam as _abl
    from pytorch_grad_cam import score_cam as _score

    shim = types.SimpleNamespace(tqdm=functools.partial(_tqdm.tqdm, disable=not enabled))
    saved = (_abl.tqdm, _score.tqdm)
    _abl.tqdm, _score.tqdm = shim, shim
    try:
        yield
    finally:
        _abl.tqdm, _score.tqdm = saved


class CamExtractor:
    """Explain a classifier's predictions with one CAM method.

    >>> with CamExtractor(classifier, "gradcam") as cam:      # doctest: +SKIP
    ...     result = cam(image)                              # result.heatmap: (H, W) float32

    ``batch_size``: images per forward pass for ScoreCAM / AblationCAM (ignored otherwise).
    ``ablation_channels``: fraction in (0, 1] of channels AblationCAM ablates (upstream
    ``ratio_channels_to_ablate``; ``None`` = all). ``progress``: show the ScoreCAM / AblationCAM
    progress bars (``None``: on unless ``TQDM_DISABLE`` is set).
    """

    def __init__(
        self,
        classifier: Classifier,
        method: str,
        batch_size: int = 32,
        ablation_channels: float | None = None,
        *,
        progress: bool | None = None,
    ) -> None:
        self.classifier = classifier
        self.method: CamMethod = CAM_METHODS.get(method)
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.ablation_channels = ablation_channels
        self.progress = progress
        self._cam: BaseCAM | None = None
        if ablation_channels is not None and not 0.0 < float(ablation_channels) <= 1.0:
            raise ValueError(f"ablation_channels must be in (0, 1], got {ablation_channels}")

    # -- hooks -------------------------------------------------------------------------------
    def _open(self) -> BaseCAM:
        clf = self.classifier
        return self.method.build(
            clf.model,
            clf.cam_target_layers(),
            clf.cam_reshape_transform(),
            clf.spec.family,
            self.batch_size,
            self.ablation_channels,
        )

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
    ) -> HeatmapResult:
        """Heatmap of ``image`` ``(H, W, 3)`` uint8 for ``target_class`` (``None``: argmax).

        ``rng`` is required by ``"randomcam"`` and ignored by the other methods.
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
        if self._cam is not None:
            return self._compute(self._cam, image, target_class, rng)
        cam = self._open()
        try:
            return self._compute(cam, image, target_class, rng)
        finally:
            self._release(cam)

    def _compute(
        self,
        cam: BaseCAM,
        image: np.ndarray,
        target_class: int | None,
        rng: np.random.Generator | None,
    ) -> HeatmapResult:
        H, W = image.shape[:2]
        x = self.classifier.preprocess(image)  # validates the image
        model = self.classifier.model
        if isinstance(cam, SeededRandomCAM):
            cam.rng = rng
        try:
            with torch.set_grad_enabled(cam.uses_gradients), _upstream_progress(_progress_enabled(self.progress)):
                outputs = cam.activations_and_grads(x)
                logits = outputs[0].detach().float().cpu().numpy()
                cls = int(np.argmax(logits)) if target_class is None else target_class
                targets = [ClassifierOutputTarget(cls)]
                if cam.uses_gradients:
                    model.zero_grad(set_to_none=True)
                    loss = sum(t(o) for t, o in zip(targets, outputs))
                    loss.backward()
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
                    with np.errstate(divide="ignore", invalid="ignore"):  # non-finite -> 0 below
                        m = cam.get_cam_image(x, layer, targets, a, g, False)
                    maps.append(np.maximum(np.asarray(m, dtype=np.float64)[0], 0.0))
        finally:
            cam.activations_and_grads.clear()
            model.zero_grad(set_to_none=True)
            if isinstance(cam, SeededRandomCAM):
                cam.rng = None
        raw = maps[0] if len(maps) == 1 else _mean_resized(maps)
        raw = np.where(np.isfinite(raw), raw, 0.0)
        heatmap = normalize_heatmap(raw, (H, W))
        return HeatmapResult(
            heatmap=heatmap,
            target_class=cls,
            raw_min=float(raw.min()),
            raw_max=float(raw.max()),
            method=self.method.name,
            cam_size=(int(raw.shape[0]), int(raw.shape[1])),
            logits=logits,
        )


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
    batch_size: int = 32,
    ablation_channels: float | None = None,
    *,
    progress: bool | None = None,
) -> HeatmapResult:
    """One-shot :class:`CamExtractor` call (hooks installed and removed around it)."""
    with CamExtractor(classifier, method, batch_size=batch_size, ablation_channels=ablation_channels, progress=progress) as cam:
        return cam(image, target_class=target_class, rng=rng)

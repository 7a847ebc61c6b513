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
pytorch-grad-cam put on the target layers is removed (and AblationCAM's temporary ablation hook
is removed after each call, even on error; the model is never modified). Used outside ``with``,
each call creates and releases its hooks itself.

Resolution: ``HeatmapResult.raw`` is the CAM at the target layer's ``(h, w)``; step 4 is the only
place the image size enters, so a caller may keep ``raw`` (the grid's heatmap cache does) and
make the ``(H, W)`` heatmap later with :func:`normalize_heatmap`, bit for bit the same.
``resize=False`` skips step 4's resize (no ``(H, W)`` array at all), and ``input_tensor`` lets
several CAMs share one ``classifier.preprocess`` of a large image.

Speed (ScoreCAM and AblationCAM score one perturbation per channel of the target layer,
320-2048 of them):

* ScoreCAM (:class:`TopKScoreCAM`) scores only the ``scorecam_channels`` = k channels ranked
  highest by ``scorecam_selection`` -- ``"variance"`` (spatial variance of the activation map, as
  in the "Faster Score-CAM" variant) or ``"gradient"`` (the Grad-CAM weight: mean gradient of the
  class score; one backward pass). The other channels get weight 0. Score-CAM's weights are a
  softmax over the channel scores, and a softmax's ratios do not depend on which other channels
  take part, so the selected channels keep exactly the *relative* weights of the full method and
  after min-max normalisation the top-k map differs from the full one only by the dropped
  channels' (small) softmax mass. ``None`` = every channel = upstream ``ScoreCAM`` (same numbers;
  masked inputs are built per batch, so memory is ``batch_size`` images, not ``C``).
* AblationCAM (:class:`FastAblationCAM`) runs the network **once** up to the target layer and
  only the part after it (global pooling + classifier for CNNs; the last block's remainder + head
  for ViT / Swin) on ``batch_size`` ablated copies of the target activation at a time: a forward
  hook on the target layer replaces its batch-1 output by the ablated batch, and the layers after
  it broadcast. That is upstream ``AblationCAM``'s arithmetic (which re-runs the *whole* network
  for every channel) at a fraction of its cost; a model whose later layers cannot take the larger
  batch falls back to whole-network passes. ``ablation_channels`` (upstream's
  ``ratio_channels_to_ablate`` r) ablates upstream's experimental channel subset (the r fraction
  of channels most and the r fraction least inside the EigenCAM mask, so at most 2 r C channels);
  skipped channels get weight 0, as upstream. ``None`` / 1.0 = every channel. One deviation from
  upstream, on purpose: for activations that can be negative, the ablation value is
  ``min(activation) - 1e7`` for every ablated copy (upstream lowers it by another 1e7 for each
  copy in a batch, so its weights depended on ``batch_size``); for non-negative activations
  (ReLU / ReLU6 networks) both zero the channel.

``batch_size`` sets how many perturbed copies run per forward pass. The defaults
(:data:`DEFAULT_SCORECAM_CHANNELS`, :data:`DEFAULT_SCORECAM_SELECTION`,
:data:`DEFAULT_ABLATION_CHANNELS`) were chosen on validation images of the real ISIC 2017
folder against the full methods: ``benchmarks/bench_slow_cams.py``, summarised in
``book/scaling.md``.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam import (
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    XGradCAM,
)
from pytorch_grad_cam.ablation_layer import AblationLayer
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from cam2seg_utils.atomic import progress_bar
from cam2seg_utils.cam_options import (
    DEFAULT_ABLATION_CHANNELS,
    DEFAULT_SCORECAM_CHANNELS,
    DEFAULT_SCORECAM_SELECTION,
    SCORECAM_SELECTIONS,
    CamOptions,
)
from cam2seg_utils.models import Classifier
from cam2seg_utils.registry import Registry

__all__ = [
    "AUG_SMOOTH_TRANSFORMS",
    "CAM_METHODS",
    "PAPER_CAMS",
    "SMOOTHED_METHODS",
    "SMOOTHINGS",
    "SCORECAM_SELECTIONS",
    "DEFAULT_SCORECAM_CHANNELS",
    "DEFAULT_SCORECAM_SELECTION",
    "DEFAULT_ABLATION_CHANNELS",
    "CamMethod",
    "CamOptions",
    "CamExtractor",
    "FastAblationCAM",
    "HeatmapResult",
    "SeededRandomCAM",
    "TopKScoreCAM",
    "compute_heatmap",
    "normalize_heatmap",
]

from cam2seg_utils.names import PAPER_CAMS  # noqa: E402  (the paper's names have one home)

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


class TopKScoreCAM(BaseCAM):
    """Score-CAM on the ``channels`` (k) channels ranked highest by ``selection``.

    For each selected channel ``c`` the activation map ``A_c`` (``(h, w)``) is upsampled to the
    network input (bilinear, corners aligned, as upstream), min-max scaled to ``[0, 1]``, and
    multiplies the input image; the masked images run through the model ``batch_size`` at a time
    and give the target scores ``s_c``. Weights: ``softmax(s)`` over the selected channels, 0 for
    the others. ``channels=None`` (or >= C) scores every channel, which is upstream ``ScoreCAM``
(constant channels share one pass on the all-zero masked input they all give).

    ``selection``: ``"variance"`` (spatial variance of ``A_c``) or ``"gradient"`` (mean gradient
    of the target score over ``A_c``, i.e. the Grad-CAM weight; needs a backward pass, so the
    object then has ``uses_gradients=True``). Ties keep the lower channel index.
    """

    def __init__(self, model: nn.Module, target_layers: list[nn.Module], reshape_transform=None, *,
                 channels: int | None = None, selection: str = "variance", batch_size: int = 32) -> None:
        CamOptions(batch_size=batch_size, scorecam_channels=channels, scorecam_selection=selection)  # validates
        uses_gradients = selection == "gradient" and channels is not None
        super().__init__(model, target_layers, reshape_transform, uses_gradients=uses_gradients)
        self.channels = None if channels is None else int(channels)
        self.selection = selection
        self.batch_size = int(batch_size)
        self.progress = False
        self.last_selected: np.ndarray | None = None  # channel indices of the last call (inspection)
        self.last_passes = 0                            # masked images scored in the last call

    def select_channels(self, activations: np.ndarray, grads: np.ndarray | None) -> np.ndarray:
        """Indices (sorted ascending) of the channels to score, from one image's ``(C, h, w)``."""
        n = activations.shape[0]
        if self.channels is None or self.channels >= n:
            return np.arange(n)
        if self.selection == "variance":
            rank = activations.reshape(n, -1).astype(np.float64).var(axis=1)
        else:
            if grads is None:
                raise ValueError("scorecam_selection='gradient' needs the gradients of the target layer")
            rank = grads.reshape(n, -1).astype(np.float64).mean(axis=1)
        rank = np.where(np.isfinite(rank), rank, -np.inf)
        order = np.lexsort((np.arange(n), -rank))  # largest first; ties: lower index first
        return np.sort(order[: self.channels])

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
        size = input_tensor.shape[-2:]
        weights = np.zeros(activations.shape[:2], dtype=np.float32)
        with torch.no_grad():
            for b, (target, image) in enumerate(zip(targets, input_tensor)):
                idx = self.select_channels(activations[b], None if grads is None else grads[b])
                self.last_selected = idx
                # A constant map (e.g. a dead ReLU channel: ~half of Lite0's 1280 on ISIC images)
                # min-max scales to exactly 0, so its masked input is image * 0 for every such
                # channel: one forward pass scores them all (same numbers, fewer passes).
                maps_c = activations[b, idx].reshape(len(idx), -1)
                flat = maps_c.max(axis=1) == maps_c.min(axis=1)
                scores = np.empty(len(idx), dtype=np.float64)
                if flat.any():
                    scores[flat] = target(self.model(image[None] * 0.0)[0]).cpu().item()
                varying = idx[~flat]
                varying_scores: list[float] = []
                starts = range(0, len(varying), self.batch_size)
                for start in progress_bar(starts, self.progress, desc="scorecam", unit="batch", leave=False):
                    chunk = torch.from_numpy(np.ascontiguousarray(activations[b, varying[start:start + self.batch_size]]))
                    maps = F.interpolate(chunk[None].to(self.device), size=size, mode="bilinear",
                                         align_corners=True)[0]
                    spread = maps.view(maps.shape[0], -1)
                    lo, hi = spread.min(dim=-1)[0][:, None, None], spread.max(dim=-1)[0][:, None, None]
                    maps = (maps - lo) / (hi - lo + 1e-8)
                    outputs = self.model(image[None] * maps[:, None])
                    varying_scores.extend(target(o).cpu().item() for o in outputs)
                scores[~flat] = varying_scores
                self.last_passes = int(flat.any()) + len(varying)
                weights[b, idx] = torch.softmax(torch.tensor(scores, dtype=torch.float32), dim=-1).numpy()
        return weights


class FastAblationCAM(BaseCAM):
    """Ablation-CAM: weight ``w_c = (y - y_c) / y``, ``y`` the target score, ``y_c`` the score
    with channel ``c`` of the target layer ablated; computed on the network *after* the target
    layer only (see the module docstring, "Speed").

    ``ratio`` in (0, 1] is upstream's ``ratio_channels_to_ablate`` (channel subset from
    ``AblationLayer.activations_to_be_ablated``; not ablated -> weight 0). ``channel_axis`` is the
    channel dimension of the target layer's *raw* output: 1 for CNN ``(B, C, h, w)``, -1 for ViT
    tokens ``(B, N, C)`` and timm Swin ``(B, H, W, C)``.
    """

    ABLATION_OFFSET = 1e7  # upstream's ABLATION_VALUE
    # Ablated copies per pass on the tail route: at least batch_size, and as many as fit in this
    # many bytes of target activations (256 for Lite0's 1280 x 7 x 7), since each pass re-runs
    # the network up to the target layer once and the layers after it are cheap.
    TAIL_BATCH_BYTES = 64 * 2**20

    def __init__(self, model: nn.Module, target_layers: list[nn.Module], reshape_transform=None, *,
                 ratio: float = 1.0, batch_size: int = 32, channel_axis: int = 1) -> None:
        CamOptions(batch_size=batch_size, ablation_channels=ratio)  # validates
        super().__init__(model, target_layers, reshape_transform, uses_gradients=False)
        self.ratio = float(ratio)
        self.ratio_channels_to_ablate = self.ratio  # upstream's name
        self.batch_size = int(batch_size)
        self.channel_axis = int(channel_axis)
        self.progress = False
        self.tail_only: bool | None = None  # None: not tried yet; False: whole-network passes

    def channels_to_ablate(self, activations: np.ndarray) -> np.ndarray:
        """Sorted unique channel indices to ablate for one image's ``(C, h, w)`` activations."""
        if self.ratio >= 1.0:
            return np.arange(activations.shape[0])
        return np.unique(AblationLayer().activations_to_be_ablated(activations, self.ratio)).astype(np.int64)

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
        captured: dict[str, torch.Tensor] = {}
        self._replacement: dict[str, torch.Tensor] = {}

        def hook(module, inputs, output):
            if "batch" in self._replacement:
                return self._replacement["batch"]
            captured["out"] = output.detach()
            return None

        weights = np.zeros(activations.shape[:2], dtype=np.float32)
        handle = target_layer.register_forward_hook(hook)
        try:
            with torch.no_grad():
                for b, (target, image) in enumerate(zip(targets, input_tensor)):
                    x1 = image[None]
                    self._replacement.clear()
                    original = float(target(self.model(x1)[0]).cpu().item())
                    out = captured["out"]
                    lowest = out.min()
                    value = 0.0 if float(lowest) == 0.0 else float(lowest) - self.ABLATION_OFFSET
                    idx = self.channels_to_ablate(activations[b])
                    new_scores = np.full(activations.shape[1], original, dtype=np.float32)
                    per_pass = max(self.batch_size, self.TAIL_BATCH_BYTES // max(1, out.numel() * out.element_size()))
                    starts = range(0, len(idx), per_pass)
                    for start in progress_bar(starts, self.progress, desc="ablationcam", unit="batch", leave=False):
                        chunk = idx[start:start + per_pass]
                        batch = out.expand(len(chunk), *out.shape[1:]).clone()
                        rows = torch.arange(len(chunk), device=batch.device)
                        batch.movedim(self.channel_axis, 1)[rows, torch.from_numpy(chunk).to(batch.device)] = value
                        new_scores[chunk] = self._scores(x1, batch, target)
                    original32 = np.float32(original)
                    weights[b] = (original32 - new_scores) / original32
        finally:
            handle.remove()
            self._replacement.clear()
        return weights

    def _scores(self, x1: torch.Tensor, ablated: torch.Tensor, target) -> np.ndarray:
        """Target scores of the ablated copies ``ablated`` (``n`` target-layer outputs): the
        batch-1 input runs up to the target layer and the hook hands on all ``n`` copies; models
        whose later layers cannot broadcast that batch get ``batch_size`` copies of the input per
        pass instead (whole-network passes, upstream's cost)."""
        n = ablated.shape[0]
        if self.tail_only is not False:
            self._replacement["batch"] = ablated
            try:
                outputs = self.model(x1)
                fits = outputs.shape[0] == n
            except RuntimeError:
                if self.tail_only:  # worked before: a real error, not a layout problem
                    raise
                fits = False
            if self.tail_only and not fits:
                raise RuntimeError(f"ablation pass gave {outputs.shape[0]} outputs for {n} ablated copies")
            self.tail_only = fits
            if fits:
                return np.float32([target(o).cpu().item() for o in outputs])
        scores = []
        for start in range(0, n, self.batch_size):
            part = ablated[start:start + self.batch_size]
            self._replacement["batch"] = part
            outputs = self.model(x1.expand(part.shape[0], *x1.shape[1:]))
            scores.extend(target(o).cpu().item() for o in outputs)
        return np.float32(scores)


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


CamBuilder = Callable[..., BaseCAM]


@dataclass(frozen=True)
class CamMethod:
    """A registered CAM method.

    ``build(model, target_layers, reshape_transform, family, options: CamOptions)`` returns a
    fresh pytorch-grad-cam object. ``uses_gradients``: needs a backward pass (``"scorecam"``
    with ``scorecam_selection="gradient"`` adds one itself). ``needs_rng``: the ``rng`` argument
    is required. ``aug_smooth`` / ``eigen_smooth``: pytorch-grad-cam's two smoothings (see
    :data:`SMOOTHINGS`), applied by :class:`CamExtractor` around ``build``'s object.
    """

    name: str
    build: CamBuilder
    uses_gradients: bool
    needs_rng: bool = False
    description: str = ""
    aug_smooth: bool = False
    eigen_smooth: bool = False
    base: str = ""  # the plain method a smoothed variant derives from ("" = itself)


def _simple(cls: type[BaseCAM]) -> CamBuilder:
    def build(model, target_layers, reshape_transform, family, options):  # noqa: ARG001
        return cls(model=model, target_layers=target_layers, reshape_transform=reshape_transform)

    return build


def _build_scorecam(model, target_layers, reshape_transform, family, options: CamOptions):  # noqa: ARG001
    return TopKScoreCAM(model, target_layers, reshape_transform, channels=options.scorecam_channels,
                        selection=options.scorecam_selection, batch_size=options.batch_size)


def _build_ablationcam(model, target_layers, reshape_transform, family, options: CamOptions):
    # transformer targets output tokens with channels last ((B, N, C) ViT, (B, H, W, C) timm Swin)
    ratio = 1.0 if options.ablation_channels is None else float(options.ablation_channels)
    return FastAblationCAM(model, target_layers, reshape_transform, ratio=ratio, batch_size=options.batch_size,
                           channel_axis=-1 if family in ("vit", "swin") else 1)


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

#: Smoothed variants, registered as ``<method>@<suffix>`` (e.g. ``"gradcam@aug"``), so that a
#: config's ``cams`` list and :mod:`cam2seg_utils.prompting.cam_ensemble` can mix plain and smoothed
#: maps. ``aug``: pytorch-grad-cam's ``aug_smooth`` -- the mean of the CAMs of six test-time
#: augmentations of the classifier input (horizontal flip x intensity factor 0.9 / 1 / 1.1, as
#: upstream's default ``ttach`` set), each flipped back and min-max scaled before averaging;
#: 6 passes. ``eigen``: ``eigen_smooth`` -- the first principal component of the weighted
#: activations instead of their sum (upstream's ``get_2d_projection``; its sign is the SVD's).
SMOOTHINGS: dict[str, tuple[bool, bool]] = {"aug": (True, False), "eigen": (False, True),
                                            "aug-eigen": (True, True)}
#: the methods that get smoothed variants: the two CAMs the prompting strategies use by default
SMOOTHED_METHODS: tuple[str, ...] = ("gradcam", "gradcam++")
for _base in SMOOTHED_METHODS:
    _m = CAM_METHODS.get(_base)
    for _suffix, (_aug, _eigen) in SMOOTHINGS.items():
        CAM_METHODS.register(f"{_base}@{_suffix}", dataclasses.replace(
            _m, name=f"{_base}@{_suffix}", aug_smooth=_aug, eigen_smooth=_eigen, base=_base,
            description=f"{_m.description}, {_suffix.replace('-', ' + ')} smoothing"))

#: test-time augmentations of ``aug`` smoothing: (horizontal flip, intensity factor); the
#: identity first (its logits and predicted class are the result's)
AUG_SMOOTH_TRANSFORMS: tuple[tuple[bool, float], ...] = (
    (False, 1.0), (False, 0.9), (False, 1.1), (True, 0.9), (True, 1.0), (True, 1.1))


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
        batch_size: int = 32,
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
        return self.options.params_for(self.method.name)

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
    batch_size: int = 32,
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

"""The CAM registry: every method by name (:data:`CAM_METHODS`), and the smoothed variants.

A :class:`CamMethod` builds a fresh pytorch-grad-cam ``BaseCAM`` object for a classifier's target
layers; :class:`~cam2seg_utils.cams.extractor.CamExtractor` is the one adapter around all of
them. The three methods implemented here have a file each (:mod:`.seeded_random`,
:mod:`.topk_scorecam`, :mod:`.fast_ablationcam`); the others are pytorch-grad-cam's classes.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, XGradCAM
from pytorch_grad_cam.base_cam import BaseCAM

from cam2seg_utils.cam_options import CamOptions
from cam2seg_utils.registry import Registry

from .fast_ablationcam import FastAblationCAM
from .seeded_random import SeededRandomCAM
from .topk_scorecam import TopKScoreCAM

__all__ = ["CAM_METHODS", "SMOOTHINGS", "SMOOTHED_METHODS", "AUG_SMOOTH_TRANSFORMS", "CamMethod",
           "CamBuilder"]

CamBuilder = Callable[..., BaseCAM]


@dataclass(frozen=True)
class CamMethod:
    """A registered CAM method.

    ``build(model, target_layers, reshape_transform, family, options: CamOptions)`` returns a
    fresh pytorch-grad-cam object. ``uses_gradients``: needs a backward pass (``"scorecam"``
    with ``scorecam_selection="gradient"`` adds one itself). ``needs_rng``: the ``rng`` argument
    is required. ``aug_smooth`` / ``eigen_smooth``: pytorch-grad-cam's two smoothings (see
    :data:`SMOOTHINGS`), applied by :class:`~cam2seg_utils.cams.extractor.CamExtractor` around ``build``'s object.
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

"""The CAM registry: every method by name (:data:`CAM_METHODS`) with its traits, and the smoothed variants.

A :class:`CamMethod` carries what the rest of the project needs to know about a method: how to
build a fresh pytorch-grad-cam ``BaseCAM`` object for a classifier's target layers, whether it is
slow (one forward pass per channel), whether it needs a seeded generator, which options change its
heatmap (the heatmap cache's parameters), its printed label, and whether it is the floor (a map
that knows nothing of the image). The grid, the demo, the CLI help and the report read these
traits; no module compares a CAM's name. Adding a method is one ``CAM_METHODS.register(...)``.

:class:`~cam2seg_utils.cams.extractor.CamExtractor` is the one adapter around all of them. The
three methods implemented here have a file each (:mod:`.seeded_random`, :mod:`.topk_scorecam`,
:mod:`.fast_ablationcam`); the others are pytorch-grad-cam's classes. This module imports no torch
(builders import their classes when called), so a config can read the traits cheaply.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from cam2seg_utils.cam_options import CamOptions
from cam2seg_utils.registry import Registry

if TYPE_CHECKING:
    from pytorch_grad_cam.base_cam import BaseCAM

__all__ = ["CAM_METHODS", "SMOOTHINGS", "SMOOTHED_METHODS", "AUG_SMOOTH_TRANSFORMS", "CamMethod",
           "CamBuilder", "cams_help", "slow_cams", "floor_cam", "cam_label", "table_ordered"]

CamBuilder = Callable[..., "BaseCAM"]


def no_params(options: CamOptions) -> dict[str, Any]:  # noqa: ARG001
    """The cache parameters of a method no option changes."""
    return {}


@dataclass(frozen=True)
class CamMethod:
    """A registered CAM method and its traits.

    ``build(model, target_layers, reshape_transform, family, options: CamOptions)`` returns a
    fresh pytorch-grad-cam object. ``uses_gradients``: needs a backward pass (``"scorecam"``
    with ``scorecam_selection="gradient"`` adds one itself). ``needs_rng``: the ``rng`` argument
    is required (the grid passes ``make_rng(seed, image_id, model, name)`` and keys the cache by
    the seed). ``slow``: one forward pass per channel (a config's ``slow_cams`` default; only the
    first ``slow_cams_max_images`` images). ``cache_params(options)``: the options that change
    this method's heatmap (cache keys, provenance). ``label``: the printed name (the paper's for
    its five, as the README writes them). ``table_order``: where its rows stand in the headline
table (ties: registration order). ``floor``: knows nothing of the image (RandomCAM: the reference the others are
    tested against). ``aug_smooth`` / ``eigen_smooth``: pytorch-grad-cam's two smoothings (see
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
    slow: bool = False
    label: str = ""
    floor: bool = False
    table_order: int = 100  # where its rows stand in tables (the floor first, then by cost)
    cache_params: Callable[[CamOptions], dict[str, Any]] = no_params


def _upstream(class_name: str) -> CamBuilder:
    """Builder of one of pytorch-grad-cam's own classes (imported when first built)."""
    def build(model, target_layers, reshape_transform, family, options):  # noqa: ARG001
        import pytorch_grad_cam

        cls = getattr(pytorch_grad_cam, class_name)
        return cls(model=model, target_layers=target_layers, reshape_transform=reshape_transform)

    return build


def _build_randomcam(model, target_layers, reshape_transform, family, options):  # noqa: ARG001
    from .seeded_random import SeededRandomCAM

    return SeededRandomCAM(model=model, target_layers=target_layers, reshape_transform=reshape_transform)


def _build_scorecam(model, target_layers, reshape_transform, family, options: CamOptions):  # noqa: ARG001
    from .topk_scorecam import TopKScoreCAM

    return TopKScoreCAM(model, target_layers, reshape_transform, channels=options.scorecam_channels,
                        selection=options.scorecam_selection, batch_size=options.batch_size)


def _scorecam_params(options: CamOptions) -> dict[str, Any]:
    return {"scorecam_channels": options.scorecam_channels, "scorecam_selection":
            options.scorecam_selection if options.scorecam_channels is not None else "all"}


def _build_ablationcam(model, target_layers, reshape_transform, family, options: CamOptions):
    from .fast_ablationcam import FastAblationCAM

    # transformer targets output tokens with channels last ((B, N, C) ViT, (B, H, W, C) timm Swin)
    ratio = 1.0 if options.ablation_channels is None else float(options.ablation_channels)
    return FastAblationCAM(model, target_layers, reshape_transform, ratio=ratio, batch_size=options.batch_size,
                           channel_axis=-1 if family in ("vit", "swin") else 1)


def _ablationcam_params(options: CamOptions) -> dict[str, Any]:
    return {"ablation_channels": 1.0 if options.ablation_channels is None else float(options.ablation_channels)}


CAM_METHODS: Registry[CamMethod] = Registry("CAM method")
for _m in (
    CamMethod("gradcam", _upstream("GradCAM"), True, label="Grad-CAM", table_order=1, description="Grad-CAM (Selvaraju et al. 2017)"),
    CamMethod("gradcam++", _upstream("GradCAMPlusPlus"), True, label="Grad-CAM++", table_order=2,
              description="Grad-CAM++ (Chattopadhyay et al. 2018)"),
    CamMethod("ablationcam", _build_ablationcam, False, slow=True, label="AblationCAM", table_order=4,
              cache_params=_ablationcam_params, description="Ablation-CAM (Desai & Ramaswamy 2020)"),
    CamMethod("scorecam", _build_scorecam, False, slow=True, label="ScoreCAM", table_order=3, cache_params=_scorecam_params,
              description="Score-CAM (Wang et al. 2020)"),
    CamMethod("randomcam", _build_randomcam, False, needs_rng=True, label="RandomCAM", floor=True, table_order=0,
              description="U[-1,1] random baseline"),
    CamMethod("hirescam", _upstream("HiResCAM"), True, label="HiResCAM", description="HiResCAM (Draelos & Carin 2020)"),
    CamMethod("xgradcam", _upstream("XGradCAM"), True, label="XGrad-CAM", description="XGrad-CAM (Fu et al. 2020)"),
    CamMethod("eigencam", _upstream("EigenCAM"), False, label="Eigen-CAM",
              description="Eigen-CAM (Muhammad & Yeasin 2020)"),
    CamMethod("layercam", _upstream("LayerCAM"), True, label="LayerCAM", description="LayerCAM (Jiang et al. 2021)"),
):
    CAM_METHODS.register(_m.name, _m)


def slow_cams() -> list[str]:
    """The registered methods whose trait ``slow`` is set, in registration order."""
    return [m.name for m in CAM_METHODS.values() if m.slow]


def floor_cam() -> str:
    """The name of the floor CAM (the first registered method with ``floor``; ``randomcam``)."""
    return next(m.name for m in CAM_METHODS.values() if m.floor)


def cams_help(default: list[str] | tuple[str, ...] = ()) -> str:
    """The CLI's help of ``--cams``, written from the registry: every plain method (``default``
    marked, slow ones and the floor said so) and the smoothing suffixes."""
    def one(m: CamMethod) -> str:
        traits = [t for t, on in (("default", m.name in default), ("slow", m.slow), ("floor", m.floor)) if on]
        return m.name + (f" ({', '.join(traits)})" if traits else "")

    plain = [one(m) for m in CAM_METHODS.values() if not m.base]
    return (f"CAM methods: {', '.join(plain)}; {' and '.join(SMOOTHED_METHODS)} take pytorch-grad-cam's "
            "smoothing as a suffix: NAME@aug (aug_smooth), NAME@eigen (eigen_smooth), NAME@aug-eigen, e.g. "
            "--cams gradcam gradcam@aug gradcam++@eigen")


def table_ordered(cams) -> list[str]:
    """``cams`` (registered names) in the order their rows stand in tables (``table_order``)."""
    index = {n: i for i, n in enumerate(CAM_METHODS.names())}
    return sorted(cams, key=lambda c: (CAM_METHODS.get(c).table_order, index[c.lower()]))


def cam_label(name: str) -> str:
    """The printed label of a registered CAM (its name where it has none)."""
    return CAM_METHODS.get(name).label or name if name in CAM_METHODS else name


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
            label=f"{_m.label}@{_suffix}", description=f"{_m.description}, {_suffix.replace('-', ' + ')} smoothing"))

#: test-time augmentations of ``aug`` smoothing: (horizontal flip, intensity factor); the
#: identity first (its logits and predicted class are the result's)
AUG_SMOOTH_TRANSFORMS: tuple[tuple[bool, float], ...] = (
    (False, 1.0), (False, 0.9), (False, 1.1), (True, 0.9), (True, 1.0), (True, 1.1))

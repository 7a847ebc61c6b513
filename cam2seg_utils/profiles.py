"""Named experiment profiles -> :class:`~cam2seg_utils.experiments.config.ExperimentConfig`.

=============  ===========================================================================
profile        what
=============  ===========================================================================
``smoke``      minutes in CI: 6 synthetic training / 4 test images (96-128 px), EfficientNet-
               Lite0 (embedded ImageNet weights) zero-shot + fine-tuned 1 epoch at 64 px,
               Grad-CAM, Grad-CAM++, RandomCAM, and ScoreCAM on 1 image.
``embedded``   the default (``make book``); CPU and offline: synthetic data, LiteMedSAM, the
               embedded ImageNet EfficientNet-Lite0 zero-shot and fine-tuned from those weights
               (4 epochs) on 48 synthetic training images; all five paper CAMs on each of the
               10 test images (ScoreCAM on its top-64 channels, AblationCAM on the network after
               the target layer: ~1 s per image and model on a CPU); the simulated clicks of
               chapter 10 on the first 4 of them (``hitl_max_images``: every start and mode, 20
               clicks each). Sized for a pipeline check on synthetic images that builds in
               minutes, not for statistics.
``paper``      the paper's setup, for a GPU: ISIC 2017 (downloaded under ``data_root``), the
               five paper classifiers with ImageNet weights (timm hub) zero-shot and fine-
               tuned (<= 500 epochs, patience 20), MedSAM ViT-B, all five CAMs (ScoreCAM on
               every channel, as published), every test image, at the original resolution
               (``--set max_side=1024`` for a downsized run).
``local-isic`` a local ISIC 2017 folder that has only the training split (such as the
               downsized ``../shared/isic2017``), on a CPU: real images, EfficientNet-Lite0
               (embedded weights) + LiteMedSAM. The test set is a stratified 20 % hold-out of
               the training split (seeded; fine-tuning never sees it), limited to the first
               100 ids (``max_images``), all five paper CAMs on each. Fine-tuning (~1280
               images, <= 10 epochs) takes tens of minutes on a CPU;
               ``--set 'settings=[zero-shot]'`` skips it. For quick runs; its hold-out is
               easier than the official splits (larger, more centred lesions).
``isic-official`` the official ISIC 2017 protocol on a CPU, for a folder with the official
               Training and Validation splits (such as ``../shared/isic2017``): fine-tuning
               on the whole Training split (early stopping on a seeded, stratified 15 %
               hold-out of it), evaluation on **every** image of the official Validation
               split, both settings, all five paper CAMs, every strategy and baseline.
               EfficientNet-Lite0 (embedded weights) + LiteMedSAM. What the book's real-data
               part and the README headline show (``results/published/isic-official``).
``ph2``        PH2 as an external test set (``--data-root <PH2 folder>``): **every** PH2 image,
               zero-shot (embedded EfficientNet-Lite0) and with the checkpoint fine-tuned on
               ISIC 2017 by ``isic-official`` (``checkpoints/isic-official``; another one:
               ``--checkpoint-dir``). Nothing is fine-tuned on PH2 (``finetune`` refuses
               it). All five paper CAMs, every strategy and baseline, LiteMedSAM, CPU.
=============  ===========================================================================

``get_profile(name, **overrides)`` returns a fresh config with ``overrides`` applied (any
:class:`ExperimentConfig` field; unknown names raise ``ValueError``).
"""
from __future__ import annotations

from typing import Any, Callable

from .cam_options import DEFAULT_CAM_BATCH_SIZE
from .experiments.config import PAPER_MODELS, ExperimentConfig
from .names import PAPER_CAMS

LITE0 = "tf_efficientnet_lite0"
#: ScoreCAM's masked images per pass on a GPU (a CPU wants DEFAULT_CAM_BATCH_SIZE: book/scaling.md)
GPU_CAM_BATCH_SIZE = 64


def _smoke() -> dict[str, Any]:
    return dict(
        name="smoke", description="CI smoke test: tiny synthetic data, minutes on a CPU",
        dataset="synthetic", data_root="data/smoke", synthetic_train_images=6, synthetic_test_images=4,
        synthetic_size_range=(96, 128), val_fraction=0.34, models=[LITE0], zero_shot_weights="embedded",
        finetune_init_weights="embedded", epochs=1, patience=1, batch_size=4, finetune_input_size=64,
        cams=["gradcam", "gradcam++", "randomcam", "scorecam"], slow_cams_max_images=1,
        cam_batch_size=DEFAULT_CAM_BATCH_SIZE,
        segmenter="litemedsam", prompt_variants=["box", "box+points", "points"],
        output_dir="results/smoke", checkpoint_dir="checkpoints/smoke", device="cpu",
    )


def _embedded() -> dict[str, Any]:
    return dict(
        name="embedded", description="offline CPU default: synthetic data, embedded Lite0, LiteMedSAM",
        dataset="synthetic", data_root="data/synthetic", synthetic_train_images=48, synthetic_test_images=10,
        hitl_max_images=4, synthetic_size_range=(192, 288), val_fraction=0.25, models=[LITE0],
        zero_shot_weights="embedded", finetune_init_weights="embedded", epochs=4, patience=3, batch_size=16,
        finetune_input_size=None,
        cams=list(PAPER_CAMS), slow_cams_max_images=None, cam_batch_size=DEFAULT_CAM_BATCH_SIZE, segmenter="litemedsam",
        prompt_variants=["box", "box+points", "points"], output_dir="results/embedded",
        checkpoint_dir="checkpoints/embedded", device="cpu",
    )


def _paper() -> dict[str, Any]:
    return dict(
        name="paper", description="the paper's setup (GPU): ISIC 2017, five classifiers, MedSAM ViT-B",
        dataset="isic", data_root="data/isic2017", train_split="Training", test_split="Test",
        val_fraction=0.2, models=list(PAPER_MODELS), zero_shot_weights="imagenet",
        finetune_init_weights="imagenet", epochs=500, patience=20, batch_size=32, lr=1e-4,
        cams=list(PAPER_CAMS), slow_cams_max_images=None, cam_batch_size=GPU_CAM_BATCH_SIZE, scorecam_channels=None,
        segmenter="medsam_vit_b",
        prompt_variants=["box", "box+points", "points"], output_dir="results/paper",
        checkpoint_dir="checkpoints/paper", device="cuda", num_workers=4,
    )


def _local_isic() -> dict[str, Any]:
    return dict(
        name="local-isic", description="local ISIC 2017 training folder on a CPU; 20 % held out as test",
        dataset="isic", data_root="../shared/isic2017", train_split="Training", test_holdout_fraction=0.2,
        val_fraction=0.2, max_images=100, models=[LITE0], zero_shot_weights="embedded",
        finetune_init_weights="embedded", epochs=10, patience=3, batch_size=32,
        cams=list(PAPER_CAMS), slow_cams_max_images=None, cam_batch_size=DEFAULT_CAM_BATCH_SIZE, segmenter="litemedsam",
        prompt_variants=["box", "box+points", "points"], output_dir="results/local-isic",
        checkpoint_dir="checkpoints/local-isic", device="cpu",
    )


def _isic_official() -> dict[str, Any]:
    return dict(
        name="isic-official", description="official ISIC 2017 protocol on a CPU: fine-tune on Training, "
                                          "evaluate on every official Validation image",
        dataset="isic", data_root="../shared/isic2017", train_split="Training", test_split="Validation",
        test_holdout_fraction=None, val_fraction=0.15, max_images=None, models=[LITE0],
        zero_shot_weights="embedded", finetune_init_weights="embedded", epochs=10, patience=3, batch_size=32,
        cams=list(PAPER_CAMS), slow_cams_max_images=None, cam_batch_size=DEFAULT_CAM_BATCH_SIZE, segmenter="litemedsam",
        prompt_variants=["box", "box+points", "points"], output_dir="results/isic-official",
        checkpoint_dir="checkpoints/isic-official", device="cpu",
    )


def _ph2() -> dict[str, Any]:
    # the classifier settings are isic-official's (the fine-tuned checkpoint is its), the data PH2's
    return dict(
        _isic_official(),
        name="ph2", description="PH2 as an external test set: every image, zero-shot and with the "
                                "ISIC-fine-tuned checkpoint of isic-official; no fine-tuning on PH2",
        dataset="ph2", data_root="data/PH2", train_split="Training", test_split="Test",
        test_holdout_fraction=None, max_images=None, output_dir="results/ph2",
        checkpoint_dir="checkpoints/isic-official",
    )


PROFILES: dict[str, Callable[[], dict[str, Any]]] = {
    "smoke": _smoke, "embedded": _embedded, "paper": _paper, "local-isic": _local_isic,
    "isic-official": _isic_official, "ph2": _ph2,
}
DEFAULT_PROFILE = "embedded"


def list_profiles() -> list[str]:
    return list(PROFILES)


def get_profile(name: str = DEFAULT_PROFILE, /, **overrides: Any) -> ExperimentConfig:
    """The config of profile ``name`` with ``overrides`` applied (``name`` is positional-only: a
    ``name=`` override renames the config)."""
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    data = PROFILES[name]()
    unknown = set(overrides) - set(ExperimentConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown config field(s) {sorted(unknown)} for profile {name!r}")
    data.update(overrides)
    return ExperimentConfig.from_dict(data)


__all__ = ["PROFILES", "DEFAULT_PROFILE", "list_profiles", "get_profile"]

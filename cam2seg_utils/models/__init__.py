"""Classifiers: timm models by name, with their CAM target layers, preprocessing and weights.

The layout follows timm's (models by name with their configuration attached):

==================  ===========================================================================
file                what
==================  ===========================================================================
``specs.py``        :class:`ClassifierSpec` and the registry :data:`CLASSIFIERS` (the five paper
                    models and EfficientNet-Lite0: target layers, reshape transforms, offline
                    weights); specs inferred for any other timm name
``weights.py``      ImageNet weights: the timm hub (:class:`WeightsUnavailableError` offline,
                    never random weights) and the embedded offline Lite0 (keys remapped)
``checkpoint.py``   :func:`save_checkpoint` (atomic) / :func:`load_checkpoint` (``CheckpointError``
                    naming the file)
``classifier.py``   :class:`Classifier` (``preprocess``, ``predict``), :class:`Prediction`,
                    class names
``build.py``        :func:`build_classifier`: spec -> model with weights -> preprocessing
==================  ===========================================================================

``build_classifier(name, weights=...)``: ``"imagenet"`` (timm hub), ``"embedded"`` (only
``tf_efficientnet_lite0``, offline; mean = std = 0.5), ``"random"`` (explicit, shape tests only),
or a checkpoint path written by :func:`save_checkpoint`. Images are ``uint8`` ``(H, W, 3)`` RGB;
:meth:`Classifier.preprocess` resizes the *whole* image (no crop).
"""
from .build import NAMED_WEIGHTS, build_classifier
from .checkpoint import CHECKPOINT_KEYS, CheckpointError, load_checkpoint, save_checkpoint
from .classifier import FINETUNED_CLASS_NAMES, Classifier, Prediction, imagenet_class_names
from .specs import (
    CLASSIFIERS,
    PAPER_CLASSIFIERS,
    ClassifierSpec,
    get_spec,
    infer_spec,
    list_classifiers,
    swin_reshape_transform,
    vit_reshape_transform,
)
from .weights import (LITE0_EMBEDDED, EmbeddedWeights, WeightsUnavailableError, describe_embedded_weights,
                      embedded_lite0_state_dict, embedded_weights_path)

__all__ = [
    "ClassifierSpec",
    "Classifier",
    "Prediction",
    "WeightsUnavailableError",
    "CheckpointError",
    "CLASSIFIERS",
    "PAPER_CLASSIFIERS",
    "FINETUNED_CLASS_NAMES",
    "CHECKPOINT_KEYS",
    "NAMED_WEIGHTS",
    "EmbeddedWeights",
    "LITE0_EMBEDDED",
    "build_classifier",
    "describe_embedded_weights",
    "embedded_weights_path",
    "list_classifiers",
    "get_spec",
    "infer_spec",
    "save_checkpoint",
    "load_checkpoint",
    "imagenet_class_names",
    "embedded_lite0_state_dict",
    "vit_reshape_transform",
    "swin_reshape_transform",
]

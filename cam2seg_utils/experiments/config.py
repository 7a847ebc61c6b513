"""The one configuration object of an experiment run (data, fine-tuning, the grid).

:class:`ExperimentConfig` is a plain dataclass so that it can be written to / read from YAML or
JSON (``to_dict`` / ``from_dict`` / ``from_file``) and recorded verbatim in the run summary.
Named presets live in :mod:`cam2seg_utils.profiles`.

(Just over 500 lines on purpose: every field's type-and-range rule, :data:`FIELD_RULES`, sits
beside the fields it checks, so that a field added without a rule is seen in the same file.)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..cam_options import (DEFAULT_ABLATION_CHANNELS, DEFAULT_CAM_BATCH_SIZE, DEFAULT_SCORECAM_CHANNELS,
                           DEFAULT_SCORECAM_SELECTION, SCORECAM_SELECTIONS, CamOptions)
from .. import names
from ..cams.registry import slow_cams
from ..data.registry import DATASETS as DATASET_SPECS
from ..data.registry import dataset_spec
from ..names import BASELINES, PAPER_MODELS, SETTINGS  # noqa: F401  (re-exported)
from ..prompting.algorithm1 import PromptParams
from ..prompting.weights import DEFAULT_WEIGHTS

PROMPT_VARIANTS = ("box", "box+points", "points")
#: Early-stopping monitors of fine-tuning and whether lower or higher is better (config ``monitor``).
MONITORS = {"val_loss": "min", "val_acc": "max", "val_balanced_acc": "max", "val_auc": "max"}
# the datasets: one spec each in cam2seg_utils/data/registry.py (names, labels, loaders, trainable)
DATASETS = DATASET_SPECS
# The strategies every profile runs by default: the paper's, the new ones, and the floors that
# ignore the classifier (see cam2seg_utils/prompting and the book's "Beyond the paper" chapter).
# The whole-image box is not among them: the grid's `whole-image-box` baseline is that floor.
DEFAULT_STRATEGIES = ("algorithm1", "component", "refine", "cam-ensemble", "candidates", "prior-cam",
                      "image-prior", "centred-box")

# Fields that change how a run executes but never what it computes; they are left out of the
# grid's config fingerprint so that e.g. resuming on another device or with progress bars off is
# still a resume of the same experiment. The checkpoint fields only say where weights are: what
# they resolve to (the files' SHA-256) is part of the grid's identity instead
# (:mod:`cam2seg_utils.experiments.identity`), so moving a checkpoint is still a resume and
# replacing one is refused.
# ``hitl_max_images`` only says how many of the evaluated images the ``hitl`` experiment runs
# (each of its units has its own fingerprint), so it is left out too.
RUNTIME_FIELDS = frozenset({"device", "progress", "num_workers", "output_dir", "cache_dir",
                            "checkpoint_dir", "finetuned_checkpoints", "segmenter_checkpoint",
                            "name", "description", "main_prompt_variant", "hitl_max_images"})


@dataclass
class ExperimentConfig:
    """Everything that defines one experiment.

    Data: ``dataset`` is ``"synthetic"`` (generated under ``data_root`` by ``generate-data``),
    ``"isic"`` (the official ISIC 2017 layout under ``data_root``) or ``"ph2"`` (the PH2 folder
    under ``data_root``: evaluation only, every image, never fine-tuned on; the fine-tuned
    setting loads the ISIC checkpoint of ``checkpoint_dir``). ``test_holdout_fraction`` set
    (not ``None``) means the folder only has a training split: a stratified hold-out of that
    fraction of ``train_split`` becomes the test set (seeded by ``seed``), and fine-tuning only
    sees the rest.

    Grid: for each test image (first ``max_images``) × setting × model × CAM × prompt parameters
    (the Cartesian product of ``percentile`` × ``num_points`` × ``amplification``) × prompt
    variant. ``slow_cams`` only run on the first ``slow_cams_max_images`` images (``None`` = all,
    the default of every profile but ``smoke``: with ``scorecam_channels`` and the fast
    AblationCAM they cost ~1 s per image and model on a CPU instead of ~40 s to minutes).

    ScoreCAM / AblationCAM (:mod:`cam2seg_utils.cam_options`): ScoreCAM scores the
    ``scorecam_channels`` (k) channels ranked highest by ``scorecam_selection`` (``None`` = every
    channel, the full method); AblationCAM ablates ``ablation_ratio`` of the channels (upstream's
    ``ratio_channels_to_ablate``; 1 = all). Every grid row records the three.

    ``max_side`` (``None`` = original resolution, as the paper measures): images whose longer
    side exceeds it are downsized with their masks before the grid
    (:func:`cam2seg_utils.data.resize.limit_side`), so metrics are then at the downsized
    resolution; for users who prefer a cheaper run on the full-size ISIC originals. Recorded in
    the run summary and the book's provenance box.
    """

    name: str = "custom"
    description: str = ""
    # --- data --------------------------------------------------------------------------------
    dataset: str = "synthetic"                # "synthetic" | "isic" | "ph2"
    data_root: str = "data/synthetic"
    train_split: str = "Training"
    test_split: str = "Test"
    test_holdout_fraction: float | None = None
    val_fraction: float = 0.2
    synthetic_train_images: int = 40
    synthetic_test_images: int = 20
    synthetic_size_range: tuple[int, int] = (160, 256)
    synthetic_melanoma_fraction: float = 0.3
    download_splits: tuple[str, ...] = ("Training", "Validation", "Test")
    max_images: int | None = None
    max_side: int | None = None               # downsize longer image side to this (None = originals)
    # "test" (the results) or "val" (the validation part of the training split, for choosing
    # prompt parameters without touching the test images; fine-tuning never trains on it either).
    evaluate_on: str = "test"
    # --- models ------------------------------------------------------------------------------
    models: list[str] = field(default_factory=lambda: ["tf_efficientnet_lite0"])
    zero_shot_weights: str = "embedded"       # "imagenet" | "embedded"
    finetune_init_weights: str = "embedded"   # weights fine-tuning starts from
    finetuned_checkpoints: dict[str, str] = field(default_factory=dict)  # model -> path override
    # --- fine-tuning (paper: <= 500 epochs, patience 20) --------------------------------------
    epochs: int = 500
    patience: int = 20
    batch_size: int = 16
    lr: float = 1e-4
    weight_decay: float = 1e-2
    finetune_input_size: int | None = None    # None = the classifier's own input size
    monitor: str = "val_loss"                 # early-stopping metric
    amp: bool = True                          # autocast + GradScaler, CUDA only
    num_workers: int = 0
    # --- grid --------------------------------------------------------------------------------
    settings: list[str] = field(default_factory=lambda: list(SETTINGS))
    cams: list[str] = field(default_factory=lambda: list(names.PAPER_CAMS))
    slow_cams: list[str] = field(default_factory=slow_cams)   # the methods whose trait `slow` is set
    slow_cams_max_images: int | None = None
    cam_batch_size: int = DEFAULT_CAM_BATCH_SIZE   # perturbed copies per pass (64 on a GPU: the paper profile)
    scorecam_channels: int | None = DEFAULT_SCORECAM_CHANNELS   # ScoreCAM's top-k (None = all channels)
    scorecam_selection: str = DEFAULT_SCORECAM_SELECTION        # "variance" | "gradient"
    ablation_ratio: float = DEFAULT_ABLATION_CHANNELS           # AblationCAM's ratio_channels_to_ablate
    segmenter: str = "litemedsam"
    segmenter_checkpoint: str | None = None
    prompt_variants: list[str] = field(default_factory=lambda: list(PROMPT_VARIANTS))
    # The variant the headline tables show. "box": MedSAM and LiteMedSAM were trained with box
    # prompts only, and extra positive points measurably hurt them (the book's prompt-variant
    # table compares all variants with a paired test, Algorithm 1's box+points included).
    # None = "box" when computed, else the first of prompt_variants.
    main_prompt_variant: str | None = None
    # defaults = cam2seg_utils.prompting.algorithm1.PromptParams defaults (see that module for why)
    percentile: list[float] = field(default_factory=lambda: [PromptParams().percentile])
    num_points: list[int] = field(default_factory=lambda: [PromptParams().num_points])
    amplification: list[float] = field(default_factory=lambda: [PromptParams().amplification])
    cam_mask_rows: bool = True                # Table 1 rows (step-7 mask vs ground truth)
    # Prompting strategies (cam2seg_utils.prompting.STRATEGIES) run on every image; "algorithm1"
    # is the paper's method (its rows are the Algorithm 1 loop's). strategy_cams: the heatmaps
    # handed to the strategies that use the classifier (those of them that are in cams).
    strategies: list[str] = field(default_factory=lambda: list(DEFAULT_STRATEGIES))
    strategy_cams: list[str] = field(default_factory=lambda: ["gradcam", "gradcam++"])
    # The named weight set (cam2seg_utils.prompting.weights.WEIGHT_SETS) that ranks the candidates
    # of the ranked strategies (candidates, prior-cam, image-prior). Its k_masks (ground-truth masks
    # used to fit it; 0 = a priori) is recorded in the run summary and in every strategy row.
    ranking_weights: str = DEFAULT_WEIGHTS
    # Reference rows "oracle-<strategy>" for each ranking strategy: the best box of its candidate
    # set by ground truth (decoded already: no extra decoder call). They read the ground truth, so
    # they are references, never results: GT box vs oracle = loss in generation, oracle vs chosen
    # = loss in selection.
    selection_oracles: bool = True
    # segmenter baselines on the same images: ground-truth prompts (the ceiling) and the
    # whole-image box (the floor: no localisation at all)
    gt_baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    # --- the human in the loop (``hitl``) ------------------------------------------------------
    # the first N evaluated images (None = all): the click curves need fewer images than the grid
    hitl_max_images: int | None = None
    # --- run ---------------------------------------------------------------------------------
    seed: int = 0
    device: str = "cpu"
    output_dir: str = "results/custom"
    cache_dir: str | None = None              # None = <output_dir>/../heatmap_cache
    checkpoint_dir: str = "checkpoints/custom"
    progress: bool = True

    # ------------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        for name in ("percentile", "amplification", "num_points", "models", "settings", "cams", "slow_cams",
                     "prompt_variants", "gt_baselines", "strategies", "strategy_cams"):
            v = getattr(self, name)     # a scalar (`--set percentile=80`) is a list of one
            setattr(self, name, list(v) if isinstance(v, (list, tuple)) else [v])
        if isinstance(self.download_splits, str):
            self.download_splits = (self.download_splits,)
        if self.main_prompt_variant is None and self.prompt_variants:
            self.main_prompt_variant = "box" if "box" in self.prompt_variants else self.prompt_variants[0]
        self.validate()
        # numbers as their fields' types once valid (YAML gives 80 for 80.0)
        self.percentile = [float(x) for x in self.percentile]
        self.amplification = [float(x) for x in self.amplification]
        self.num_points = [int(x) for x in self.num_points]
        self.synthetic_size_range = tuple(int(x) for x in self.synthetic_size_range)  # type: ignore
        self.download_splits = tuple(self.download_splits)

    def validate(self) -> None:
        """Raise ``ValueError`` (one line naming the field, the value and what it must be) for
        the first value that cannot work: every field by type and range, in the order the fields
        are declared (data, models, fine-tuning, grid, run), then the rules between fields. Runs
        on construction, before anything is read; whether folders exist is
        :func:`check_paths`' (the config of ``generate-data`` names a folder still to write)."""
        for f in dataclasses.fields(self):
            FIELD_RULES[f.name](f.name, getattr(self, f.name))
        if not dataset_spec(self.dataset).trainable and (self.evaluate_on != "test"
                                                         or self.test_holdout_fraction is not None):
            raise ValueError(f"dataset {self.dataset!r} is evaluated whole (no validation or hold-out split): "
                             f"evaluate_on must be 'test' (got {self.evaluate_on!r}) and test_holdout_fraction None "
                             f"(got {self.test_holdout_fraction!r}); start from --profile {self.dataset}")
        if self.prompt_variants and self.main_prompt_variant not in self.prompt_variants:
            raise ValueError(f"main_prompt_variant {self.main_prompt_variant!r} is not among "
                             f"prompt_variants {self.prompt_variants}")
        self.cam_options()  # raises ValueError naming scorecam_channels / scorecam_selection / ablation ratio

    def cam_options(self) -> CamOptions:
        """The CAM parameters of this config (``CamExtractor(**dataclasses.asdict(...))`` keywords)."""
        return CamOptions(batch_size=self.cam_batch_size, ablation_channels=self.ablation_ratio,
                          scorecam_channels=self.scorecam_channels, scorecam_selection=self.scorecam_selection)

    # ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["synthetic_size_range"] = list(self.synthetic_size_range)
        d["download_splits"] = list(self.download_splits)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ExperimentConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; known: {sorted(known)}")
        return cls(**dict(data))

    @classmethod
    def from_file(cls, path: str | Path) -> "ExperimentConfig":
        return cls.from_dict(load_config_file(path))

    def replace(self, **overrides: Any) -> "ExperimentConfig":
        """A copy with ``overrides`` applied (unknown names raise ``ValueError``)."""
        d = self.to_dict()
        d.update(overrides)
        return ExperimentConfig.from_dict(d)

    def results_fields(self) -> dict[str, Any]:
        """The fields that decide the grid's numbers (every field but :data:`RUNTIME_FIELDS`)."""
        return {k: v for k, v in self.to_dict().items() if k not in RUNTIME_FIELDS}

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`results_fields`. The grid's full identity (weights, segmenter
        checkpoint, images, results version) is :func:`.identity.grid_identity`."""
        return hashlib.sha256(json.dumps(self.results_fields(), sort_keys=True).encode()).hexdigest()

    # --- derived paths --------------------------------------------------------------------------
    def finetuned_checkpoint(self, model: str, must_exist: bool = False) -> Path:
        """Best fine-tuned checkpoint of ``model`` (``<checkpoint_dir>/<model>/best.pt`` unless
        ``finetuned_checkpoints`` overrides it); ``must_exist``: a missing file raises
        ``FileNotFoundError`` saying how to make it."""
        path = (Path(self.finetuned_checkpoints[model]) if model in self.finetuned_checkpoints
                else Path(self.checkpoint_dir) / model / "best.pt")
        if must_exist and not path.is_file():
            if not dataset_spec(self.dataset).trainable:   # never fine-tuned on: the checkpoint comes from an ISIC run
                raise FileNotFoundError(
                    f"fine-tuned checkpoint {path} for {model} not found: fine-tune on ISIC 2017 first "
                    "(`cam2seg finetune --profile isic-official`), or point --checkpoint-dir at ISIC-fine-tuned "
                    "checkpoints, or evaluate zero-shot only (--set 'settings=[zero-shot]')")
            raise FileNotFoundError(
                f"fine-tuned checkpoint {path} for {model} not found: run `cam2seg finetune` with "
                "this config first (or set finetuned_checkpoints, or drop 'fine-tuned' from settings)")
        return path

    def heatmap_cache_dir(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir)
        return Path(self.output_dir).parent / "heatmap_cache"


# ------------------------------------------------------------------------------ field rules
# One rule per field (a field added without one fails tests/test_experiments_config.py): each
# raises ValueError "<field> must be <what>, got <value>" for a value of the wrong type or range.
def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def _bad(name: str, what: str, value: Any) -> ValueError:
    return ValueError(f"{name} must be {what}, got {value!r}")


def _text(empty: bool = False, optional: bool = False):
    def rule(name: str, v: Any) -> None:
        if v is None and optional:
            return
        if not isinstance(v, (str, os.PathLike)) or (not empty and not str(v).strip()):
            raise _bad(name, "a non-empty string" + (" or null" if optional else ""), v)
    return rule


def _integer(minimum: int, optional: bool = False):
    def rule(name: str, v: Any) -> None:
        if v is None and optional:
            return
        if not _is_int(v) or v < minimum:
            raise _bad(name, f"an integer >= {minimum}" + (" or null" if optional else ""), v)
    return rule


def _real(low: float, high: float = math.inf, *, open_low: bool = False, open_high: bool = False,
          optional: bool = False):
    what = (f"a number in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
            if high < math.inf else f"a number {'>' if open_low else '>='} {low:g}")

    def rule(name: str, v: Any) -> None:
        if v is None and optional:
            return
        ok = _is_real(v) and (v > low if open_low else v >= low) and (v < high if open_high else v <= high)
        if not ok:
            raise _bad(name, what + (" or null" if optional else ""), v)
    return rule


def _flag(name: str, v: Any) -> None:
    if not isinstance(v, bool):
        raise _bad(name, "true or false", v)


def _choice(options, optional: bool = False):
    def rule(name: str, v: Any) -> None:
        if v is None and optional:
            return
        opts = options() if callable(options) else options
        if not isinstance(v, str) or v not in opts:
            raise _bad(name, f"one of {', '.join(opts)}", v)
    return rule


def _items(item_rule, nonempty: bool = True, options=None, size: int | None = None):
    """A list (or tuple) whose every item passes ``item_rule`` (or is in ``options``)."""
    def rule(name: str, v: Any) -> None:
        if not isinstance(v, (list, tuple)) or (nonempty and not v) or (size is not None and len(v) != size):
            what = f"a list of {size}" if size else "a non-empty list" if nonempty else "a list"
            raise _bad(name, what, v)
        opts = options() if callable(options) else options
        bad = [] if opts is None else [x for x in v if not isinstance(x, str) or x not in opts]
        if bad:
            raise ValueError(f"{name} {bad} unknown; choose from {opts}")
        for x in v:
            item_rule(f"every {name} value", x)
    return rule


def _split_name(name: str, v: Any) -> None:
    from ..data.isic import canonical_split

    _text()(name, v)
    try:
        canonical_split(v)
    except ValueError:
        raise _bad(name, "an ISIC 2017 split: Training, Validation or Test", v) from None


def _size_range(name: str, v: Any) -> None:
    _items(_integer(64), size=2)(name, v)
    if v[0] > v[1]:
        raise _bad(name, "[low, high] with 64 <= low <= high pixels", v)


def _weights(name: str, v: Any) -> None:
    """A named weight set, or a checkpoint path (whether it exists: :func:`check_paths`)."""
    _text()(name, v)


def _checkpoint_map(name: str, v: Any) -> None:
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(p, (str, os.PathLike)) and str(p)
                                          for k, p in v.items()):
        raise _bad(name, "a mapping of model name: checkpoint path", v)


def _device(name: str, v: Any) -> None:
    if not isinstance(v, str) or not re.fullmatch(r"cpu|cuda(:\d+)?|mps", v):
        raise _bad(name, "cpu, cuda, cuda:N or mps", v)


def _strategy_names():
    from ..prompting import STRATEGIES

    return STRATEGIES.names()


def _weight_set_names():
    from ..prompting.weights import WEIGHT_SETS

    return WEIGHT_SETS.names()


def _monitors():
    return tuple(MONITORS)


_ANY_TEXT = _text(empty=True)
FIELD_RULES: dict[str, Any] = {
    "name": _text(),
    "description": _ANY_TEXT,
    "dataset": _choice(DATASETS),
    "data_root": _text(),
    "train_split": _split_name,
    "test_split": _split_name,
    "test_holdout_fraction": _real(0, 1, open_low=True, open_high=True, optional=True),
    "val_fraction": _real(0, 1, open_low=True, open_high=True),
    "synthetic_train_images": _integer(1),
    "synthetic_test_images": _integer(1),
    "synthetic_size_range": _size_range,
    "synthetic_melanoma_fraction": _real(0, 1),
    "download_splits": _items(_split_name),
    "max_images": _integer(1, optional=True),
    "max_side": _integer(16, optional=True),
    "evaluate_on": _choice(("test", "val")),
    "models": _items(_text()),
    "zero_shot_weights": _weights,
    "finetune_init_weights": _weights,
    "finetuned_checkpoints": _checkpoint_map,
    "epochs": _integer(1),
    "patience": _integer(1),
    "batch_size": _integer(1),
    "lr": _real(0, open_low=True),
    "weight_decay": _real(0),
    "finetune_input_size": _integer(16, optional=True),
    "monitor": _choice(_monitors),
    "amp": _flag,
    "num_workers": _integer(0),
    "settings": _items(_text(), options=SETTINGS),
    "cams": _items(_text(), nonempty=False),
    "slow_cams": _items(_text(), nonempty=False),
    "slow_cams_max_images": _integer(0, optional=True),
    "hitl_max_images": _integer(1, optional=True),
    "cam_batch_size": _integer(1),
    "scorecam_channels": _integer(1, optional=True),
    "scorecam_selection": _choice(SCORECAM_SELECTIONS),
    "ablation_ratio": _real(0, 1, open_low=True),
    "segmenter": _text(),
    "segmenter_checkpoint": _text(optional=True),
    "prompt_variants": _items(_text(), nonempty=False, options=PROMPT_VARIANTS),
    "main_prompt_variant": _choice(PROMPT_VARIANTS, optional=True),
    "percentile": _items(_real(0, 100)),
    "num_points": _items(_integer(1)),
    "amplification": _items(_real(0)),
    "cam_mask_rows": _flag,
    "strategies": _items(_text(), nonempty=False, options=_strategy_names),
    "strategy_cams": _items(_text(), nonempty=False),
    "ranking_weights": _choice(_weight_set_names),
    "selection_oracles": _flag,
    "gt_baselines": _items(_text(), nonempty=False, options=BASELINES),
    "seed": _integer(0),
    "device": _device,
    "output_dir": _text(),
    "cache_dir": _text(optional=True),
    "checkpoint_dir": _text(),
    "progress": _flag,
}


def check_paths(config: ExperimentConfig, *, data: bool = True, evaluation: bool = True, finetuned: bool = True,
                training: bool = False) -> None:
    """``FileNotFoundError`` (one line naming the field and the path) for the first input of
    ``config`` that is not on disk, in the order a user fixes them: ``data``: the data folder
    (``data_root``); ``evaluation``: the segmenter checkpoint and the zero-shot weights given as a
    path; ``finetuned``: the fine-tuned checkpoints when the fine-tuned setting is on;
    ``training``: the weights fine-tuning starts from given as a path."""
    if data and not Path(config.data_root).is_dir():
        hint = "; " + dataset_spec(config.dataset).obtain.replace("<profile>", config.name)
        what = "is a file, not a folder" if Path(config.data_root).exists() else "folder not found"
        raise FileNotFoundError(f"data_root {config.data_root}: {what}{hint}")
    from ..models.build import NAMED_WEIGHTS

    def weights_file(name: str) -> None:
        value = getattr(config, name)
        if value not in NAMED_WEIGHTS and not Path(value).is_file():
            raise FileNotFoundError(f"{name} {value}: neither {', '.join(NAMED_WEIGHTS)} nor an existing "
                                    "checkpoint file")

    if evaluation:
        if config.segmenter_checkpoint is not None and not Path(config.segmenter_checkpoint).is_file():
            raise FileNotFoundError(f"segmenter_checkpoint {config.segmenter_checkpoint}: file not found")
        if "zero-shot" in config.settings:
            weights_file("zero_shot_weights")
    if finetuned and "fine-tuned" in config.settings:
        for model in config.models:
            config.finetuned_checkpoint(model, must_exist=True)
    if training:
        weights_file("finetune_init_weights")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML (``.yml``/``.yaml``) or JSON config file into a dict."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {p} does not exist")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() in (".yml", ".yaml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"config file {p} could not be parsed: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"config file {p} must hold a mapping of field: value, got {type(data).__name__}")
    return data


__all__ = ["ExperimentConfig", "load_config_file", "check_paths", "FIELD_RULES", "PAPER_MODELS", "DATASETS",
           "PROMPT_VARIANTS", "SETTINGS", "BASELINES", "DEFAULT_STRATEGIES"]

"""The one configuration object of an experiment run (data, fine-tuning, the grid).

:class:`ExperimentConfig` is a plain dataclass so that it can be written to / read from YAML or
JSON (``to_dict`` / ``from_dict`` / ``from_file``) and recorded verbatim in the run summary.
Named presets live in :mod:`cam2seg_utils.profiles`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..cam_options import (DEFAULT_ABLATION_CHANNELS, DEFAULT_CAM_BATCH_SIZE, DEFAULT_SCORECAM_CHANNELS,
                           DEFAULT_SCORECAM_SELECTION, CamOptions)
from ..names import BASELINES, PAPER_CAMS, PAPER_MODELS, SETTINGS, SLOW_CAMS  # noqa: F401  (re-exported)
from ..prompting.algorithm1 import PromptParams
from ..prompting.weights import DEFAULT_WEIGHTS

PROMPT_VARIANTS = ("box", "box+points", "points")
# "synthetic" (generated), "isic" (ISIC 2017, official layout), "ph2" (PH2, evaluation only:
# every image, zero-shot and with a checkpoint fine-tuned on ISIC; see experiments/datasets.py)
DATASETS = ("synthetic", "isic", "ph2")
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
    cams: list[str] = field(default_factory=lambda: list(PAPER_CAMS))
    slow_cams: list[str] = field(default_factory=lambda: list(SLOW_CAMS))
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
        for name in ("percentile", "amplification"):
            v = getattr(self, name)
            setattr(self, name, [float(x) for x in (v if isinstance(v, (list, tuple)) else [v])])
        v = self.num_points
        self.num_points = [int(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
        for name in ("models", "settings", "cams", "slow_cams", "prompt_variants", "gt_baselines", "strategies",
                     "strategy_cams"):
            v = getattr(self, name)
            setattr(self, name, [v] if isinstance(v, str) else list(v))
        self.synthetic_size_range = tuple(int(x) for x in self.synthetic_size_range)  # type: ignore
        self.download_splits = tuple(self.download_splits)
        if self.main_prompt_variant is None and self.prompt_variants:
            self.main_prompt_variant = "box" if "box" in self.prompt_variants else self.prompt_variants[0]
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field for values that cannot work."""
        if self.evaluate_on not in ("test", "val"):
            raise ValueError(f"evaluate_on must be 'test' or 'val', got {self.evaluate_on!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {self.dataset!r}")
        if self.dataset == "ph2" and (self.evaluate_on != "test" or self.test_holdout_fraction is not None):
            raise ValueError("dataset 'ph2' is evaluated whole (no validation or hold-out split): evaluate_on must "
                             f"be 'test' (got {self.evaluate_on!r}) and test_holdout_fraction None (got "
                             f"{self.test_holdout_fraction!r}); start from --profile ph2")
        bad = [s for s in self.settings if s not in SETTINGS]
        if bad:
            raise ValueError(f"settings {bad} unknown; choose from {SETTINGS}")
        bad = [v for v in self.prompt_variants if v not in PROMPT_VARIANTS]
        if bad:
            raise ValueError(f"prompt_variants {bad} unknown; choose from {PROMPT_VARIANTS}")
        if self.prompt_variants and self.main_prompt_variant not in self.prompt_variants:
            raise ValueError(f"main_prompt_variant {self.main_prompt_variant!r} is not among "
                             f"prompt_variants {self.prompt_variants}")
        from ..prompting import STRATEGIES

        bad = [s for s in self.strategies if s not in STRATEGIES]
        if bad:
            raise ValueError(f"strategies {bad} unknown; choose from {STRATEGIES.names()}")
        from ..prompting.weights import WEIGHT_SETS

        if self.ranking_weights not in WEIGHT_SETS:
            raise ValueError(f"ranking_weights {self.ranking_weights!r} unknown; choose from {WEIGHT_SETS.names()}")
        bad = [g for g in self.gt_baselines if g not in BASELINES]
        if bad:
            raise ValueError(f"gt_baselines {bad} unknown; choose from {BASELINES}")
        for p in self.percentile:
            if not 0.0 <= p <= 100.0:
                raise ValueError(f"percentile {p} outside [0, 100]")
        for n in self.num_points:
            if n < 1:
                raise ValueError(f"num_points must be >= 1, got {n}")
        if self.test_holdout_fraction is not None and not 0 < self.test_holdout_fraction < 1:
            raise ValueError(f"test_holdout_fraction must be in (0, 1), got {self.test_holdout_fraction}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.epochs < 1 or self.patience < 1:
            raise ValueError("epochs and patience must be >= 1")
        if self.max_side is not None and int(self.max_side) < 16:
            raise ValueError(f"max_side must be >= 16 pixels or None, got {self.max_side}")
        if self.slow_cams_max_images is not None and self.slow_cams_max_images < 0:
            raise ValueError(f"slow_cams_max_images must be >= 0 or None (all), got {self.slow_cams_max_images}")
        if self.hitl_max_images is not None and int(self.hitl_max_images) < 1:
            raise ValueError(f"hitl_max_images must be >= 1 or None (all), got {self.hitl_max_images}")
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
            if self.dataset == "ph2":   # never fine-tuned on: the checkpoint comes from an ISIC run
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


__all__ = ["ExperimentConfig", "load_config_file", "PAPER_CAMS", "SLOW_CAMS", "PAPER_MODELS", "DATASETS",
           "PROMPT_VARIANTS", "SETTINGS", "BASELINES", "DEFAULT_STRATEGIES"]

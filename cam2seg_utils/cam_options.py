"""Parameters of the perturbation CAMs (ScoreCAM's top-k channels, AblationCAM's channel ratio).

Plain Python (no torch), so that the experiment config can validate and record them without
importing the CAM stack. :mod:`cam2seg_utils.cams` explains what each parameter does.

The defaults were chosen on 20 **validation** images of the real ISIC 2017 folder against the
full methods (``benchmarks/bench_slow_cams.py``; the table is ``book/scaling.md``): ScoreCAM's
k = 64 variance-ranked channels is the only tried k (16 / 32 / 64, variance or gradient
ranking) whose heatmaps correlate >= 0.99 with full ScoreCAM's; its masks overlap the full
method's with IoU 0.93, no image's mask IoU drops by more than 0.026 and the mean rises by 0.021,
at 1/19 of pytorch-grad-cam's ScoreCAM CPU time. AblationCAM runs on every channel: it is the
full method's arithmetic, and :class:`cam2seg_utils.cams.FastAblationCAM` makes it 178x cheaper
than upstream's. The batch (:data:`DEFAULT_CAM_BATCH_SIZE`, 8 masked images per pass) was timed
on official validation images: 1.7x less CPU time than 64 for the same heatmap.
"""
from __future__ import annotations

from dataclasses import dataclass

SCORECAM_SELECTIONS: tuple[str, ...] = ("variance", "gradient")
DEFAULT_SCORECAM_CHANNELS: int | None = 64
DEFAULT_SCORECAM_SELECTION: str = "variance"
DEFAULT_ABLATION_CHANNELS: float = 1.0  # every channel
#: Perturbed copies per forward pass on a CPU (ScoreCAM's masked images; AblationCAM's whole-
#: network fallback). Small batches stay in the CPU caches: 8 masked 224-px images per pass cost
#: Lite0 1.7x less CPU time per image than 64 (book/scaling.md). A GPU wants large batches: the
#: ``paper`` profile sets 64.
DEFAULT_CAM_BATCH_SIZE: int = 8


@dataclass(frozen=True)
class CamOptions:
    """Parameters of the perturbation methods (ignored by the others).

    ``batch_size``: perturbed copies per forward pass (ScoreCAM / AblationCAM).
    ``ablation_channels``: AblationCAM's ``ratio_channels_to_ablate`` in (0, 1]; ``None`` = 1.
    ``scorecam_channels``: ScoreCAM's k; ``None`` = every channel (upstream ScoreCAM).
    ``scorecam_selection``: ``"variance"`` | ``"gradient"``, how the k channels are ranked.
    """

    batch_size: int = DEFAULT_CAM_BATCH_SIZE
    ablation_channels: float | None = None
    scorecam_channels: int | None = None
    scorecam_selection: str = "variance"

    def __post_init__(self) -> None:
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.ablation_channels is not None and not 0.0 < float(self.ablation_channels) <= 1.0:
            raise ValueError(f"ablation_channels must be in (0, 1], got {self.ablation_channels}")
        if self.scorecam_channels is not None and int(self.scorecam_channels) < 1:
            raise ValueError(f"scorecam_channels must be >= 1 or None (all), got {self.scorecam_channels}")
        if self.scorecam_selection not in SCORECAM_SELECTIONS:
            raise ValueError(f"scorecam_selection must be one of {SCORECAM_SELECTIONS}, got {self.scorecam_selection!r}")


__all__ = ["SCORECAM_SELECTIONS", "DEFAULT_CAM_BATCH_SIZE", "DEFAULT_SCORECAM_CHANNELS", "DEFAULT_SCORECAM_SELECTION",
           "DEFAULT_ABLATION_CHANNELS", "CamOptions"]

"""Experiments: fine-tuning, the resumable grid, heatmap cache, statistics and summary tables.

Submodules are imported on use (``from cam2seg_utils.experiments import summary``) so that the
light ones (stats, summary) do not pull in torch.
"""
from .config import ExperimentConfig

__all__ = ["ExperimentConfig"]

"""What a figure that is recomputed from pixels uses: which setting and classifier, and which
images (results never store pixels, so Fig. 2, Fig. 7 and the strategies' worked examples redraw
their images, heatmaps and masks from the data and the weights).

For a published snapshot the images come from a local copy of the data whose files match the
snapshot's SHA-256 digests, and the fine-tuned classifier only when its checkpoint is the one the
grid used; otherwise :class:`~.provenance.FigureUnavailable` says why.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data.registry import dataset_spec
from .provenance import ISIC_NOT_HERE, FigureUnavailable, local_isic_root, snapshot_of
from .steps import ensure_data


def classifier_for(config, setting: str, model: str):
    """The classifier of ``model`` in ``setting``: the fine-tuned checkpoint of ``config`` or
    the zero-shot weights (``config.zero_shot_weights``), on ``config.device``."""
    if setting == "fine-tuned":
        from ..experiments.finetune import load_finetuned

        return load_finetuned(model, config.finetuned_checkpoint(model), device=config.device)
    from ..models import build_classifier

    return build_classifier(model, weights=config.zero_shot_weights, device=config.device)


def preferred(config, grid: pd.DataFrame) -> tuple[str, str]:
    """(setting, model) the single-image figures use: fine-tuned when computed; the paper's Swin
    when present, else the first model."""
    from ..paper import paper_model_label

    settings = [s for s in ("fine-tuned", "zero-shot") if (grid["setting"] == s).any()] or list(config.settings)
    models = [m for m in config.models if paper_model_label(m) == "Swin"] or list(config.models)
    return settings[0], models[0]


def checkpoint_matches(config, model: str, grid: pd.DataFrame) -> bool:
    """Whether the fine-tuned checkpoint of ``model`` is here and is the one the grid used
    (its SHA-256 prefix in the ``weights`` column)."""
    from ..file_digest import file_sha256

    path = config.finetuned_checkpoint(model)
    if not path.is_file():
        return False
    used = grid[(grid["setting"] == "fine-tuned") & (grid["model"] == model)]["weights"].dropna().unique()
    sha = file_sha256(path)
    return all("@sha256:" not in str(w) or sha.startswith(str(w).split("@sha256:")[1]) for w in used)


def figure_setting(config, grid: pd.DataFrame) -> tuple[str, str]:
    """(setting, model) of the single-image figures: :func:`preferred`, except that a published
    page falls back to zero-shot when the fine-tuned checkpoint the grid used is not here."""
    setting, model = preferred(config, grid)
    if setting == "fine-tuned" and not checkpoint_matches(config, model, grid):
        if snapshot_of(config) is None:
            raise FigureUnavailable(f"the fine-tuned checkpoint {config.finetuned_checkpoint(model)} is missing "
                                    "or differs from the one the grid used")
        if not (grid["setting"] == "zero-shot").any():
            raise FigureUnavailable(f"the fine-tuned checkpoint the snapshot used "
                                    f"({config.finetuned_checkpoint(model)}) is not here; checkpoints are not published")
        setting = "zero-shot"
    return setting, model


def figure_samples(config):
    """``load(image_id) -> Sample`` for the figures: the run's test images, or for a published
    page the local copy of the snapshot's images, each checked against the snapshot's SHA-256
    digests (raises :class:`~.provenance.FigureUnavailable` when they are absent or differ)."""
    snap = snapshot_of(config)
    if snap is None:
        return ensure_data(config).test_dataset.load
    from ..data.isic import ISICDataset, split_paths
    from ..file_digest import file_sha256

    info = snap.images.set_index("image_id")
    synthetic = dataset_spec(config.dataset).synthetic
    if synthetic:
        ensure_data(config)                      # deterministic: regenerated from the recorded seed
        roots = [Path(config.data_root)]
    else:
        roots = [r for r in (Path(config.data_root), local_isic_root()) if r is not None]
    folder = str(info["split_folder"].iloc[0])
    roots = [r for r in roots if split_paths(r, folder)[0].is_dir()]
    if not roots:
        raise FigureUnavailable(ISIC_NOT_HERE if not synthetic
                                else f"the synthetic images of {config.data_root} could not be generated")
    dataset = ISICDataset(roots[0], split=folder)

    def load(image_id: str):
        for path, key in ((dataset.image_path(image_id), "image_sha256"), (dataset.mask_path(image_id), "mask_sha256")):
            if not path.is_file():
                raise FigureUnavailable(f"{path} is missing from the local data folder {roots[0]}")
            if file_sha256(path) != info.at[image_id, key]:
                raise FigureUnavailable(f"{path} differs from the file the snapshot was computed on "
                                        f"(SHA-256 mismatch): another copy or resolution of the data set")
        return dataset.load(image_id)

    return load


__all__ = ["classifier_for", "preferred", "checkpoint_matches", "figure_setting", "figure_samples"]

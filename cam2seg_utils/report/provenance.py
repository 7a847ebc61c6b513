"""Where a page's numbers come from: the provenance box at the top of every results page, and
the published snapshots (:mod:`cam2seg_utils.publish`) a page can render instead of running.

A notebook whose ``published`` parameter names a snapshot folder renders it:
:func:`published_config` gives the snapshot's recorded config with ``output_dir`` = the snapshot
folder, :func:`snapshot_of` tells a page that it reads one, and :func:`provenance` then shows the
run's commit, images and weights as the snapshot recorded them, with the commands that
regenerate it. Figures that need pixels are redrawn only from a local data folder whose files
match the snapshot's digests (:mod:`.recompute`); otherwise they raise
:class:`FigureUnavailable` with the reason the page shows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from ..data.registry import dataset_spec
from .. import viz


class FigureUnavailable(RuntimeError):
    """A figure that needs image pixels cannot be drawn in this build; the message says why."""


ISIC_NOT_HERE = ("the ISIC 2017 images are not part of the repository (they are never committed): put a copy "
                 "at `../shared/isic2017` beside the checkout, or set `CAM2SEG_ISIC_ROOT`, and build the book "
                 "again to draw this figure from it")


def local_isic_root() -> Path | None:
    """The real ISIC 2017 folder beside the checkout (``../shared/isic2017`` relative to the
    working directory, or ``CAM2SEG_ISIC_ROOT``), or ``None`` when absent."""
    env = os.environ.get("CAM2SEG_ISIC_ROOT")
    root = Path(env) if env else Path.cwd().parent / "shared" / "isic2017"
    return root if (root / "ISIC-2017_Training_Data").is_dir() else None


# ------------------------------------------------------------------------------ published snapshots
def published_config(folder: str | Path, device: str | None = None):
    """The config recorded in the snapshot ``folder`` (validated), with ``output_dir`` = the
    snapshot and progress bars off (``device`` replaced when given)."""
    from ..experiments.config import ExperimentConfig
    from ..publish import load_snapshot

    snap = load_snapshot(folder)
    # a page that recomputes a heatmap caches it under .cache/, never beside the committed snapshots
    over: dict[str, Any] = {"output_dir": str(folder), "progress": False,
                            "cache_dir": str(Path(".cache") / "published" / Path(folder).name / "heatmap_cache")}
    if device:
        over["device"] = device
    return ExperimentConfig.from_dict(snap.summary["config"]).replace(**over)


def snapshot_of(config):
    """The :class:`~cam2seg_utils.publish.Snapshot` ``config`` reads (its ``output_dir`` is a
    published snapshot), or ``None`` for a run of this build."""
    from ..publish import is_snapshot, load_snapshot

    return load_snapshot(config.output_dir) if is_snapshot(config.output_dir) else None


def regenerate_note(config) -> None:
    """For a published page: say that it renders a snapshot, and how to regenerate it."""
    snap = snapshot_of(config)
    if snap is None:
        return
    cmds = "\n".join(snap.published["commands"])
    viz.display_markdown(f"This page renders the published snapshot `{snap.folder.as_posix()}` (tables only; "
                         "this book build did not re-run it). Regenerate it with:\n\n```bash\n" + cmds + "\n```")


# ------------------------------------------------------------------------------ the provenance box
def dataset_label(config) -> str:
    """``"synthetic (data/synthetic)"``, ``"ISIC 2017 (<root>)"`` or ``"PH2 (<root>)"``."""
    from ..experiments.datasets import dataset_name

    return f"{dataset_name(config)} ({config.data_root})"


def weights_map(config, setting: str | None = None) -> dict[str, str]:
    """Classifier -> weight source(s) of ``config`` (zero-shot and/or fine-tuned checkpoint; the
    embedded weights by package, version and SHA-256)."""
    out = {}
    for m in config.models:
        parts = []
        if setting in (None, "zero-shot") and "zero-shot" in config.settings:
            parts.append(f"zero-shot: {config.zero_shot_weights}" + (
                f" ({_embedded_description()})" if config.zero_shot_weights == "embedded" else ""))
        if setting in (None, "fine-tuned") and "fine-tuned" in config.settings:
            parts.append(f"fine-tuned: {config.finetuned_checkpoint(m)}")
        out[m] = "; ".join(parts) or config.zero_shot_weights
    return out


def _embedded_description() -> str:
    from ..models import describe_embedded_weights

    return describe_embedded_weights()


def _segmenter_description(config) -> str:
    """The segmenter checkpoint by package, version and SHA-256 (or its configured path)."""
    from ..experiments.identity import describe_segmenter_checkpoint

    try:
        return describe_segmenter_checkpoint(config)
    except FileNotFoundError:
        return config.segmenter_checkpoint or "default checkpoint of the segmenter (not found here)"


def slow_cam_label(config) -> str:
    """How ScoreCAM and AblationCAM were computed, in words."""
    k = "every channel" if config.scorecam_channels is None else (
        f"top {config.scorecam_channels} channels by {config.scorecam_selection}")
    ratio = 1.0 if config.ablation_ratio is None else float(config.ablation_ratio)
    ablation = "every channel" if ratio >= 1.0 else f"upstream's channel subset, ratio {ratio:g}"
    return f"ScoreCAM on {k}; AblationCAM on {ablation}"


def provenance(config, n_images: int, wall_time_s: float | None = None, include_grid: bool = True,
               **extra: Any) -> None:
    """Display the provenance box of a results page for ``config`` (with the grid's run summary
    when ``include_grid`` and one exists). The Markdown is :func:`viz.provenance_markdown`'s."""
    params = {"percentile": config.percentile, "num_points": config.num_points,
              "amplification": config.amplification, "cams": config.cams,
              "prompt variants": config.prompt_variants, "seed": config.seed,
              "epochs": config.epochs, "patience": config.patience, "device": config.device,
              "image resolution": ("original" if config.max_side is None
                                   else f"downsized to a longer side of at most {config.max_side} px (max_side)"),
              "ScoreCAM / AblationCAM": slow_cam_label(config)}
    snap = snapshot_of(config)
    if snap is not None:
        _published_provenance(config, snap, params, extra)
        return
    summary_path = Path(config.output_dir) / "run_summary.json"
    if include_grid and summary_path.is_file():
        run = json.loads(summary_path.read_text(encoding="utf-8"))
        params["grid run"] = (f"{run.get('n_images', '?')} images, {run.get('n_rows', '?')} rows, "
                              f"{run.get('n_errors', '?')} errors, last call {run.get('wall_time_s', float('nan')):.0f} s, "
                              f"commit {str(run.get('git_commit', '?'))[:12]}")
        if run.get("slow_cams"):
            params["slow CAMs"] = run.get("slow_cams_note", "")
    params.update(extra)
    viz.display_provenance(
        profile=config.name, dataset=dataset_label(config), n_images=n_images,
        models=weights_map(config), segmenter=config.segmenter, checkpoint=_segmenter_description(config),
        parameters=params, wall_time_s=wall_time_s, synthetic=dataset_spec(config.dataset).synthetic)


def _published_provenance(config, snap, params: dict[str, Any], extra: Mapping[str, Any]) -> None:
    run, pub = snap.summary, snap.published
    ds = pub["dataset"]
    params["published snapshot"] = f"{snap.folder.as_posix()} (not re-executed by this build)"
    params["grid run"] = (f"{run['n_images']} images, {run['n_rows']} rows, {run['n_errors']} errors, "
                          f"{run.get('wall_time_s', float('nan')):.0f} s, commit {str(run['git_commit'])[:12]}")
    if run.get("slow_cams"):
        params["slow CAMs"] = run.get("slow_cams_note", "")
    params["images"] = (f"{ds['n_images']} ({ds['n_melanoma']} melanoma); SHA-256 of the ids {ds['ids_sha256'][:12]}, "
                        f"of the image files {ds['images_sha256'][:12]} (per image: images.csv)")
    params.update({k: v for k, v in extra.items() if k != "split"})
    # the weights the run used, as its grid recorded them (package + version + SHA-256, or the
    # checkpoint path and SHA-256; never a local path of the machine that ran it)
    from ..experiments.identity import recorded_source_label

    models = {m: "; ".join(f"{c['setting']}: {recorded_source_label(c.get('weights'), c.get('weights_id'))}"
                           for c in run.get("classifiers", []) if c["model"] == m)
              or weights_map(config)[m] for m in config.models}
    seg = run.get("segmenter_checkpoint") or {}
    viz.display_provenance(
        profile=config.name, dataset=f"{ds['name']} ({ds['data_root']}), split {ds['split']}",
        n_images=int(ds["n_images"]), models=models, segmenter=run.get("segmenter", config.segmenter),
        checkpoint=recorded_source_label(seg.get("file"), seg.get("id")) if seg else _segmenter_description(config),
        parameters=params, commit=str(run["git_commit"])[:12], date=f"run published {pub['published_at']}",
        wall_time_s=None, synthetic=dataset_spec(config.dataset).synthetic)
    regenerate_note(config)


__all__ = ["FigureUnavailable", "ISIC_NOT_HERE", "local_isic_root", "published_config", "snapshot_of",
           "regenerate_note", "dataset_label", "weights_map", "slow_cam_label", "provenance"]

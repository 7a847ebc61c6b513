"""Glue between the book's notebooks and the experiment API (kept out of the notebooks so that
they stay thin and the same code runs on Colab, locally and in a SLURM array).

Notebook parameters (papermill) -> :class:`~cam2seg_utils.experiments.config.ExperimentConfig`
via :func:`config_from_parameters`; :func:`ensure_finetuned` / :func:`ensure_grid` run the
resumable experiment steps (the first notebook that needs a result computes it, the next ones
read it back); :func:`provenance` shows the provenance box of a results page.

Published snapshots (:mod:`cam2seg_utils.publish`): a notebook whose ``published`` parameter
names a snapshot folder renders it instead of running anything. :func:`notebook_config` then
returns the snapshot's recorded config with ``output_dir`` = the snapshot folder, and the same
functions (:func:`ensure_grid`, :func:`ensure_finetuned`, :func:`training_history`,
:func:`provenance`) read the snapshot. Figures that need pixels (Fig. 2, Fig. 7) are redrawn
from the local data folder when its files match the snapshot's digests, and otherwise raise
:class:`FigureUnavailable` with the reason the page shows.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import viz

#: notebook parameter -> ExperimentConfig field (``None`` = take the profile's value)
PARAMETER_FIELDS: dict[str, str] = {
    "dataset": "dataset", "data_root": "data_root", "device": "device", "models": "models",
    "cams": "cams", "n_images": "max_images", "percentile": "percentile", "num_points": "num_points",
    "amplification": "amplification", "epochs": "epochs", "patience": "patience", "seed": "seed",
    "output_dir": "output_dir",
}


def config_from_parameters(profile: str, **params: Any):
    """The profile's config with every non-``None`` notebook parameter applied.

    ``n_images`` sets ``max_images``; scalar ``percentile`` / ``num_points`` / ``amplification``
    become one-element lists. Unknown parameters raise ``KeyError`` listing the known ones."""
    from .profiles import get_profile

    unknown = sorted(set(params) - set(PARAMETER_FIELDS))
    if unknown:
        raise KeyError(f"unknown notebook parameter(s) {unknown}; known: {sorted(PARAMETER_FIELDS)}")
    overrides = {PARAMETER_FIELDS[k]: v for k, v in params.items() if v is not None}
    for key in ("percentile", "num_points", "amplification", "models", "cams"):
        if key in overrides and not isinstance(overrides[key], (list, tuple)):
            overrides[key] = [overrides[key]]
    cfg = get_profile(profile, **overrides)
    base = get_profile(profile)
    if "output_dir" not in overrides and cfg.fingerprint() != base.fingerprint():
        # the grid refuses to mix configurations in one folder: overridden runs get their own,
        # beside the profile's (so they share its heatmap cache), named by the config fingerprint
        cfg = cfg.replace(output_dir=f"{base.output_dir}-{cfg.fingerprint()[:8]}")
    return cfg


def notebook_config(namespace: Mapping[str, Any]):
    """The config of a notebook's ``parameters`` cell (pass ``globals()``), after setting the
    book's display defaults (figure dpi, table precision). Every notebook starts with this.

    With ``published`` set (a snapshot folder), the snapshot's own config (see
    :func:`published_config`); only ``device`` may be set beside it."""
    import matplotlib.pyplot as plt

    plt.rcParams["figure.dpi"] = 110
    pd.set_option("display.precision", 3)
    params = {k: namespace[k] for k in PARAMETER_FIELDS if k in namespace}
    if namespace.get("published"):
        clash = sorted(k for k, v in params.items() if v is not None and k != "device")
        if clash:
            raise ValueError(f"a page rendering the published snapshot {namespace['published']} takes no "
                             f"experiment parameters, got {clash}: drop them, or unset `published` to re-run")
        cfg = published_config(namespace["published"], device=params.get("device"))
        if cfg.name != namespace["profile"]:
            raise ValueError(f"snapshot {namespace['published']} is of profile {cfg.name!r}, "
                             f"not {namespace['profile']!r}")
        return cfg
    return config_from_parameters(namespace["profile"], **params)


# ------------------------------------------------------------------------------ published snapshots
class FigureUnavailable(RuntimeError):
    """A figure that needs image pixels cannot be drawn in this build; the message says why."""


ISIC_NOT_HERE = ("the ISIC 2017 images are not part of the repository (they are never committed): put a copy "
                 "at `../shared/isic2017` beside the checkout, or set `CAM2SEG_ISIC_ROOT`, and build the book "
                 "again to draw this figure from it")


def published_config(folder: str | Path, device: str | None = None):
    """The config recorded in the snapshot ``folder`` (validated), with ``output_dir`` = the
    snapshot and progress bars off (``device`` replaced when given)."""
    from .experiments.config import ExperimentConfig
    from .publish import load_snapshot

    snap = load_snapshot(folder)
    over: dict[str, Any] = {"output_dir": str(folder), "progress": False}
    if device:
        over["device"] = device
    return ExperimentConfig.from_dict(snap.summary["config"]).replace(**over)


def snapshot_of(config):
    """The :class:`~cam2seg_utils.publish.Snapshot` ``config`` reads (its ``output_dir`` is a
    published snapshot), or ``None`` for a run of this build."""
    from .publish import is_snapshot, load_snapshot

    return load_snapshot(config.output_dir) if is_snapshot(config.output_dir) else None


def split_label(grid: pd.DataFrame) -> str:
    """The split(s) the grid's rows name (e.g. ``"Training (held-out test)"``)."""
    splits = sorted(s for s in grid["split"].dropna().unique() if s) if "split" in grid.columns else []
    return "; ".join(splits) or "unknown"


def regenerate_note(config) -> None:
    """For a published page: say that it renders a snapshot, and how to regenerate it."""
    from IPython.display import Markdown, display

    snap = snapshot_of(config)
    if snap is None:
        return
    cmds = "\n".join(snap.published["commands"])
    display(Markdown(f"This page renders the published snapshot `{snap.folder.as_posix()}` (tables only; "
                     "this book build did not re-run it). Regenerate it with:\n\n```bash\n" + cmds + "\n```"))


def dataset_label(config) -> str:
    """``"synthetic (data/synthetic)"``, ``"ISIC 2017 (<root>)"`` or ``"PH2 (<root>)"``."""
    from .experiments.datasets import dataset_name

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
    from .models import describe_embedded_weights

    return describe_embedded_weights()


def _segmenter_description(config) -> str:
    """The segmenter checkpoint by package, version and SHA-256 (or its configured path)."""
    from .experiments.identity import describe_segmenter_checkpoint

    try:
        return describe_segmenter_checkpoint(config)
    except FileNotFoundError:
        return config.segmenter_checkpoint or "default checkpoint of the segmenter (not found here)"


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
              "ScoreCAM / AblationCAM": _slow_cam_label(config)}
    snap = snapshot_of(config)
    if snap is not None:
        _published_provenance(config, snap, params, extra)
        return
    summary_path = Path(config.output_dir) / "run_summary.json"
    if include_grid and summary_path.is_file():
        import json

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
        parameters=params, wall_time_s=wall_time_s, synthetic=config.dataset == "synthetic")


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
    from .experiments.identity import recorded_source_label

    models = {m: "; ".join(f"{c['setting']}: {recorded_source_label(c.get('weights'), c.get('weights_id'))}"
                           for c in run.get("classifiers", []) if c["model"] == m)
              or weights_map(config)[m] for m in config.models}
    seg = run.get("segmenter_checkpoint") or {}
    viz.display_provenance(
        profile=config.name, dataset=f"{ds['name']} ({ds['data_root']}), split {ds['split']}",
        n_images=int(ds["n_images"]), models=models, segmenter=run.get("segmenter", config.segmenter),
        checkpoint=recorded_source_label(seg.get("file"), seg.get("id")) if seg else _segmenter_description(config),
        parameters=params,
        commit=str(run["git_commit"])[:12], date=f"run published {pub['published_at']}", wall_time_s=None,
        synthetic=config.dataset == "synthetic")
    regenerate_note(config)


def _slow_cam_label(config) -> str:
    k = "every channel" if config.scorecam_channels is None else (
        f"top {config.scorecam_channels} channels by {config.scorecam_selection}")
    ratio = 1.0 if config.ablation_ratio is None else float(config.ablation_ratio)
    ablation = "every channel" if ratio >= 1.0 else f"upstream's channel subset, ratio {ratio:g}"
    return f"ScoreCAM on {k}; AblationCAM on {ablation}"


class Stopwatch:
    """``with Stopwatch() as sw: ...``; ``sw.seconds`` afterwards."""

    def __enter__(self) -> "Stopwatch":
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def ci_table(df: pd.DataFrame, keys: list[str], metrics: tuple[str, ...] = ("iou", "dice"),
             n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per group of ``keys``: ``n``, and for each metric the mean with its 95 % percentile
    bootstrap CI (``<m>``, ``<m>_ci_low``, ``<m>_ci_high``) and a formatted ``<m> [95% CI]``."""
    from .experiments.stats import bootstrap_ci
    from .seeding import stable_seed

    rows = []
    for key, grp in df.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(keys, key))
        row["n"] = len(grp)
        for m in metrics:
            r = bootstrap_ci(grp[m].to_numpy(), n_boot=n_boot,
                             rng=np.random.default_rng(stable_seed(seed, m, *key)))
            row[m], row[f"{m}_ci_low"], row[f"{m}_ci_high"] = r.mean, r.low, r.high
            row[f"{m} [95% CI]"] = viz.format_ci(r.mean, r.low, r.high)
        rows.append(row)
    return pd.DataFrame(rows)


def show_figure(fig) -> None:
    """Display a matplotlib figure once and close it (whatever the matplotlib backend, so the
    executed notebook always holds the PNG, and the inline backend does not show it twice)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


def show(df: pd.DataFrame, precision: int = 3):
    """A frame for display: no index column, floats to ``precision`` digits, NaN as "–",
    long selection labels shortened."""
    from .experiments import summary

    df = df.copy()
    if "selection" in df.columns:
        df["selection"] = df["selection"].replace({summary.ORACLE: "oracle (GT used)",
                                                   summary.PREDICTED_IOU: "predicted IoU (no GT)"})
    pcols = [c for c in df.columns if isinstance(c, str) and c.endswith(" p")]
    styler = df.style.hide(axis="index").format(precision=precision, na_rep="–")
    if pcols:
        styler = styler.format("{:.2g}", subset=pcols, na_rep="–")
    return styler.set_table_attributes('class="dataframe"')


# ------------------------------------------------------------------------------ running
def local_isic_root() -> Path | None:
    """The real ISIC 2017 folder beside the checkout (``../shared/isic2017`` relative to the
    working directory, or ``CAM2SEG_ISIC_ROOT``), or ``None`` when absent."""
    import os

    env = os.environ.get("CAM2SEG_ISIC_ROOT")
    root = Path(env) if env else Path.cwd().parent / "shared" / "isic2017"
    return root if (root / "ISIC-2017_Training_Data").is_dir() else None


def ensure_data(config):
    """Make sure the images of ``config`` exist (synthetic data is generated, idempotently) and
    return its :class:`~cam2seg_utils.experiments.datasets.DataSplits`."""
    from .experiments.datasets import resolve_splits

    if config.dataset == "synthetic":
        from .data.synthetic import generate_synthetic

        common = dict(melanoma_fraction=config.synthetic_melanoma_fraction,
                      size_range=tuple(config.synthetic_size_range))
        generate_synthetic(config.data_root, n_images=config.synthetic_train_images, seed=config.seed,
                           split=config.train_split, **common)
        if config.test_holdout_fraction is None:
            generate_synthetic(config.data_root, n_images=config.synthetic_test_images, seed=config.seed + 1,
                               split=config.test_split, **common)
    elif not Path(config.data_root).is_dir():
        raise FileNotFoundError(f"ISIC 2017 folder {config.data_root} not found (profile {config.name!r}); "
                                f"download it with `python -m cam2seg_utils download --profile {config.name}` or set data_root")
    return resolve_splits(config)


def ensure_finetuned(config) -> pd.DataFrame:
    """Fine-tune (resumable: finished models are read back) and evaluate every model of
    ``config``; the classification table of :func:`~cam2seg_utils.experiments.finetune.run_finetune`."""
    from .experiments.finetune import run_finetune

    table = Path(config.output_dir) / "classification.csv"
    if snapshot_of(config) is not None:   # a snapshot has the table when its run fine-tuned
        return pd.read_csv(table) if table.is_file() else pd.DataFrame(columns=["model", "setting", "n", "accuracy"])
    ckpts = [config.finetuned_checkpoint(m) for m in config.models]
    if table.is_file() and all(c.is_file() for c in ckpts):
        done = pd.read_csv(table)
        newest = max(c.stat().st_mtime for c in ckpts)
        if set(config.models) <= set(done["model"]) and table.stat().st_mtime >= newest:
            return done[done["model"].isin(config.models)].reset_index(drop=True)   # evaluated after the last training
    ensure_data(config)
    return run_finetune(config, resume=True, evaluate=True)


def ensure_grid(config) -> pd.DataFrame:
    """The grid table of ``config``: computed on first use (after fine-tuning when the config has
    the fine-tuned setting), resumed or read back afterwards (``run_grid`` builds no model when
    every image has a valid shard, and retries error shards and changed inputs)."""
    from .experiments.grid import run_grid

    if snapshot_of(config) is not None:
        from .experiments.grid import load_table

        return load_table(config.output_dir)
    ensure_data(config)
    if "fine-tuned" in config.settings:
        missing = [m for m in config.models if not config.finetuned_checkpoint(m).is_file()]
        if missing:
            ensure_finetuned(config)
    return run_grid(config, resume=True).table


def grid_page(config) -> pd.DataFrame:
    """The grid table of ``config`` (computed or resumed), after showing the provenance box with
    the wall time it took: the opening of every page that reads the grid alone."""
    with Stopwatch() as sw:
        grid = ensure_grid(config)
    provenance(config, n_images=n_test_images(grid), wall_time_s=sw.seconds, split=split_label(grid))
    return grid


def training_history(config) -> pd.DataFrame:
    """Per-epoch fine-tuning history of every model (``<checkpoint_dir>/<model>/history.csv``)."""
    frames = []
    published = snapshot_of(config) is not None
    for m in config.models:
        p = (Path(config.output_dir) / "history" / f"{m}.csv" if published
             else config.finetuned_checkpoint(m).parent / "history.csv")
        if p.is_file():
            frames.append(pd.read_csv(p).assign(model=m))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ------------------------------------------------------------------------------ selecting rows
def ok(grid: pd.DataFrame) -> pd.DataFrame:
    return grid[grid["error"].isna()] if "error" in grid.columns else grid


def n_test_images(grid: pd.DataFrame) -> int:
    return int(grid["image_id"].nunique()) if len(grid) else 0


def single_params(config) -> dict[str, float]:
    """The first value of each swept prompt parameter (the one the book's tables show)."""
    return {"percentile": config.percentile[0], "num_points": config.num_points[0],
            "amplification": config.amplification[0]}


def main_variant(config) -> str:
    """The prompt variant the book's headline tables show: ``config.main_prompt_variant``."""
    return config.main_prompt_variant


def cam_rows(grid: pd.DataFrame, prompt_variant: str) -> pd.DataFrame:
    """Error-free CAM rows (zero-shot / fine-tuned) of one prompt variant, on the images every
    model × CAM of the setting has (``summary.common_images``: comparisons use the same images)."""
    from .experiments.summary import algorithm1_rows, common_images

    g = ok(grid)
    g = algorithm1_rows(g)  # the paper's pages show Algorithm 1; strategies have their own page
    return common_images(g[g["setting"].isin(["zero-shot", "fine-tuned"]) & (g["prompt_variant"] == prompt_variant)])


def gt_rows(grid: pd.DataFrame) -> pd.DataFrame:
    """Error-free segmenter baseline rows: ``gt-box``, ``gt-point`` and ``whole-image-box``."""
    from .experiments.summary import GT_SETTINGS

    g = ok(grid)
    return g[g["setting"].isin(GT_SETTINGS)]


def baselines_beside(grid: pd.DataFrame, image_ids=None) -> pd.DataFrame:
    """The segmenter baselines on the same images as a result (``image_ids``; default: every
    image of the grid), one row each, with the split and the number of images: the GT box and
    GT point (the ceiling) and the whole-image box (no localisation), so that a reader sees how
    hard these images are."""
    g = gt_rows(grid)
    if image_ids is not None:
        g = g[g["image_id"].isin(set(image_ids))]
    if g.empty:
        return pd.DataFrame([{"note": "no segmenter baseline rows in this grid"}])
    t = ci_table(g, ["setting", "segmenter"])
    t.insert(0, "split", split_label(g))
    order = {"gt-box": 0, "gt-point": 1, "whole-image-box": 2}
    t = t.sort_values("setting", key=lambda s: s.map(order)).rename(columns={"setting": "baseline (same images)"})
    return t[["split", "baseline (same images)", "segmenter", "n", "iou [95% CI]", "dice [95% CI]"]]


def _baseline_mean(grid: pd.DataFrame, setting: str, image_ids) -> float:
    g = gt_rows(grid)
    g = g[(g["setting"] == setting) & g["image_id"].isin(set(image_ids))]
    return float(g["iou"].mean()) if len(g) else float("nan")


def best_rows(grid: pd.DataFrame, prompt_variant: str, config) -> pd.DataFrame:
    """Best-CAM-per-image rows, both selections (column ``selection``), with a ``selection_key``
    column (``"oracle"`` | ``"predicted-iou"``)."""
    from .experiments import summary

    if cam_rows(grid, prompt_variant).empty:
        return pd.DataFrame(columns=[*grid.columns, "selection", "selection_key"])
    parts = []
    for key in summary.SELECTIONS:
        b = summary.best_per_image(grid, prompt_variant, key, **single_params(config))
        parts.append(b.assign(selection_key=key))
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------ tests & tables
def _paired(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    from .experiments.stats import paired_test

    common = a.index.intersection(b.index).sort_values()
    t = paired_test(a.loc[common].to_numpy(), b.loc[common].to_numpy())
    return {"n pairs": t.n, "mean A": t.mean_a, "mean B": t.mean_b, "mean A-B": t.mean_diff,
            "Wilcoxon p": t.p_value}


def paired_vs_reference(rows: pd.DataFrame, reference_cam: str = "randomcam", metric: str = "iou") -> pd.DataFrame:
    """Each CAM (A) against ``reference_cam`` (B) per setting × model: paired Wilcoxon test on
    the per-image ``metric``."""
    out = []
    if rows.empty or reference_cam not in set(rows["cam"]):
        return pd.DataFrame([{"note": f"{reference_cam} not in this grid: no reference to compare with"}])
    for (setting, model), grp in rows.groupby(["setting", "model"], sort=True):
        ref = grp[grp["cam"] == reference_cam].set_index("image_id")[metric]
        for cam, g2 in grp[grp["cam"] != reference_cam].groupby("cam", sort=True):
            out.append({"setting": setting, "model": model, "A": cam, "B": reference_cam,
                        **_paired(g2.set_index("image_id")[metric], ref)})
    return pd.DataFrame(out)


def best_pair_table(individual: pd.DataFrame) -> pd.DataFrame:
    """Our best (model, CAM) pair per setting beside the paper's Fig. 5 text values."""
    from . import paper

    rows = []
    for setting, grp in individual.groupby("setting", sort=True):
        top = grp.sort_values("iou", ascending=False).iloc[0]
        pm, pc, pv = paper.FIG5_BEST.get(setting, (None, None, float("nan")))
        rows.append({"setting": setting, "ours: model": top["model"], "ours: CAM": top["cam"],
                     "ours: mean IoU": top["iou"], "paper: model": pm, "paper: CAM": pc,
                     "paper: mean IoU": pv, "source": "Sec. 5 text (Fig. 5)"})
    return pd.DataFrame(rows)


def prompt_variant_table(grid: pd.DataFrame, reference: str = "box+points") -> pd.DataFrame:
    """Mean IoU per setting × model × prompt variant, with a paired test of each variant
    against ``reference`` (pairs: same image and CAM)."""
    g = ok(grid)
    g = g[g["setting"].isin(["zero-shot", "fine-tuned"]) & g["prompt_variant"].isin(["box", "points", "box+points"])]
    if g.empty:
        return pd.DataFrame()
    rows = []
    for (setting, model), grp in g.groupby(["setting", "model"], sort=True):
        keyed = grp.set_index(["image_id", "cam", "percentile", "num_points", "amplification"])
        ref = keyed[keyed["prompt_variant"] == reference]["iou"] if reference in set(grp["prompt_variant"]) else None
        for variant, g2 in keyed.groupby("prompt_variant", sort=True):
            row = {"setting": setting, "model": model, "prompt variant": variant, "n": len(g2),
                   "mean IoU": g2["iou"].mean()}
            if ref is not None and variant != reference:
                p = _paired(g2["iou"], ref)
                row.update({f"vs {reference}: mean diff": p["mean A-B"], f"vs {reference}: Wilcoxon p": p["Wilcoxon p"]})
            rows.append(row)
    return pd.DataFrame(rows)


def best_method_tests(best: pd.DataFrame) -> pd.DataFrame:
    """Oracle vs non-oracle per setting × model, and fine-tuned vs zero-shot per model × selection."""
    rows = []
    if best.empty:
        return pd.DataFrame()
    for (setting, model), grp in best.groupby(["setting", "model"], sort=True):
        o = grp[grp["selection_key"] == "oracle"].set_index("image_id")["iou"]
        p = grp[grp["selection_key"] == "predicted-iou"].set_index("image_id")["iou"]
        rows.append({"comparison": "oracle (A) vs predicted-IoU (B)", "setting / selection": setting,
                     "model": model, **_paired(o, p)})
    for (model, sel), grp in best.groupby(["model", "selection_key"], sort=True):
        ft = grp[grp["setting"] == "fine-tuned"].set_index("image_id")["iou"]
        zs = grp[grp["setting"] == "zero-shot"].set_index("image_id")["iou"]
        if len(ft) and len(zs):
            rows.append({"comparison": "fine-tuned (A) vs zero-shot (B)", "setting / selection": sel,
                         "model": model, **_paired(ft, zs)})
    return pd.DataFrame(rows)


def iou_distributions(grid: pd.DataFrame, best: pd.DataFrame, prompt_variant: str) -> dict[str, dict[str, np.ndarray]]:
    """Fig. 6 series per ``"<model> · <setting>"``: all CAM rows, best (oracle), best (predicted IoU)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    rows = cam_rows(grid, prompt_variant)
    for (model, setting), grp in rows.groupby(["model", "setting"], sort=True):
        b = best[(best["model"] == model) & (best["setting"] == setting)]
        out[f"{model} · {setting}"] = {
            "all CAMs": grp["iou"].to_numpy(),
            "best CAM (oracle)": b[b["selection_key"] == "oracle"]["iou"].to_numpy(),
            "best CAM (predicted IoU)": b[b["selection_key"] == "predicted-iou"]["iou"].to_numpy(),
        }
    return out


def gt_vs_cam_tests(grid: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """GT box (A) against the non-oracle best CAM (B) per setting × model (same segmenter)."""
    gt = gt_rows(grid)
    gt = gt[gt["setting"] == "gt-box"]
    if gt.empty or best.empty:
        return pd.DataFrame([{"note": "no GT-box rows or no CAM rows in this grid"}])
    a = gt.groupby("image_id")["iou"].first()
    rows = []
    nonoracle = best[best["selection_key"] == "predicted-iou"]
    for (setting, model), grp in nonoracle.groupby(["setting", "model"], sort=True):
        rows.append({"A": "gt-box", "B": "best CAM (predicted IoU)", "setting": setting, "model": model,
                     **_paired(a, grp.set_index("image_id")["iou"])})
    return pd.DataFrame(rows)


def accuracy_drop_table(clf: pd.DataFrame) -> pd.DataFrame:
    """Fine-tuned minus zero-shot accuracy per model, in points and relative, beside the paper."""
    from . import paper

    rows = []
    for model, grp in clf.groupby("model", sort=True):
        ft = grp[grp["setting"] == "fine-tuned"]["accuracy"]
        zs = grp[grp["setting"].str.startswith("zero-shot")]["accuracy"]
        if ft.empty or zs.empty:
            continue
        ft_v, zs_v = float(ft.iloc[0]), float(zs.iloc[0])
        label = paper.paper_model_label(model)
        key = {"MobileNet_v2": "fig4.mobilenet_v2.accuracy_drop", "Swin": "fig4.swin.accuracy_drop"}.get(label or "")
        rows.append({"model": model, "paper model": label, "fine-tuned acc.": ft_v, "zero-shot acc.": zs_v,
                     "drop (points)": ft_v - zs_v, "drop (relative)": (ft_v - zs_v) / ft_v if ft_v else float("nan"),
                     "paper drop": paper.get(key).value if key else float("nan"),
                     "source": paper.get(key).source if key else ""})
    return pd.DataFrame(rows)



# ------------------------------------------------------------------------------ figures that recompute
def _classifier_for(config, setting: str, model: str):
    if setting == "fine-tuned":
        from .experiments.finetune import load_finetuned

        return load_finetuned(model, config.finetuned_checkpoint(model), device=config.device)
    from .models import build_classifier

    return build_classifier(model, weights=config.zero_shot_weights, device=config.device)


def _preferred(config, grid: pd.DataFrame) -> tuple[str, str]:
    """(setting, model) the single-image figures use: fine-tuned when computed; the paper's Swin
    when present, else the first model."""
    from . import paper

    settings = [s for s in ("fine-tuned", "zero-shot") if (grid["setting"] == s).any()] or list(config.settings)
    models = [m for m in config.models if paper.paper_model_label(m) == "Swin"] or list(config.models)
    return settings[0], models[0]


def _checkpoint_matches(config, model: str, grid: pd.DataFrame) -> bool:
    """Whether the fine-tuned checkpoint of ``model`` is here and is the one the grid used
    (its SHA-256 prefix in the ``weights`` column)."""
    from .experiments.cache import file_sha256

    path = config.finetuned_checkpoint(model)
    if not path.is_file():
        return False
    used = grid[(grid["setting"] == "fine-tuned") & (grid["model"] == model)]["weights"].dropna().unique()
    sha = file_sha256(path)
    return all("@sha256:" not in str(w) or sha.startswith(str(w).split("@sha256:")[1]) for w in used)


def _figure_setting(config, grid: pd.DataFrame) -> tuple[str, str]:
    """(setting, model) of the single-image figures: :func:`_preferred`, except that a published
    page falls back to zero-shot when the fine-tuned checkpoint the grid used is not here."""
    setting, model = _preferred(config, grid)
    if setting == "fine-tuned" and not _checkpoint_matches(config, model, grid):
        if snapshot_of(config) is None:
            raise FigureUnavailable(f"the fine-tuned checkpoint {config.finetuned_checkpoint(model)} is missing "
                                    "or differs from the one the grid used")
        if not (grid["setting"] == "zero-shot").any():
            raise FigureUnavailable(f"the fine-tuned checkpoint the snapshot used "
                                    f"({config.finetuned_checkpoint(model)}) is not here; checkpoints are not published")
        setting = "zero-shot"
    return setting, model


def _figure_samples(config):
    """``load(image_id) -> Sample`` for the figures: the run's test images, or for a published
    page the local copy of the snapshot's images, each checked against the snapshot's SHA-256
    digests (raises :class:`FigureUnavailable` when they are absent or differ)."""
    snap = snapshot_of(config)
    if snap is None:
        return ensure_data(config).test_dataset.load
    from .data.isic import ISICDataset, split_paths
    from .experiments.cache import file_sha256

    info = snap.images.set_index("image_id")
    if config.dataset == "synthetic":
        ensure_data(config)                      # deterministic: regenerated from the recorded seed
        roots = [Path(config.data_root)]
    else:
        roots = [r for r in (Path(config.data_root), local_isic_root()) if r is not None]
    folder = str(info["split_folder"].iloc[0])
    roots = [r for r in roots if split_paths(r, folder)[0].is_dir()]
    if not roots:
        raise FigureUnavailable(ISIC_NOT_HERE if config.dataset != "synthetic"
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


def heatmaps_for_image(config, grid: pd.DataFrame) -> dict[str, Any] | None:
    """Fig. 2: the heatmap of every CAM of ``config`` on the first test image, with the IoU of
    each CAM's noisy mask on that image (from the grid's ``cam-mask`` rows). ``None`` when the
    grid has no rows; :class:`FigureUnavailable` when the pixels or the classifier are not here."""
    from .cams import compute_heatmap
    from .seeding import make_rng

    rows = cam_rows(grid, "cam-mask")
    if rows.empty:
        rows = ok(grid)
    if rows.empty:
        return None
    setting, model = _figure_setting(config, grid)
    image_id = sorted(rows["image_id"].unique())[0]
    sample = _figure_samples(config)(image_id)
    clf = _classifier_for(config, setting, model)
    cams = [c for c in config.cams if (rows["cam"] == c).any()] or list(config.cams)
    heatmaps, subtitles = {}, {}
    for cam in cams:
        res = compute_heatmap(clf, sample.image, cam, rng=make_rng(config.seed, image_id, model, "randomcam"),
                              **dataclasses.asdict(config.cam_options()))  # the grid's CAM parameters
        heatmaps[cam] = res.heatmap
        r = rows[(rows["image_id"] == image_id) & (rows["setting"] == setting) & (rows["model"] == model)
                 & (rows["cam"] == cam)]
        if len(r):
            subtitles[cam] = f"noisy-mask IoU {float(r['iou'].iloc[0]):.2f}"
    return {"image": sample.image, "mask": sample.mask, "heatmaps": heatmaps, "subtitles": subtitles,
            "image_id": image_id, "model": model, "setting": setting}


def example_cases(config, grid: pd.DataFrame) -> list[dict[str, Any]]:
    """Fig. 7: good / median / failed best-CAM (oracle) cases, recomputed from the stored prompts."""
    import json

    from .cams import compute_heatmap
    from .metrics import segmentation_metrics
    from .seeding import make_rng
    from .segmenters import build_segmenter

    pv = main_variant(config)
    best = best_rows(grid, pv, config)
    if best.empty:
        return []
    setting, model = _figure_setting(config, grid)
    b = best[(best["selection_key"] == "oracle") & (best["setting"] == setting) & (best["model"] == model)]
    if b.empty:
        return []
    b = b.sort_values(["iou", "image_id"], ascending=[False, True]).reset_index(drop=True)
    picks: list[tuple[str, int]] = [("good", 0), ("median", len(b) // 2), ("failed", len(b) - 1)]
    seen, chosen = set(), []
    for title, i in picks:
        if b.loc[i, "image_id"] not in seen:
            seen.add(b.loc[i, "image_id"])
            chosen.append((title, b.loc[i]))
    load = _figure_samples(config)
    clf = _classifier_for(config, setting, model)
    seg = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    out = []
    for title, row in chosen:
        sample = load(row["image_id"])
        heat = compute_heatmap(clf, sample.image, row["cam"], rng=make_rng(config.seed, row["image_id"], model, "randomcam"),
                               **dataclasses.asdict(config.cam_options())).heatmap
        box = np.array([row["box_x0"], row["box_y0"], row["box_x1"], row["box_y1"]], dtype=float)
        pts = np.array(json.loads(row["points"]) or np.zeros((0, 2)), dtype=float).reshape(-1, 2)
        use_box = "box" in row["prompt_variant"]
        use_pts = "points" in row["prompt_variant"] and len(pts) > 0
        res = seg.segment(seg.embed(sample.image), box=box if use_box else None,
                          points=pts if use_pts else None,
                          point_labels=np.ones(len(pts), dtype=np.int64) if use_pts else None)
        iou = segmentation_metrics(res.mask, sample.mask)["iou"]
        out.append({"image": sample.image, "heatmap": heat, "box": box if use_box else None,
                    "points": pts if use_pts else None, "pred_mask": res.mask, "gt_mask": sample.mask,
                    "title": f"{title}: IoU {iou:.2f}\n{row['cam']}", "image_id": row["image_id"],
                    "setting": setting, "model": model, "cam": row["cam"], "iou_grid": float(row["iou"]),
                    "iou_recomputed": float(iou)})
    return out


# ------------------------------------------------------------------------------ paper comparison
_PAPER_EXACT = {"MobileNet_v2": "mobilenetv2_100", "EfficientNet": "efficientnet_b0", "ResNet50": "resnet50",
                "ViT": "vit_base_patch16_224", "Swin": "swin_base_patch4_window7_224"}


def _model_note(model: str) -> str:
    from . import paper

    label = paper.paper_model_label(model)
    if label is None:
        return f"{model} is not one of the paper's models"
    if _PAPER_EXACT.get(label) != model:
        return f"{model} stands in for the paper's {label}"
    return ""


def difference_reasons(config, grid: pd.DataFrame) -> list[str]:
    """Plain reasons why this build's numbers cannot equal the paper's."""
    from . import paper

    out = []
    if config.dataset == "synthetic":
        out.append("the images are synthetic, not ISIC 2017")
    elif config.test_holdout_fraction is not None:
        out.append("the test images are a held-out part of the ISIC 2017 training split, not the official test set")
    n = n_test_images(grid)
    if n != int(paper.get("data.n_test").value):
        out.append(f"{n} test images instead of the paper's 600")
    notes = [m for m in (_model_note(x) for x in config.models) if m]
    out += notes
    missing = [lab for lab in paper.PAPER_MODELS if lab not in {paper.paper_model_label(m) for m in config.models}]
    if missing:
        out.append("models not run here: " + ", ".join(missing))
    if config.segmenter != "medsam_vit_b":
        out.append(f"the segmenter is {config.segmenter}, not MedSAM ViT-B")
    if "fine-tuned" not in config.settings:
        out.append("no fine-tuned classifier in this run (zero-shot only)")
    elif config.epochs < 500 or config.patience != 20:
        out.append(f"fine-tuning for at most {config.epochs} epochs with patience {config.patience} (paper: 500, 20)")
    cams_missing = [c for c in paper.PAPER_CAMS.values() if c not in config.cams]
    if cams_missing:
        out.append("CAMs not run here: " + ", ".join(cams_missing))
    out.append("the paper does not state its percentile, number of points or amplification; we use "
               f"{config.percentile[0]:g}, {config.num_points[0]}, {config.amplification[0]:g}")
    return out


def our_data(config, grid: pd.DataFrame, image_ids=None) -> str:
    """``"ISIC 2017, Training (held-out test), 150 images"``: the data a row of ours is on."""
    from .experiments.datasets import dataset_name

    name = dataset_name(config)
    n = len(set(image_ids)) if image_ids is not None else n_test_images(grid)
    return f"{name}, {split_label(grid)}, {n} images"


def same_data_as_paper(config, grid: pd.DataFrame) -> bool:
    """Whether our rows are on the paper's images: the official ISIC 2017 test split, all 600."""
    from . import paper
    from .data.isic import canonical_split

    return (config.dataset == "isic" and config.test_holdout_fraction is None and config.evaluate_on == "test"
            and canonical_split(config.test_split) in ("Test", "Test_v2")
            and n_test_images(grid) == int(paper.get("data.n_test").value))


def _verdict(same_data: bool, ours: float, theirs: float) -> str:
    """Never "better": a difference is only read as one on the same images."""
    if not same_data:
        return "different data"
    if not (np.isfinite(ours) and np.isfinite(theirs)):
        return "same data"
    return f"same data: ours - paper = {ours - theirs:+.3f}"


def _beside(grid: pd.DataFrame, image_ids) -> dict[str, float]:
    return {"GT box IoU, same images": _baseline_mean(grid, "gt-box", image_ids),
            "whole-image box IoU, same images": _baseline_mean(grid, "whole-image-box", image_ids)}


def table2_comparison(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Table 2 row by row: paper vs ours (oracle, as the paper; plus our non-oracle IoU). Each of
    our rows names its data and split and carries the GT-box and whole-image-box IoU of the same
    images; ``comparison`` says "different data" unless the images are the paper's."""
    from . import paper

    pv = main_variant(config)
    best = best_rows(grid, pv, config)
    same = same_data_as_paper(config, grid)
    rows = []
    for _, pr in paper.table2().iterrows():
        row: dict[str, Any] = {"setting": pr["setting"], "paper model": pr["model"], "paper IoU": pr["iou"],
                               "paper Dice": pr["dice"]}
        if pr["setting"] == "ablation":
            gt = gt_rows(grid)
            gt = gt[gt["setting"] == "gt-box"]
            if len(gt):
                ci = ci_table(gt, ["setting", "segmenter"]).iloc[0]   # same CI as baselines_beside
                row.update({"our model": f"gt-box, {ci['segmenter']}", "our data": our_data(config, grid, gt["image_id"]),
                            "our IoU": ci["iou"], "our IoU [95% CI]": ci["iou [95% CI]"], "our Dice": ci["dice"],
                            **_beside(grid, gt["image_id"]),
                            # the paper's row is quoted from another paper, on other images
                            "comparison": "different data"})
            row["why"] = ("paper: SAM/MedSAM values quoted from ref. [1] with that paper's prompts; "
                          "ours: the tight ground-truth box on our test images")
            rows.append(row)
            continue
        ours = [m for m in config.models if paper.paper_model_label(m) == pr["model"]]
        if not ours or best.empty:
            row["why"] = "not run in this profile"
            rows.append(row)
            continue
        for m in ours:
            r = dict(row)
            sel = best[(best["setting"] == pr["setting"]) & (best["model"] == m)]
            o = sel[sel["selection_key"] == "oracle"]
            if o.empty:
                r["our model"] = m
                r["why"] = "setting not run in this profile"
                rows.append(r)
                continue
            ci = ci_table(o, ["model"]).iloc[0]
            r.update({"our model": m, "our data": our_data(config, grid, o["image_id"]), "our IoU": ci["iou"],
                      "our IoU [95% CI]": ci["iou [95% CI]"], "our Dice": ci["dice"],
                      "our IoU, non-oracle": sel[sel["selection_key"] == "predicted-iou"]["iou"].mean(),
                      **_beside(grid, o["image_id"]), "comparison": _verdict(same, ci["iou"], pr["iou"]),
                      "why": _model_note(m)})
            rows.append(r)
    df = pd.DataFrame(rows)
    cols = ["setting", "paper model", "paper IoU", "paper Dice", "our model", "our data", "our IoU [95% CI]",
            "our Dice", "our IoU, non-oracle", "GT box IoU, same images", "whole-image box IoU, same images",
            "comparison", "why"]
    for col in cols:
        if col not in df.columns:
            df[col] = np.nan
    return df[cols]


def table1_comparison(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Table 1 per CAM: paper (fine-tuned Swin) vs our noisy masks (our preferred setting/model),
    with our data, the GT-box and whole-image-box IoU of the same images, and the comparison."""
    from . import paper

    rows_all = cam_rows(grid, "cam-mask")
    setting, model = _preferred(config, grid)
    mine = rows_all[(rows_all["setting"] == setting) & (rows_all["model"] == model)]
    ci = ci_table(mine, ["cam"]).set_index("cam") if len(mine) else pd.DataFrame()
    why = "; ".join(x for x in (_model_note(model), "" if setting == "fine-tuned" else "zero-shot, not fine-tuned") if x)
    same = same_data_as_paper(config, grid)
    rows = []
    for cam, vals in paper.TABLE1.items():
        r = {"CAM": cam, "paper IoU": vals["iou"], "paper Dice": vals["dice"], "ours": f"{model} ({setting})"}
        if cam in ci.index:
            ids = mine[mine["cam"] == cam]["image_id"]
            r.update({"our data": our_data(config, grid, ids), "our IoU [95% CI]": ci.loc[cam, "iou [95% CI]"],
                      "our Dice": ci.loc[cam, "dice"], **_beside(grid, ids),
                      "comparison": _verdict(same, ci.loc[cam, "iou"], vals["iou"]), "why": why})
        else:
            r["why"] = "CAM not run in this profile"
        rows.append(r)
    return pd.DataFrame(rows)


def text_comparison(grid: pd.DataFrame, clf: pd.DataFrame | None, config) -> pd.DataFrame:
    """The values the paper quotes in its text (Fig. 4, 5, 6) beside ours."""
    from . import paper
    from .experiments import summary

    pv = main_variant(config)
    rows = []
    data = our_data(config, grid)
    verdict = "same data" if same_data_as_paper(config, grid) else "different data"

    def add(key: str, ours: Any, note: str = "") -> None:
        v = paper.get(key)
        rows.append({"quantity": key, "paper": ("~" if v.approximate else "") + f"{v.value:g}", "source": v.source,
                     "ours": ours, "our data": data, "comparison": verdict, "note": note})

    if clf is not None and len(clf):
        ft = clf[clf["setting"] == "fine-tuned"]
        add("fig4.fine_tuned.min_accuracy", f"{ft['accuracy'].min():.3f}" if len(ft) else "n/a",
            "lowest fine-tuned test accuracy over our models")
        drops = accuracy_drop_table(clf)
        for label, key in (("MobileNet_v2", "fig4.mobilenet_v2.accuracy_drop"), ("Swin", "fig4.swin.accuracy_drop")):
            d = drops[drops["paper model"] == label] if len(drops) else drops
            add(key, f"{d['drop (points)'].iloc[0]:.3f} pts / {d['drop (relative)'].iloc[0]:.3f} rel." if len(d) else "not run",
                "points and relative readings")
    rows_pv = cam_rows(grid, pv)
    if len(rows_pv):
        ind = summary.individual_table(grid, prompt_variant=pv, **single_params(config))
        for setting, key in (("zero-shot", "fig5.zero_shot.best_iou"), ("fine-tuned", "fig5.fine_tuned.best_iou")):
            g = ind[ind["setting"] == setting]
            if len(g):
                top = g.sort_values("iou", ascending=False).iloc[0]
                add(key, f"{top['iou']:.3f}", f"best pair here: {top['model']} + {top['cam']}")
            else:
                add(key, "not run")
        z = summary.zero_iou_counts(grid, prompt_variant=pv, **single_params(config))
        z = z[z["method"] == "best: " + summary.ORACLE]
        for setting, key in (("zero-shot", "fig6.zero_shot.mobilenet_v2.zero_iou_count"),
                             ("fine-tuned", "fig6.fine_tuned.mobilenet_v2.zero_iou_count")):
            g = z[z["setting"] == setting]
            mob = g[g["model"].map(lambda m: paper.paper_model_label(m) == "MobileNet_v2")]
            g = mob if len(mob) else g
            if len(g):
                r = g.iloc[0]
                add(key, f"{int(r['n_zero_iou'])} of {int(r['n'])} ({600 * r['frac_zero_iou']:.0f} per 600)",
                    f"{r['model']}, best CAM (oracle)")
            else:
                add(key, "not run")
    cm = cam_rows(grid, "cam-mask")
    g = cm[(cm["cam"] == "gradcam") & (cm["setting"] == "fine-tuned")]
    add("table1.gradcam.iou", f"{g['iou'].mean():.3f}" if len(g) else "not run", "fine-tuned, all our models")
    return pd.DataFrame(rows)

__all__ = ["PARAMETER_FIELDS", "config_from_parameters", "dataset_label", "weights_map", "provenance",
           "Stopwatch", "ci_table", "show", "show_figure", "local_isic_root", "ensure_data", "ensure_finetuned", "ensure_grid",
           "training_history", "ok", "n_test_images", "grid_page", "single_params", "main_variant", "cam_rows", "gt_rows",
           "best_rows", "paired_vs_reference", "best_pair_table", "prompt_variant_table", "best_method_tests",
           "iou_distributions", "gt_vs_cam_tests", "accuracy_drop_table", "heatmaps_for_image",
           "example_cases", "difference_reasons", "table2_comparison", "table1_comparison", "text_comparison",
           "notebook_config", "FigureUnavailable", "ISIC_NOT_HERE", "published_config", "snapshot_of", "split_label",
           "regenerate_note", "baselines_beside", "our_data", "same_data_as_paper"]


# ------------------------------------------------------------------------------ prompting strategies
def strategy_summary(grid: pd.DataFrame, config) -> pd.DataFrame:
    """The "Beyond the paper" table: :func:`~cam2seg_utils.experiments.summary.strategy_table`
    at the config's first percentile, with ``iou [95% CI]`` / ``dice [95% CI]`` text columns."""
    from .experiments import summary
    from .viz import format_ci

    t = summary.strategy_table(grid, prompt_variant=main_variant(config), percentile=config.percentile[0])
    if t.empty:
        return t
    for m in ("iou", "dice"):
        t[f"{m} [95% CI]"] = [format_ci(r[m], r[f"{m}_ci_low"], r[f"{m}_ci_high"]) for _, r in t.iterrows()]
    return t


def strategy_examples(config, grid: pd.DataFrame, strategy: str, reference: str = "algorithm1",
                      max_cases: int = 2) -> list[dict[str, Any]]:
    """Worked examples: the images where ``strategy`` gains most and loses most against
    ``reference`` (GradCAM, first setting × model), recomputed from the images (pixels are never
    stored in results): image, both final masks and boxes, ground truth."""
    from .experiments import summary

    rows = summary.strategy_rows(ok(grid), main_variant(config), config.percentile[0])
    if rows.empty:
        return []
    setting, model = _preferred(config, grid)
    rows = rows[(rows["setting"] == setting) & (rows["model"] == model)]
    a = rows[rows["strategy"] == strategy].drop_duplicates("image_id").set_index("image_id")
    b = rows[(rows["strategy"] == reference) & (rows["cam"] == "gradcam")].set_index("image_id")
    common = a.index.intersection(b.index)
    if common.empty:
        return []
    gain = (a.loc[common, "iou"] - b.loc[common, "iou"]).sort_values(kind="mergesort")
    picks = [("wins", gain.index[-1]), ("fails", gain.index[0])][:max_cases]
    from .segmenters import build_segmenter

    load = _figure_samples(config)   # FigureUnavailable when the pixels are not here
    seg = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    out = []
    for title, image_id in picks:
        sample = load(image_id)
        emb = seg.embed(sample.image)
        case_rows = {strategy: a.loc[image_id], reference: b.loc[image_id]}
        # every final mask of these strategies is the decoding of its last box (no mask_input)
        masks = {name: seg.segment(emb, box=np.array([r["box_x0"], r["box_y0"], r["box_x1"], r["box_y1"]])).mask
                 for name, r in case_rows.items()}
        out.append({"title": title, "image_id": image_id, "image": sample.image, "gt_mask": sample.mask,
                    "gain": float(gain[image_id]), "rows": case_rows, "masks": masks})
    return out

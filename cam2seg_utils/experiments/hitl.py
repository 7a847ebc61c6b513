"""The human in the loop, measured: clicks to a good mask, per start x refinement mode.

(Over 500 lines on purpose: the run, its resumable start x mode x image units and the starts'
identity are one contract; the tables are in :mod:`.hitl_tables`, the modes in :mod:`cam2seg_utils.refinement`.)

``python -m cam2seg_utils hitl --profile isic-official`` runs, for every evaluated image of the
profile (its test split; ``--max-images`` keeps the first ones, and so does the config's
``hitl_max_images``, which only this experiment reads), every **start** x every
**refinement mode** (:data:`cam2seg_utils.refinement.REFINEMENT_MODES`):

* starts (:data:`STARTS`): ``default-strategy`` = the mask of
  :data:`cam2seg_utils.prompting.DEFAULT_STRATEGY` (zero-shot classifier of the config, the
  heatmaps of ``strategy_cams``, the config's ``ranking_weights``, run through
  :func:`cam2seg_utils.pipeline.segment_image` exactly as the grid runs it: same heatmaps, from
  the same cache, same RNG); ``algorithm1`` = the paper's box (Grad-CAM, the
  config's first percentile / points / amplification, the grid's RNG); ``whole-image`` = the box
  of the whole image; ``gt-box`` = the ground truth's tight box (an oracle start: it reads the
  ground truth);
* the simulated user (:class:`cam2seg_utils.refinement.SimulatedUser`, RITM's clicker: it reads
  the ground truth) clicks up to ``max_clicks`` (20) times; the mode turns each click into the
  next mask (:meth:`RefinementMode.step`, the code the demo runs); IoU and Dice are recorded at
  every click ``k = 0..max_clicks`` (``k = 0``: the start's mask).

One embedding per image: the segmenter's encoder runs once per image that has anything left to
compute, for all its starts and modes (``encoder_calls`` in the summary).

Resumable in units of **start x mode x image**: each unit's rows are one parquet file
``<hitl>/units/<start>/<mode>/shards/<image>.parquet`` (written atomically), holding the unit's
*fingerprint*: what decides its numbers (:func:`unit_identity`: the start's own identity, the
mode and its parameters, the simulator's click budget, the segmenter checkpoint, the source of
the refinement package) and the digest of the image's files. A rerun recomputes exactly the
units whose fingerprint or input changed, or that hold an error: when the default strategy
changes (its name, parameters or the source of ``cam2seg_utils/prompting``), only the
``default-strategy`` units are recomputed. A run killed at any moment resumes.

Outputs (``<output_dir>/hitl/``, :func:`hitl_dir`): ``hitl.parquet`` (one row per image x start
x mode x click; columns :data:`COLUMNS`), ``tables/curves.csv`` and ``tables/noc.csv``
(:mod:`.hitl_tables`), ``hitl_summary.json``. Deterministic on CPU for a seed (timings aside).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..atomic import atomic_open, progress_bar, write_json
from ..cams.registry import CAM_METHODS
from ..prompting.algorithm1 import Algorithm1
from ..prompting.floors import WholeImage
from ..seeding import make_rng
from .config import ExperimentConfig
from ..file_digest import file_sha256
from .identity import fingerprint, input_digest, resolve_weights, segmenter_checkpoint_path
from .shards import ShardStore

#: Bump when a change of this runner alters the numbers or the columns (all units recompute).
HITL_VERSION = 1
#: The starts, in table order.
STARTS = ("default-strategy", Algorithm1.name, WholeImage.name, "gt-box")
#: Starts that read the ground truth (oracles).
ORACLE_STARTS = ("gt-box",)
#: The CAM of the ``algorithm1`` start (the paper's Algorithm 1 with Grad-CAM).
ALGORITHM1_CAM = "gradcam"
#: The classifier setting of the CAM starts.
SETTING = "zero-shot"

COLUMNS = ["image_id", "split", "start", "start_detail", "mode", "click", "iou", "dice", "click_x", "click_y",
           "click_positive", "action", "t_step_s", "gt_area_fraction", "gt_border_fraction", "error"]
SORT_KEY = ["start", "mode", "image_id", "click"]


def hitl_dir(config: ExperimentConfig) -> Path:
    """The results folder of the ``hitl`` command: ``<output_dir>/hitl``."""
    return Path(config.output_dir) / "hitl"


def source_digest(package_dir: Path, files: Sequence[str] | None = None) -> str:
    """SHA-256 over the code of the ``.py`` files of a package folder (sorted), or of the given
    ``files`` of it: a code change of a strategy or a mode changes its units' identity. The code
    is compared as its syntax tree without docstrings, so editing a comment or a docstring does
    not make a finished run recompute."""
    import ast

    h = hashlib.sha256()
    paths = sorted(package_dir.glob("*.py")) if files is None else [package_dir / f for f in files]
    for p in paths:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                    and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        h.update(p.name.encode() + b"\0" + ast.dump(tree, include_attributes=False).encode() + b"\0")
    return h.hexdigest()


def mode_code_digest(mode) -> str:
    """The code a mode's numbers depend on: the refinement contract, the simulated user, the
    shared edits and the modules of the mode's class and its bases (a new mode or a demo helper
    in the package does not change it)."""
    import inspect

    files = {"base.py", "clicks.py", "edits.py"}
    for cls in type(mode).__mro__:
        mod = inspect.getmodule(cls)
        path = Path(getattr(mod, "__file__", "") or "")
        if path.parent == _PKG / "refinement":
            files.add(path.name)
    return source_digest(_PKG / "refinement", sorted(files))


_PKG = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# starts
# --------------------------------------------------------------------------------------------


@dataclass
class Start:
    """One start of one image: ``box`` ``(4,)`` ``[x_min, y_min, x_max, y_max]``, ``mask``
    ``(H, W)`` bool or None (= the decoded box), ``detail`` (e.g. the strategy's chosen candidate)."""

    box: np.ndarray
    mask: np.ndarray | None
    detail: str


class StartMaker:
    """Computes the starts of an image (module docstring) and their identities.

    The CAM starts go through the grid's own code: the classifier (the config's first model,
    zero-shot weights) and :class:`~.engine.GridEngine`'s heatmaps (the grid's on-disk cache under
    ``config.heatmap_cache_dir()``, so a finished grid's CAMs are reused), and the default
    strategy runs in :func:`cam2seg_utils.pipeline.segment_image` with the grid's strategy
    generator and the config's ``ranking_weights``: the ``default-strategy`` start of an image is
    the mask of the grid's ``candidates`` / zero-shot row of that image. Everything is built on
    first use, so ``gt-box`` / ``whole-image`` runs never load a classifier. Each start is
    computed on the embedding passed in (the image's one embedding)."""

    def __init__(self, config: ExperimentConfig, segmenter, split_name: str) -> None:
        self.cfg = config
        self.seg = segmenter
        self.split_name = split_name
        self._engine = None
        self._lc = None

    @property
    def model(self) -> str:
        return self.cfg.models[0]

    def strategy(self):
        """The default prompting strategy with the config's ranking weights (as the grid builds it)."""
        from ..prompting import DEFAULT_STRATEGY, build_strategy

        return build_strategy(DEFAULT_STRATEGY, self.cfg.ranking_weights)

    def identity(self, start: str) -> dict[str, Any]:
        """What decides the start's numbers (recorded in every unit's fingerprint)."""
        if start in ("gt-box", WholeImage.name):
            return {"start": start}
        cfg = self.cfg
        base = {"start": start, "model": self.model, "setting": SETTING,
                "weights": resolve_weights(self.model, cfg.zero_shot_weights)[0], "seed": cfg.seed}
        cam_code = source_digest(_PKG / "cams") + source_digest(_PKG, ["pipeline.py"])
        if start == Algorithm1.name:
            return {**base, "cam": ALGORITHM1_CAM, "cam_params": CAM_METHODS.get(ALGORITHM1_CAM).cache_params(cfg.cam_options()),
                    "percentile": cfg.percentile[0], "num_points": cfg.num_points[0],
                    "amplification": cfg.amplification[0],
                    "code": source_digest(_PKG / "prompting", ["algorithm1.py"]) + cam_code}
        if start == "default-strategy":
            from ..prompting import DEFAULT_STRATEGY
            from ..prompting.weights import get_weights

            strategy = self.strategy()
            return {**base, "strategy": DEFAULT_STRATEGY,
                    "params": json.loads(json.dumps(strategy.params(), default=str)),
                    "ranking_weights": get_weights(cfg.ranking_weights).summary(),
                    "strategy_cams": list(cfg.strategy_cams),
                    "cam_params": {c: CAM_METHODS.get(c).cache_params(cfg.cam_options()) for c in cfg.strategy_cams},
                    "code": source_digest(_PKG / "prompting") + cam_code}
        raise KeyError(f"unknown start {start!r}; known: {', '.join(STARTS)}")

    # -- the classifier side (CAM starts only) --------------------------------------------------
    def _classifier(self):
        if self._lc is None:
            from .engine import build_engine, load_classifiers

            cfg = self.cfg.replace(settings=[SETTING], models=[self.model])
            (self._lc,) = load_classifiers(cfg)
            self._engine = build_engine(cfg, self.split_name, self.seg, [self._lc])
        return self._lc

    def _heatmap_source(self, image_id: str, image: np.ndarray):
        """The grid's heatmap of ``(cam, target_class)`` for this image (cache first)."""
        from ..file_digest import image_digest
        from .engine import CachedHeatmaps

        return CachedHeatmaps(self._engine, self._classifier(), image, image_id, image_digest(image))

    def make(self, start: str, image_id: str, image: np.ndarray, gt: np.ndarray, embedding) -> Start:
        """The start ``start`` of one image: ``image`` ``(H, W, 3)`` uint8, ``gt`` ``(H, W)`` bool
        (read only by ``gt-box``), ``embedding`` the segmenter's embedding of ``image``."""
        from ..prompting.geometry import whole_image_box
        from ..refinement.edits import tight_box

        if start == "gt-box":
            box = tight_box(gt)
            if box is None:
                raise ValueError(f"{image_id}: ground-truth mask is empty: no gt-box start")
            return Start(box, None, "ground-truth tight box (oracle)")
        if start == WholeImage.name:
            return Start(whole_image_box(gt.shape), None, "whole-image box")
        if start == Algorithm1.name:
            from ..prompting.algorithm1 import PromptParams, generate_prompts
            from .engine import params_key

            cfg = self.cfg
            lc = self._classifier()
            target = int(lc.classifier.predict(image).class_index)
            heat, _ = self._heatmap_source(image_id, image)(ALGORITHM1_CAM, target)
            p, n, a = cfg.percentile[0], cfg.num_points[0], cfg.amplification[0]
            rng = make_rng(cfg.seed, image_id, lc.setting, lc.model, ALGORITHM1_CAM, params_key(p, n, a))
            prompts = generate_prompts(heat, PromptParams(percentile=p, num_points=n, amplification=a), rng)
            return Start(np.asarray(prompts.box, dtype=np.float64), None, f"{ALGORITHM1_CAM} p{p:g}")
        if start == "default-strategy":
            from ..pipeline import segment_image
            from .engine import NO_CLASSIFIER

            strategy = self.strategy()
            if strategy.uses_classifier:
                lc = self._classifier()
                # the grid's order: the strategy CAMs as they come in ``cams`` (then any other)
                cams = ([c for c in self.cfg.cams if c in self.cfg.strategy_cams]
                        + [c for c in self.cfg.strategy_cams if c not in self.cfg.cams])
                result = segment_image(image, lc.classifier, self.seg, [strategy], cams=cams, strategy_cams=cams,
                                       embedding=embedding, heatmap=self._heatmap_source(image_id, image),
                                       seeds=(self.cfg.seed, image_id, lc.setting, lc.model))
            else:
                result = segment_image(image, None, self.seg, [strategy], embedding=embedding,
                                       seeds=(self.cfg.seed, image_id, NO_CLASSIFIER))
            if not result.runs:
                raise RuntimeError(f"{image_id}: the default strategy {strategy.name} did not run")
            run = result.runs[0]
            if run.error is not None:
                raise run.error
            out = run.outcome
            box = out.box if out.box is not None else tight_box(out.mask)
            if box is None:
                box = whole_image_box(gt.shape)
            return Start(np.asarray(box, dtype=np.float64), np.asarray(out.mask, dtype=bool),
                         f"{strategy.name}: {out.details.get('chosen', '')}".rstrip(": "))
        raise KeyError(f"unknown start {start!r}; known: {', '.join(STARTS)}")


# --------------------------------------------------------------------------------------------
# one unit: a start, a mode, the simulated user
# --------------------------------------------------------------------------------------------


def simulate(mode, segmenter, embedding, start: Start, gt: np.ndarray, max_clicks: int) -> list[dict[str, Any]]:
    """The simulated user's ``max_clicks`` clicks on one image with one mode, from ``start``.

    Returns ``max_clicks + 1`` rows (``click`` = 0..max_clicks) with ``iou``, ``dice`` of the mask
    after that many clicks, the click (``click_x``, ``click_y``, ``click_positive``; NaN / None at
    0) and what the mode did (``action``: its :attr:`RefinementState.last`; ``"none"`` when the
    mask was already perfect and the user had nothing to click)."""
    from ..metrics import segmentation_metrics
    from ..refinement import SimulatedUser

    state = mode.start(segmenter, embedding, start.box, start.mask)
    user = SimulatedUser(gt)

    def row(k: int, click, action: str, dt: float) -> dict[str, Any]:
        m = segmentation_metrics(state.mask, gt)
        return {"click": k, "iou": float(m["iou"]), "dice": float(m["dice"]),
                "click_x": float("nan") if click is None else float(click.x),
                "click_y": float("nan") if click is None else float(click.y),
                "click_positive": None if click is None else bool(click.positive), "action": action, "t_step_s": dt}

    rows = [row(0, None, "start", 0.0)]
    for k in range(1, int(max_clicks) + 1):
        click = user.next_click(state.mask)
        if click is None:
            rows.append(row(k, None, "none", 0.0))
            continue
        t0 = time.perf_counter()
        state = mode.step(segmenter, embedding, state, click)
        rows.append(row(k, click, state.last, time.perf_counter() - t0))
    return rows


def coerce_table(df: pd.DataFrame) -> pd.DataFrame:
    """The ``hitl`` table with its columns in order and fixed dtypes."""
    df = df.reindex(columns=COLUMNS).copy()
    for c in ("iou", "dice", "click_x", "click_y", "t_step_s", "gt_area_fraction", "gt_border_fraction"):
        df[c] = df[c].astype("float64")
    df["click"] = df["click"].astype("int64")
    for c in ("image_id", "split", "start", "start_detail", "mode", "action"):
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    df["click_positive"] = df["click_positive"].astype(object)
    df["error"] = df["error"].astype(object).where(df["error"].notna(), None)
    return df


def sort_table(df: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(STARTS)}
    key = df["start"].map(lambda s: order.get(s, len(order)))
    return (df.assign(_o=key).sort_values(["_o", "mode", "image_id", "click"], kind="mergesort")
            .drop(columns="_o").reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


@dataclass
class HitlCounters:
    encoder_calls: int = 0
    images_processed: int = 0
    images_resumed: int = 0
    units_computed: int = 0
    units_resumed: int = 0
    units_with_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class HitlResult:
    table: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    counters: HitlCounters = field(default_factory=HitlCounters)


def unit_identity(start_identity: dict[str, Any], mode, max_clicks: int, segmenter_id: dict[str, Any]) -> dict[str, Any]:
    """What decides one start x mode unit's numbers (its fingerprint is stored in each shard)."""
    return {"hitl_version": HITL_VERSION, "start": start_identity,
            "mode": {"name": mode.name, "params": json.loads(json.dumps(mode.params(), default=str))},
            "refinement_code": mode_code_digest(mode), "max_clicks": int(max_clicks),
            "segmenter": segmenter_id, "metrics_code": source_digest(_PKG, ["metrics.py"])}


def _unit_store(root: Path, start: str, mode: str) -> ShardStore:
    return ShardStore(root / "units" / start / mode)


def check_names(starts: Sequence[str], modes: Sequence[str]) -> None:
    """Raise ``ValueError`` naming unknown starts or modes (before any work)."""
    from ..refinement import REFINEMENT_MODES

    bad = [s for s in starts if s not in STARTS]
    if bad:
        raise ValueError(f"hitl: unknown start(s) {bad}; known: {', '.join(STARTS)}")
    bad = [m for m in modes if m not in REFINEMENT_MODES]
    if bad:
        raise ValueError(f"hitl: unknown refinement mode(s) {bad}; known: {', '.join(REFINEMENT_MODES.names())}")


def run_hitl(config: ExperimentConfig, *, starts: Sequence[str] = STARTS, modes: Sequence[str] | None = None,
             max_clicks: int | None = None, resume: bool = True, progress: bool | None = None,
             segmenter=None, dataset=None, image_ids: Sequence[str] | None = None,
             output_dir: str | Path | None = None) -> HitlResult:
    """Run (or finish) the ``hitl`` experiment of ``config`` (module docstring); return its table,
    its summary tables and its summary.

    ``modes`` default: every registered mode; ``max_clicks`` default
    :data:`cam2seg_utils.refinement.MAX_CLICKS` (20). ``segmenter`` / ``dataset`` + ``image_ids``
    may be passed in (tests, notebooks); by default they come from ``config`` (the evaluated ids of
    :func:`.datasets.evaluation_ids`, the first ``config.hitl_max_images`` of them when set).
    ``resume=False`` deletes the units of the asked starts x modes first. ``output_dir`` default: :func:`hitl_dir`."""
    from ..refinement import MAX_CLICKS, REFINEMENT_MODES, build_mode
    from .hitl_tables import summary_tables

    t_start = time.perf_counter()
    starts = list(starts)
    modes = list(REFINEMENT_MODES.names()) if modes is None else list(modes)
    max_clicks = MAX_CLICKS if max_clicks is None else int(max_clicks)
    if max_clicks < 1:
        raise ValueError(f"max_clicks must be >= 1, got {max_clicks}")
    check_names(starts, modes)
    progress = config.progress if progress is None else progress
    root = Path(output_dir) if output_dir is not None else hitl_dir(config)
    from .datasets import evaluated_images

    asked = image_ids is not None
    dataset, image_ids, split_name = evaluated_images(config, dataset, image_ids)
    if not asked and config.hitl_max_images is not None:
        image_ids = image_ids[: int(config.hitl_max_images)]
    if segmenter is None:
        from ..segmenters import build_segmenter

        segmenter = build_segmenter(config.segmenter, checkpoint=config.segmenter_checkpoint, device=config.device)
    seg_path = segmenter_checkpoint_path(config)
    segmenter_id = {"name": segmenter.name, "checkpoint": f"sha256:{file_sha256(seg_path)}"}

    maker = StartMaker(config, segmenter, split_name)
    mode_objs = {m: build_mode(m) for m in modes}
    fps = {(s, m): fingerprint(unit_identity(maker.identity(s), mode_objs[m], max_clicks, segmenter_id))
           for s in starts for m in modes}
    stores = {(s, m): _unit_store(root, s, m) for s in starts for m in modes}
    if not resume:
        for store in stores.values():
            store.reset()

    counters = HitlCounters()
    for image_id in progress_bar(image_ids, progress, desc="hitl", unit="img"):
        digest = input_digest(dataset, image_id)
        todo = []
        for key, store in stores.items():
            meta = store.shard_meta(image_id)
            ok = (meta is not None and "unreadable" not in meta and meta.get("fingerprint") == fps[key]
                  and int(meta.get("n_errors", 0)) == 0 and (digest is None or meta.get("input_sha256") == digest))
            if ok:
                counters.units_resumed += 1
            else:
                todo.append(key)
        if not todo:
            counters.images_resumed += 1
            continue
        _compute_image(config, maker, segmenter, dataset, image_id, split_name, digest, todo, mode_objs,
                       stores, fps, max_clicks, counters)

    table = merge_units(root, starts, modes, image_ids)
    tables = summary_tables(table, max_clicks=max_clicks)
    tables_dir = root / "tables"
    for name, df in tables.items():
        with atomic_open(tables_dir / f"{name}.csv", "w", encoding="utf-8") as fh:
            df.to_csv(fh, index=False)
    from ..revision import git_commit

    summary = {"split": split_name, "n_images": len(image_ids), "starts": starts, "modes": modes,
               "max_clicks": max_clicks, "n_rows": int(len(table)),
               "n_errors": int(table["error"].notna().sum()),
               "images_with_errors": sorted(table.loc[table["error"].notna(), "image_id"].unique().tolist()),
               "mode_params": {m: json.loads(json.dumps(o.params(), default=str)) for m, o in mode_objs.items()},
               "start_identities": {s: maker.identity(s) for s in starts},
               "segmenter": segmenter_id, "this_invocation": counters.as_dict(),
               "wall_time_s": time.perf_counter() - t_start, "git_commit": git_commit(),
               "config": config.to_dict()}
    write_json(root / "hitl_summary.json", summary)
    return HitlResult(table, tables, summary, counters)


def _compute_image(config, maker: StartMaker, segmenter, dataset, image_id: str, split_name: str,
                   digest: str | None, todo, mode_objs, stores, fps, max_clicks: int, counters: HitlCounters) -> None:
    from ..prompting.geometry import border_contact

    base: dict[str, Any] = {"image_id": image_id, "split": split_name}

    def write(key, rows: list[dict[str, Any]]) -> None:
        frame = coerce_table(pd.DataFrame([{**base, "start": key[0], "mode": key[1], **r} for r in rows]))
        n_err = int(frame["error"].notna().sum())
        counters.units_with_errors += int(n_err > 0)
        counters.units_computed += 1
        stores[key].write_shard(image_id, frame, {"image_id": image_id, "input_sha256": digest, "n_errors": n_err,
                                                  "fingerprint": fps[key], "hitl_version": HITL_VERSION})

    def fail(keys, message: str) -> None:
        for key in keys:
            write(key, [{"click": -1, "error": message}])

    try:
        sample = dataset.load(image_id)
        embedding = segmenter.embed(sample.image)
    except Exception as exc:  # noqa: BLE001 - error rows; the run goes on, a rerun retries
        fail(todo, f"{type(exc).__name__}: {exc}")
        return
    counters.encoder_calls += 1
    counters.images_processed += 1
    gt = np.asarray(sample.mask, dtype=bool)
    base.update(gt_area_fraction=float(gt.mean()), gt_border_fraction=border_contact(gt))
    for start in dict.fromkeys(s for s, _ in todo):
        keys = [k for k in todo if k[0] == start]
        try:
            st = maker.make(start, image_id, sample.image, gt, embedding)
        except Exception as exc:  # noqa: BLE001
            fail(keys, f"start {start} failed: {type(exc).__name__}: {exc}")
            continue
        for key in keys:
            try:
                rows = simulate(mode_objs[key[1]], segmenter, embedding, st, gt, max_clicks)
            except Exception as exc:  # noqa: BLE001
                fail([key], f"mode {key[1]} failed: {type(exc).__name__}: {exc}")
                continue
            write(key, [{**r, "start_detail": st.detail} for r in rows])


def merge_units(root: str | Path, starts: Sequence[str], modes: Sequence[str], image_ids: Sequence[str]) -> pd.DataFrame:
    """Concatenate the units' shards of ``image_ids`` into ``<root>/hitl.parquet`` (sorted);
    units without a shard are left out (the summary counts the rows)."""
    frames = []
    for s in starts:
        for m in modes:
            store = _unit_store(Path(root), s, m)
            for i in image_ids:
                if store.shard_path(i).is_file():
                    frames.append(store.read_shard(i))
    table = sort_table(coerce_table(pd.concat(frames, ignore_index=True))) if frames else coerce_table(pd.DataFrame())
    with atomic_open(Path(root) / "hitl.parquet", "wb") as fh:
        table.to_parquet(fh, index=False)
    return table


def load_table(root: str | Path) -> pd.DataFrame:
    """``<root>/hitl.parquet`` with the table's dtypes."""
    p = Path(root) / "hitl.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found: run `python -m cam2seg_utils hitl` first")
    return coerce_table(pd.read_parquet(p))


# --------------------------------------------------------------------------------------------
# command line (cli.py: `hitl`)
# --------------------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``hitl`` command's own flags (the common ones come from cli.py)."""
    p.add_argument("--max-images", dest="max_images", type=int, help="the first N evaluated images")
    p.add_argument("--starts", nargs="+", default=list(STARTS), help=f"starts (default: all: {' '.join(STARTS)})")
    p.add_argument("--modes", nargs="+", default=None, help="refinement modes (default: every registered mode)")
    p.add_argument("--max-clicks", dest="max_clicks", type=int, default=None, help="clicks per image (default 20)")
    p.add_argument("--hitl-dir", dest="hitl_dir", default=None, help="results folder (default: <output_dir>/hitl)")
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="delete the asked starts x modes' results first")


def check_arguments(args: argparse.Namespace) -> None:
    """Unknown starts / modes / a bad click budget -> ``ValueError`` (one line, before any work)."""
    from ..refinement import REFINEMENT_MODES

    check_names(args.starts, args.modes if args.modes is not None else REFINEMENT_MODES.names())
    if args.max_clicks is not None and args.max_clicks < 1:
        raise ValueError(f"--max-clicks must be >= 1, got {args.max_clicks}")


def run(config: ExperimentConfig, args: argparse.Namespace) -> HitlResult:
    """``cam2seg hitl``: run, then print the NoC table and where the results are."""
    res = run_hitl(config, starts=args.starts, modes=args.modes, max_clicks=args.max_clicks, resume=args.resume,
                   output_dir=args.hitl_dir)
    noc = res.tables["noc"]
    cols = [c for c in noc.columns if c in ("start", "mode", "slice", "n", "miou@0", "miou@1", "miou@3", "miou@5",
                                            "miou@10", "miou@20", "noc@85", "noc@90", "never@85",
                                            "worse_clicks", "mean_falls")]
    with pd.option_context("display.width", 220, "display.max_columns", 30):
        print(noc.loc[noc["slice"] == "all", cols].to_string(index=False))
    print(json.dumps({"this invocation": res.counters.as_dict(), "n_errors": res.summary["n_errors"]}, indent=2))
    root = Path(args.hitl_dir) if args.hitl_dir else hitl_dir(config)
    print(f"hitl table: {root / 'hitl.parquet'}; tables: {root / 'tables'}")
    return res


__all__ = ["STARTS", "ORACLE_STARTS", "COLUMNS", "HITL_VERSION", "Start", "StartMaker", "HitlResult", "HitlCounters",
           "run_hitl", "simulate", "unit_identity", "merge_units", "load_table", "hitl_dir", "add_arguments",
           "check_arguments", "run", "source_digest", "mode_code_digest"]

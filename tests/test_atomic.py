"""atomic.py: a failed write leaves the old file and no temporary file behind; an exclusive write
creates a file only once."""
import os

import pytest

from cam2seg_utils.atomic import atomic_open, default_file_mode


def test_atomic_open_replaces_on_success_and_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "sub" / "result.txt"
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write("first")
    assert path.read_text() == "first"
    assert (os.stat(path).st_mode & 0o777) == default_file_mode()
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_open(path, "w", encoding="utf-8") as fh:
            fh.write("half of the second")
            raise RuntimeError("killed mid-write")
    assert path.read_text() == "first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.txt"]


def test_exclusive_creates_once_and_leaves_an_existing_file_alone(tmp_path):
    path = tmp_path / "identity.json"
    with atomic_open(path, "w", encoding="utf-8", exclusive=True) as fh:
        fh.write("first")
    with pytest.raises(FileExistsError):
        with atomic_open(path, "w", encoding="utf-8", exclusive=True) as fh:
            fh.write("second")
    assert path.read_text() == "first"
    assert (os.stat(path).st_mode & 0o777) == default_file_mode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["identity.json"]   # no temporary file left

"""Where the book's build reads and writes, relative to the checkout, and how it imports this
checkout's package (one home for both ``book/build.py`` and ``book/snapshot_pages.py``)."""
import importlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"                 # the jupytext sources, NN_*.py
GENERATED = REPO / "book" / "generated"        # everything the build writes (git-ignored)
PUBLISHED_PAGES = GENERATED / "published"      # the published snapshots' rendered pages
SNAPSHOTS = REPO / "results" / "published"     # the committed snapshots' tables
HTML = REPO / "_build" / "html"
DEMO_PNG = REPO / "test-artifacts" / "demo.png"  # the demo's browser test's capture


def package_module(name: str):
    """A module of this checkout's ``cam2seg_utils`` (whatever is installed)."""
    sys.path.insert(0, str(REPO))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)

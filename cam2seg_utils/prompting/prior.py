"""Image-only lesion priors: candidate lesion regions from the pixels alone (no classifier).

Dermoscopic lesions are darker and more pigmented than the skin around them. The classic,
training-free way to find one (e.g. Otsu thresholding of a darkness channel, Celebi et al. 2009,
"Lesion border detection in dermoscopy images") is reproduced here with the artefacts of
dermoscopy handled:

* **working resolution**: everything runs on a copy whose longest side is ``work_side`` (256)
  pixels, so a 6688x4439 original costs what a 256 px copy costs; boxes are mapped back to
  original-image pixels ``[x_min, y_min, x_max, y_max]`` (x = column).
* **hair**: a grey-level morphological closing with a disc about 1/40 of the side wide replaces
  thin dark structures (hairs, ruler ticks) by the surrounding skin before thresholding.
* **vignette**: the dark, unlit corners of a round dermatoscope field are pixels much darker than
  the image's median that connect to the image border; they form the *outside of the field of
  view* and never become a region.
* **artefacts**: calibration stickers and skin-marker ink have colours no lesion has
  (:mod:`.artefacts`); their pixels are left out of the thresholds, the skin reference and every
  region, and :attr:`ImagePrior.artefacts` lets the ranking penalise masks that cover them.
* **darkness channels**: ``darkness`` = 1 - L*/100 (CIE Lab lightness) and ``pigment`` = the
  Lab distance to the skin colour (the median of the field of view's outer ring), each min-max
  scaled inside the field of view (artefacts excluded), 0 on artefacts.

:func:`find_regions` thresholds each channel at its Otsu level inside the field of view (and at
a stricter level halfway between Otsu and the 95th percentile, which separates a dark core from
a lighter lesion rim or a large dark area), labels connected components and describes each
with GT-free features (area, contrast to its surround, centrality, border contact). The
features, not a fixed rule, decide which region is the lesion: see
:mod:`cam2seg_utils.prompting.scoring`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .geometry import disk

#: Longest side of the working copy (pixels). 256 is LiteMedSAM's own input size.
WORK_SIDE = 256
#: Regions smaller than this fraction of the image are dropped (noise, pores, hair ends).
MIN_REGION_FRACTION = 0.002
#: At most this many regions per channel and threshold (largest first).
MAX_REGIONS_PER_LEVEL = 4


@dataclass
class Region:
    """One candidate lesion region found in the pixels.

    Attributes:
        mask: ``(h, w)`` bool at the working resolution (see :attr:`ImagePrior.work_shape`).
        box: ``(4,)`` float64 ``[x_min, y_min, x_max, y_max]`` in original-image pixels.
        source: how it was found, e.g. ``"darkness/otsu"``.
        features: GT-free descriptors (see :func:`region_features`).
    """

    mask: np.ndarray = field(repr=False)
    box: np.ndarray
    source: str
    features: dict[str, float]


@dataclass
class ImagePrior:
    """Everything the image-only prior computes once per image.

    ``work_shape``: ``(h, w)`` of the working copy; ``scale``: original pixels per working
    pixel (``H / h``); ``fov``: ``(h, w)`` bool field of view (False = vignette);
    ``artefacts``: ``(h, w)`` bool stickers / ink (:func:`~.artefacts.artefact_map`);
    ``lab``: ``(h, w, 3)`` float32 CIE Lab of the working copy (None when not kept);
    ``channels``: name -> ``(h, w)`` float32 in ``[0, 1]`` (1 = most lesion-like);
    ``regions``: every candidate region, in a deterministic order.
    """

    original_shape: tuple[int, int]
    work_shape: tuple[int, int]
    scale: tuple[float, float]
    fov: np.ndarray = field(repr=False)
    channels: dict[str, np.ndarray] = field(repr=False)
    regions: list[Region]
    artefacts: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]
    lab: np.ndarray | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        if self.artefacts is None:
            self.artefacts = np.zeros(self.work_shape, dtype=bool)

    def to_work(self, array: np.ndarray) -> np.ndarray:
        """Resize an ``(H, W)`` map (heatmap, mask) of the original image to the working shape
        (area averaging for float maps, nearest for bool)."""
        return resize_map(array, self.work_shape)

    def box_to_original(self, rows_cols: tuple[int, int, int, int]) -> np.ndarray:
        """Working-pixel ``(r0, c0, r1, c1)`` (inclusive) -> original ``[x0, y0, x1, y1]``."""
        r0, c0, r1, c1 = rows_cols
        sy, sx = self.scale
        H, W = self.original_shape
        return np.array([max(0.0, c0 * sx), max(0.0, r0 * sy),
                         min(W - 1.0, (c1 + 1) * sx - 1), min(H - 1.0, (r1 + 1) * sy - 1)], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# small image helpers
# --------------------------------------------------------------------------------------------


def working_shape(h: int, w: int, side: int = WORK_SIDE) -> tuple[int, int]:
    """``(h', w')`` with the longest side ``side`` (never upscaled), aspect ratio kept."""
    s = min(1.0, side / max(h, w))
    return max(1, int(round(h * s))), max(1, int(round(w * s)))


def resize_map(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D map to ``shape``: bool by nearest neighbour, numbers by area averaging
    (shrinking) or bilinear interpolation (enlarging), deterministic (torch, no OpenCV)."""
    import torch
    import torch.nn.functional as F

    array = np.asarray(array)
    if array.shape == tuple(shape):
        return array.copy()
    if array.dtype == bool:
        t = torch.from_numpy(array.astype(np.uint8))[None, None].float()
        return F.interpolate(t, size=shape, mode="nearest")[0, 0].numpy() > 0.5
    t = torch.from_numpy(np.array(array, dtype=np.float32))[None, None]   # a copy: see _resize_image
    mode = "area" if shape[0] <= array.shape[0] and shape[1] <= array.shape[1] else "bilinear"
    kw = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(t, size=shape, mode=mode, **kw)[0, 0].numpy()


def _resize_image(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    if image.shape[:2] == tuple(shape):
        return image.astype(np.float32) / 255.0
    # np.array copies: a loaded image is read-only (np.asarray of a PIL image), and
    # torch.from_numpy warns on every read-only array
    t = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1)[None] / 255.0
    return F.interpolate(t, size=shape, mode="area")[0].permute(1, 2, 0).numpy()


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of 1-D ``values`` in ``[0, 1]`` (the level maximising the between-class
    variance; computed on a ``bins``-bin histogram, so deterministic and O(n))."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0 or values.max() - values.min() < 1e-12:
        return float(values.mean()) if values.size else 0.5
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist).astype(np.float64)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = np.divide(m0, w0, out=np.zeros_like(m0), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][int(np.argmax(between))])


def _scale01(x: np.ndarray, inside: np.ndarray) -> np.ndarray:
    vals = x[inside] if inside.any() else x.ravel()
    lo, hi = np.percentile(vals, 1), np.percentile(vals, 99)
    if hi - lo < 1e-9:
        return np.zeros_like(x, dtype=np.float32)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------
# the prior
# --------------------------------------------------------------------------------------------


def field_of_view(lightness: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool: False for the dermatoscope's unlit vignette.

    Vignette pixels are darker than 40 % of the image's median lightness **and** connected to
    the image border through such pixels (a dark lesion in the middle is never vignette; one
    touching the border can be, which is why the border-contact feature exists too).
    """
    dark = lightness < 0.4 * float(np.median(lightness))
    labels, n = ndimage.label(dark)
    if n == 0:
        return np.ones_like(dark)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    border = border[border > 0]
    vignette = np.isin(labels, border)
    fov = ~vignette
    if fov.mean() < 0.3:  # an almost black image: no meaningful vignette, keep everything
        return np.ones_like(dark)
    return fov


def to_lab(image: np.ndarray) -> np.ndarray:
    """CIE Lab ``(h, w, 3)`` float32 of a float RGB image in ``[0, 1]``."""
    from skimage.color import rgb2lab

    return rgb2lab(np.clip(image, 0, 1)).astype(np.float32)


def lesion_channels(image: np.ndarray, fov: np.ndarray | None = None, lab: np.ndarray | None = None,
                    artefacts: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Darkness channels of a working-resolution float ``(h, w, 3)`` RGB image in ``[0, 1]``.

    ``lab``: its CIE Lab image when already computed; ``artefacts``: ``(h, w)`` bool pixels to
    leave out of the skin reference and the scaling (they get 0 in every channel).
    Returns ``({"darkness": ..., "pigment": ...}, fov)``, maps in ``[0, 1]``, hair removed.
    """
    h, w = image.shape[:2]
    if lab is None:
        lab = to_lab(image)
    clean = np.ones((h, w), dtype=bool) if artefacts is None else ~artefacts
    L = lab[..., 0] / 100.0
    if fov is None:
        fov = field_of_view(L)
    # hair / ruler removal: closing fills thin dark lines with the surrounding skin
    # (a square structuring element: separable, so O(n) per pixel row instead of O(k^2))
    k = 2 * max(2, round(max(h, w) / 40)) + 1
    L_clean = ndimage.grey_closing(L, size=(k, k))
    a_clean = ndimage.grey_opening(lab[..., 1], size=(k, k))  # hairs lower chroma: open keeps pigment
    b_clean = ndimage.grey_opening(lab[..., 2], size=(k, k))
    sigma = max(1.0, max(h, w) / 128)
    L_s = ndimage.gaussian_filter(L_clean, sigma)
    a_s = ndimage.gaussian_filter(a_clean, sigma)
    b_s = ndimage.gaussian_filter(b_clean, sigma)
    # skin reference: the outer ring of the field of view (lesions are rarely all of it)
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((yy - (h - 1) / 2) / (h / 2), (xx - (w - 1) / 2) / (w / 2))
    inside = fov & clean
    if inside.sum() < 0.02 * h * w:  # (almost) all artefact: nothing to exclude
        inside, clean = fov, np.ones((h, w), dtype=bool)
    ring = inside & (r > 0.75)
    if ring.sum() < 0.02 * h * w:
        ring = inside
    ref = np.array([np.median(L_s[ring]) * 100, np.median(a_s[ring]), np.median(b_s[ring])])
    dist = np.sqrt((L_s * 100 - ref[0]) ** 2 + (a_s - ref[1]) ** 2 + (b_s - ref[2]) ** 2)
    # only pixels darker than the skin count as pigment (a bright reflection is not a lesion)
    dist = np.where(L_s * 100 < ref[0], dist, 0.0)
    channels = {"darkness": _scale01(1.0 - L_s, inside), "pigment": _scale01(dist, inside)}
    return {k: np.where(clean, v, 0.0).astype(np.float32) for k, v in channels.items()}, fov


def _components(binary: np.ndarray, min_pixels: int) -> list[np.ndarray]:
    filled = ndimage.binary_fill_holes(binary)
    opened = ndimage.binary_opening(filled, structure=disk(1))
    labels, n = ndimage.label(opened)
    if n == 0:
        return []
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, n + 1))
    order = np.argsort(-sizes, kind="stable")
    return [labels == (k + 1) for k in order[:MAX_REGIONS_PER_LEVEL] if sizes[k] >= min_pixels]


def region_features(mask: np.ndarray, channel: np.ndarray, fov: np.ndarray) -> dict[str, float]:
    """GT-free descriptors of a working-resolution region ``mask`` ``(h, w)`` bool.

    ``area``: fraction of the image; ``contrast``: mean ``channel`` inside minus in a ring around
    it (ring width ~ the region's equivalent radius / 2); ``centrality``: 1 - distance of the
    centroid to the image centre / half-diagonal; ``border``: fraction of the region's boundary
    pixels on the image border or next to the vignette; ``fill``: area / bounding-box area.
    """
    h, w = mask.shape
    area = float(mask.mean())
    rows, cols = np.nonzero(mask)
    cy, cx = rows.mean(), cols.mean()
    centrality = 1.0 - float(np.hypot((cy - (h - 1) / 2) / h, (cx - (w - 1) / 2) / w) / np.hypot(0.5, 0.5))
    radius = max(2, int(round(np.sqrt(mask.sum() / np.pi) / 2)))
    ring = (ndimage.distance_transform_edt(~mask) <= min(radius, 12)) & ~mask & fov
    inside = float(channel[mask].mean())
    outside = float(channel[ring].mean()) if ring.any() else 0.0
    edge = mask & ~ndimage.binary_erosion(mask, border_value=0)
    near_out = ndimage.distance_transform_edt(fov) <= 2 if not fov.all() else np.zeros_like(fov)
    on_border = edge.copy()
    on_border[1:-1, 1:-1] = False
    border = float((on_border | (edge & near_out)).sum() / max(1, edge.sum()))
    box_area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    return {"area": area, "contrast": inside - outside, "centrality": centrality, "border": border,
            "fill": float(mask.sum() / box_area)}


def compute_prior(image: np.ndarray, work_side: int = WORK_SIDE) -> ImagePrior:
    """Run the image-only prior on an ``(H, W, 3)`` uint8 RGB image (any size).

    Returns an :class:`ImagePrior` whose ``regions`` are the connected components of each
    channel thresholded at its Otsu level and at a stricter level, largest first.
    """
    from .artefacts import artefact_map

    H, W = image.shape[:2]
    shape = working_shape(H, W, work_side)
    small = _resize_image(image, shape)
    lab = to_lab(small)
    artefacts = artefact_map(lab)
    channels, fov = lesion_channels(small, lab=lab, artefacts=artefacts)
    min_pixels = max(4, int(MIN_REGION_FRACTION * shape[0] * shape[1]))
    regions: list[Region] = []
    prior = ImagePrior((H, W), shape, (H / shape[0], W / shape[1]), fov, channels, regions, artefacts, lab)
    usable = fov & ~artefacts
    if usable.sum() < 0.02 * usable.size:
        usable = fov
    for name, ch in channels.items():
        inside = ch[usable]
        t_otsu = otsu_threshold(inside)
        t_strict = (t_otsu + float(np.percentile(inside, 95))) / 2
        for level, t in (("otsu", t_otsu), ("strict", t_strict)):
            for comp in _components((ch > t) & usable, min_pixels):
                rows, cols = np.nonzero(comp)
                box = prior.box_to_original((rows.min(), cols.min(), rows.max(), cols.max()))
                regions.append(Region(comp, box, f"{name}/{level}", region_features(comp, ch, fov)))
    return prior


__all__ = ["ImagePrior", "Region", "compute_prior", "field_of_view", "lesion_channels", "otsu_threshold", "to_lab",
           "region_features", "resize_map", "working_shape", "WORK_SIDE"]

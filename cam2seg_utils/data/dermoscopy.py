"""Render one synthetic dermoscopy image with its exact lesion mask (numpy / scipy / PIL only).

The renderer behind :func:`cam2seg_utils.data.synthetic.generate_synthetic`, which writes the
data set. What an image contains (all drawn from the one ``numpy.random.Generator`` passed in):

* skin: a tone between pale pink-beige and tan, blotchy low-frequency variation, erythema,
  fine texture and faint skin furrows, an illumination gradient and lens fall-off;
* the dark circular field of view of a contact dermoscope (most images; corners black);
* the lesion: a radial-harmonic outline with a noise-displaced, irregular border, colour
  variegation (light/dark brown, black, blue-grey, regression white, pink), a pigment network
  (labyrinthine dark lines), dots/globules and, for melanoma-like lesions, a blue-white veil;
* distractors: hairs (thin dark curved lines, often across the lesion), gel bubbles (bright
  rings), and ruler tick marks.

The ground-truth mask is the lesion outline exactly; hairs, bubbles and rulers are drawn over
the image afterwards and never change the mask.

The ABCD look: each lesion draws four "malignancy" features, asymmetry (A), border
irregularity (B), colour count with blue-grey (C) and diameter (D), each from ``Beta(3, 2)`` for
a melanoma-looking lesion and ``Beta(2, 3)`` for a benign-looking one (:class:`LesionTraits`).
The two distributions overlap, so single images are ambiguous.

Speed: about 0.075 s of CPU per image (measured for 480x360), so 100 images of the default
``size_range=(320, 640)`` take roughly 8-10 s on one free core (JPEG/PNG writing included).
Widths up to 1024 and beyond work (the official images are 1022-6688 px wide) at about 2.5x the
cost per image for 1024.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

__all__ = ["render_dermoscopy", "LesionTraits"]

# Lesion colour palette (RGB in [0, 1]).
_LIGHT_BROWN = (0.70, 0.49, 0.34)
_MID_BROWN = (0.52, 0.32, 0.20)
_DARK_BROWN = (0.33, 0.20, 0.13)
_BLACK = (0.14, 0.10, 0.09)
_BLUE_GREY = (0.42, 0.45, 0.53)
_PINK = (0.80, 0.48, 0.48)
_WHITE = (0.86, 0.82, 0.82)


@dataclass(frozen=True)
class LesionTraits:
    """The ABCD features of one lesion, each in [0, 1] (higher = more melanoma-like)."""

    asymmetry: float
    border: float
    colour: float
    diameter: float
    malignant_look: bool


def _traits(rng: np.random.Generator, malignant_look: bool) -> LesionTraits:
    a, b = (3.0, 2.0) if malignant_look else (2.0, 3.0)
    v = rng.beta(a, b, size=4)
    return LesionTraits(float(v[0]), float(v[1]), float(v[2]), float(v[3]), malignant_look)


# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------
def _noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Smooth noise (float32 (h, w), mean ~0, std ~1) with correlation length ~``scale`` px."""
    scale = max(float(scale), 1.0)
    sh, sw = int(np.ceil(h / scale)) + 3, int(np.ceil(w / scale)) + 3
    small = rng.standard_normal((sh, sw)).astype(np.float32)
    big_w, big_h = int(round(sw * scale)), int(round(sh * scale))
    big = np.asarray(Image.fromarray(small).resize((big_w, big_h), Image.Resampling.BICUBIC))
    oy = int(rng.integers(0, max(1, big_h - h - int(scale))))
    ox = int(rng.integers(0, max(1, big_w - w - int(scale))))
    out = big[oy:oy + h, ox:ox + w]
    if out.shape != (h, w):  # tiny rounding cases
        out = np.pad(out, ((0, h - out.shape[0]), (0, w - out.shape[1])), mode="edge")
    sd = float(out.std()) or 1.0
    return ((out - out.mean()) / sd).astype(np.float32)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 (H, W) map via PIL (fast, deterministic)."""
    if sigma <= 0:
        return a
    a = a.astype(np.float32)
    if sigma <= 4:
        return ndimage.gaussian_filter(a, sigma, mode="nearest", truncate=3.0)
    h, w = a.shape
    f = sigma / 2.0  # blur a downsampled copy: same result up to interpolation, much faster
    sh, sw = max(2, int(round(h / f))), max(2, int(round(w / f)))
    small = np.asarray(Image.fromarray(a).resize((sw, sh), Image.Resampling.BILINEAR, reducing_gap=None))
    small = ndimage.gaussian_filter(small, 2.0, mode="nearest", truncate=3.0)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR))


def _mix(img: np.ndarray, colour, alpha: np.ndarray) -> np.ndarray:
    """Alpha-blend a colour (3,) or image (H,W,3) into ``img`` (H,W,3) with alpha (H,W)."""
    if not alpha.any():
        return img
    a = alpha[..., None]
    return img * (1.0 - a) + np.asarray(colour, dtype=np.float32) * a


def _stroke(alpha: np.ndarray, xs: np.ndarray, ys: np.ndarray, width, strength: float = 1.0) -> None:
    """Rasterise anti-aliased round dots of diameter ``width`` (scalar or one per point) at the
    points (xs, ys) into ``alpha`` (H, W) in place, by maximum. Points sampled every <= 0.5 px
    along a curve draw a line of that width."""
    h, w = alpha.shape
    r = np.broadcast_to(np.asarray(width, np.float32) / 2.0, xs.shape)
    k = int(np.ceil(float(r.max()) + 1))
    offs = np.arange(-k, k + 1)
    cx, cy = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    for dy in offs:
        for dx in offs:
            px, py = cx + dx, cy + dy
            d = np.hypot(px + 0.5 - xs, py + 0.5 - ys)
            val = np.clip(r + 0.5 - d, 0.0, 1.0) * strength
            ok = (px >= 0) & (px < w) & (py >= 0) & (py < h) & (val > 0)
            if ok.any():
                np.maximum.at(alpha, (py[ok], px[ok]), val[ok].astype(np.float32))


# ---------------------------------------------------------------------------------------------
# the scene
# ---------------------------------------------------------------------------------------------
def _skin(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    t = rng.uniform(0.0, 1.0)
    light = np.array([0.95, 0.83, 0.78], np.float32)
    tan = np.array([0.82, 0.62, 0.50], np.float32)
    base = light * (1 - t) + tan * t
    pink = rng.uniform(0.0, 1.0) ** 2
    base = base + np.array([0.02, -0.05, -0.03], np.float32) * pink
    img = np.broadcast_to(base, (h, w, 3)).astype(np.float32).copy()
    m = min(h, w)
    blotch = _noise(rng, h, w, m / 4) * 0.035 + _noise(rng, h, w, m / 16) * 0.018
    img *= (1.0 + blotch)[..., None]
    ery = np.clip(_noise(rng, h, w, m / 6), 0, None) * rng.uniform(0.0, 0.05)
    img[..., 1] -= ery * 0.9
    img[..., 2] -= ery * 0.6
    # faint furrows: zero crossings of mid-frequency noise
    fur = np.exp(-(_noise(rng, h, w, rng.uniform(5, 10)) / 0.12) ** 2)
    img *= (1.0 - 0.05 * fur)[..., None]
    # pores / freckle speckle
    speck = np.clip(_noise(rng, h, w, 2.0) - 2.2, 0, None)
    img *= (1.0 - 0.25 * speck + 0.02 * _noise(rng, h, w, 2.5))[..., None]
    return img


def _lesion_shape(rng, h, w, cx, cy, radius, traits):
    """Return (mask bool (H,W), depth float32 (H,W) in [0,1] (0 at the border, 1 at centre))."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    rot = rng.uniform(0, np.pi)
    elong = 1.0 + rng.uniform(0.0, 0.35) + 0.35 * traits.asymmetry * rng.uniform(0.3, 1.0)
    u = dx * np.cos(rot) + dy * np.sin(rot)
    v = (-dx * np.sin(rot) + dy * np.cos(rot)) * elong
    rho = np.hypot(u, v)
    ang = np.arctan2(v, u)
    # the outline radius r(theta) is tabulated on 2048 angles and interpolated (fast)
    theta = np.linspace(-np.pi, np.pi, 2049, dtype=np.float64)
    r_tab = np.ones_like(theta)
    # A: low harmonics make the outline asymmetric
    for k in (1, 2, 3):
        amp = (0.03 + 0.16 * traits.asymmetry) / k * rng.uniform(0.4, 1.0)
        r_tab += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    # B: high harmonics + a displacement field make the border irregular
    nb = 0.004 + 0.045 * traits.border ** 1.5
    for k in range(4, 22):
        r_tab += nb * rng.uniform(0.2, 1.0) * (4.0 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = np.interp(ang, theta, r_tab).astype(np.float32)
    rho_eff = rho + radius * (0.015 + 0.14 * traits.border ** 1.5) * _noise(rng, h, w, max(radius / 5, 3))
    rel = rho_eff / (radius * r)
    mask = rel < 1.0
    if mask.any():  # keep the largest component, fill holes (inside its bounding box: fast)
        rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        sub = mask[box]
        lab, n = ndimage.label(sub)
        if n > 1:
            sizes = ndimage.sum_labels(sub, lab, index=np.arange(1, n + 1))
            sub = lab == (int(np.argmax(sizes)) + 1)
        mask = np.zeros_like(mask)
        mask[box] = ndimage.binary_fill_holes(sub)
    depth = np.clip(1.0 - rel, 0.0, 1.0).astype(np.float32) * mask
    return mask, depth


def _lesion_colour(rng, h, w, mask, depth, radius, traits, skin):
    """The lesion's colour layer (H,W,3) and its opacity (H,W)."""
    m = traits.malignant_look
    c = traits.colour
    # C: number of colours (benign 1-2 browns; melanoma 2-5 incl. black, pink, blue-grey)
    n_col = (2 + int(round(c * 3))) if (m or c > 0.8) else (1 + int(c > 0.45))
    first = [_LIGHT_BROWN, _MID_BROWN, _DARK_BROWN][int(rng.integers(0, 3))]
    palette = [first]
    extra = [_DARK_BROWN, _BLACK, _MID_BROWN, _LIGHT_BROWN, _PINK] if m else [_MID_BROWN, _LIGHT_BROWN,
                                                                             _DARK_BROWN]
    has_blue = (c > 0.45 and (m or rng.random() < 0.15)) or (not m and rng.random() < 0.03)
    slots = n_col - int(has_blue)
    while len(palette) < max(slots, 1):
        cand = extra[int(rng.integers(0, len(extra)))]
        if cand not in palette:
            palette.append(cand)
        elif len(set(extra) - set(palette)) == 0:
            break
    cols = np.array(palette, np.float32)
    # variegation: soft partition by noise fields (benign: one dominant colour)
    fields = np.stack([_noise(rng, h, w, max(radius / rng.uniform(2.0, 4.0), 4)) for _ in range(len(cols))], 0)
    fields[0] += 1.5 if not m else 0.4
    wts = np.exp(fields * (1.0 + 1.5 * c))
    wts /= wts.sum(0, keepdims=True)
    col = np.einsum("khw,kc->hwc", wts, cols)
    # mottling
    col *= (1.0 + 0.10 * _noise(rng, h, w, max(radius / 8, 2)) + 0.05 * _noise(rng, h, w, 3))[..., None]
    # centre darker, periphery fading towards the skin (benign more regular)
    d = np.clip(depth * (2.0 + 2.0 * rng.random()), 0, 1)
    col *= (0.78 + 0.22 * (1 - d))[..., None]
    # A: asymmetric shading across the lesion
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = ((xx - xx[mask].mean()) * np.cos(ang) + (yy - yy[mask].mean()) * np.sin(ang)) / max(radius, 1)
    col *= (1.0 - 0.25 * traits.asymmetry * np.clip(grad, -1, 1))[..., None]
    # pigment network: a noise-warped honeycomb (three cosine gratings 60 degrees apart);
    # dark where the sum is low, i.e. on the lines between the lighter holes
    cell = max(radius / rng.uniform(8, 14), 3.0)
    k = 2 * np.pi / cell
    warp = 0.45 * cell
    wx = xx + warp * _noise(rng, h, w, cell * 1.5)
    wy = yy + warp * _noise(rng, h, w, cell * 1.5)
    phi = rng.uniform(0, np.pi)
    g = sum(np.cos(k * (wx * np.cos(phi + j * np.pi / 3) + wy * np.sin(phi + j * np.pi / 3)))
            for j in range(3))
    net = np.clip((0.6 - g) / 2.1, 0, 1) ** (1.2 if m else 1.6)
    net_strength = rng.uniform(0.2, 0.4)
    if m:
        net *= np.clip(0.6 + 0.8 * _noise(rng, h, w, radius / 3), 0, 1.5)  # atypical, broken network
    else:
        net *= np.clip(depth * 4, 0, 1)  # regular, fading at the rim
    col *= (1.0 - net_strength * net)[..., None]
    # dots and globules
    n_dots = int(rng.integers(0, 6 + int(25 * m * traits.border)))
    if n_dots:
        ys, xs = np.nonzero(mask)
        pick = rng.integers(0, len(ys), size=n_dots)
        dots = np.zeros((h, w), np.float32)
        rad = rng.uniform(1.0, max(1.5, radius / 20), size=n_dots).astype(np.float32)
        _stroke(dots, xs[pick].astype(np.float32) + 0.5, ys[pick].astype(np.float32) + 0.5, 2 * rad)
        col = _mix(col, _BLACK if m else _DARK_BROWN, _blur(dots, 0.8) * 0.75)
    # blue-grey areas / blue-white veil: a hazy overlay, not a flat patch
    if has_blue:
        veil = np.clip(_noise(rng, h, w, radius / 2.5) * 0.9 + rng.uniform(-0.4, 0.3), 0, 1)
        veil = _blur(veil * mask, max(radius / 12, 1)) * rng.uniform(0.45, 0.75)
        col = _mix(col, _BLUE_GREY, veil)
        if m and rng.random() < 0.6:  # whitish haze on top (veil / regression)
            col = _mix(col, _WHITE, np.clip(veil - 0.3, 0, 1) * 0.6)
    # skin texture shows through
    col = col * (0.85 + 0.15 * skin / skin.mean((0, 1), keepdims=True))
    # opacity: benign lesions fade into the skin, melanoma borders are abrupt
    soft = radius * (rng.uniform(0.01, 0.03) if m else rng.uniform(0.025, 0.06))
    alpha = _blur(mask.astype(np.float32), max(soft, 0.6))
    opacity = rng.uniform(0.8, 0.97)
    return col, alpha * opacity


def _hairs(rng, h, w, cx, cy, radius) -> np.ndarray:
    u = rng.random()
    n = 0 if u < 0.35 else int(rng.integers(1, 6)) if u < 0.8 else int(rng.integers(6, 22))
    alpha = np.zeros((h, w), np.float32)
    for _ in range(n):
        if rng.random() < 0.6:  # through (near) the lesion
            px, py = cx + rng.normal(0, radius * 0.7), cy + rng.normal(0, radius * 0.7)
        else:
            px, py = rng.uniform(0, w), rng.uniform(0, h)
        length = rng.uniform(0.25, 1.0) * max(h, w)
        theta = rng.uniform(0, 2 * np.pi)
        curv = rng.normal(0, 1.5) / length
        steps = int(length * 2)
        t = np.arange(steps, dtype=np.float32) - steps / 2
        angs = theta + curv * t * 0.5 + np.cumsum(rng.normal(0, 0.004, steps)).astype(np.float32)
        xs = px + np.cumsum(0.5 * np.cos(angs)) - 0.5 * np.cos(theta) * steps / 2
        ys = py + np.cumsum(0.5 * np.sin(angs)) - 0.5 * np.sin(theta) * steps / 2
        keep = (xs > -3) & (xs < w + 3) & (ys > -3) & (ys < h + 3)
        if keep.sum() < 4:
            continue
        width = rng.uniform(0.9, 2.6) * max(min(h, w) / 450, 0.8)
        _stroke(alpha, xs[keep].astype(np.float32), ys[keep].astype(np.float32), width,
                strength=rng.uniform(0.7, 0.95))
    return alpha


def _bubbles(rng, img, h, w) -> np.ndarray:
    n = 0 if rng.random() < 0.65 else int(rng.integers(1, 5))
    for _ in range(n):
        r = rng.uniform(4, 0.09 * min(h, w))
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        k = int(r * 1.6) + 3
        ya, yb = max(int(y0) - k, 0), min(int(y0) + k, h)
        xa, xb = max(int(x0) - k, 0), min(int(x0) + k, w)
        if ya >= yb or xa >= xb:
            continue
        yy, xx = np.mgrid[ya:yb, xa:xb].astype(np.float32)
        d = np.hypot(xx - x0, yy - y0)
        wd = 0.10 * r + 0.7
        rim = np.exp(-((d - r) / wd) ** 2)
        inner = np.exp(-((d - r + 1.8 * wd) / wd) ** 2)
        hx, hy = x0 - 0.45 * r, y0 - 0.45 * r
        spot = np.exp(-(np.hypot(xx - hx, yy - hy) / (0.14 * r + 0.6)) ** 2)
        patch = img[ya:yb, xa:xb]
        patch = _mix(patch, (1.0, 1.0, 1.0), np.clip(0.3 * rim + 0.45 * spot, 0, 1))
        patch = patch * (1 - 0.12 * inner)[..., None]
        img[ya:yb, xa:xb] = patch
    return img


def _ruler(rng, h, w) -> np.ndarray:
    alpha = np.zeros((h, w), np.float32)
    if rng.random() > 0.3:
        return alpha
    step = rng.uniform(5, 11) * max(min(h, w) / 480, 0.7)
    n_ticks = int(rng.integers(12, 30))
    length = step * (n_ticks - 1)
    horizontal = rng.random() < 0.7
    span, other = (w, h) if horizontal else (h, w)
    if length > 0.8 * span:
        n_ticks = int(0.8 * span / step)
        length = step * (n_ticks - 1)
    start = rng.uniform(0.1 * span, max(0.1 * span + 1, 0.9 * span - length))
    base = other * rng.uniform(0.82, 0.9)
    lw = rng.uniform(0.9, 1.6)
    along = np.arange(start, start + length, 0.5, dtype=np.float32)
    across = np.full_like(along, base)
    xs, ys = (along, across) if horizontal else (across, along)
    _stroke(alpha, xs, ys, lw, 0.9)
    tick = max(4.0, step * 0.8)
    for i in range(n_ticks):
        pos = start + i * step
        tl = tick * (2.0 if i % 10 == 0 else 1.5 if i % 5 == 0 else 1.0)
        along_t = np.arange(base - tl, base, 0.5, dtype=np.float32)
        fixed = np.full_like(along_t, pos)
        xs, ys = (fixed, along_t) if horizontal else (along_t, fixed)
        _stroke(alpha, xs, ys, lw, 0.9)
    return alpha


def render_dermoscopy(
    rng: np.random.Generator, height: int, width: int, malignant_look: bool
) -> tuple[np.ndarray, np.ndarray, LesionTraits]:
    """Render one synthetic dermoscopy image.

    Returns ``(image uint8 (H, W, 3) RGB, mask bool (H, W), traits)``; ``mask`` is the lesion
    (row = y, column = x), unaffected by the hairs, bubbles and ruler drawn over it.
    """
    h, w = int(height), int(width)
    traits = _traits(rng, malignant_look)
    img = _skin(rng, h, w)
    m = min(h, w)
    # 0.2-1.0 of the short side: lesion area ~3-45 % of the image (median ~15 %), close to the
    # spread of ISIC 2017 masks (10th / 50th / 90th percentile 2.5 / 13 / 47 % of the image)
    diameter = m * (0.20 + 0.80 * traits.diameter)
    radius = diameter / 2
    cx = w / 2 + rng.uniform(-0.12, 0.12) * w
    cy = h / 2 + rng.uniform(-0.12, 0.12) * h
    mask, depth = _lesion_shape(rng, h, w, cx, cy, radius, traits)
    if not mask.any():  # degenerate draw: fall back to a small disk (keeps the image usable)
        yy, xx = np.mgrid[0:h, 0:w]
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= (radius * 0.8) ** 2
        depth = mask.astype(np.float32) * 0.5
    # colour only the lesion's bounding box (plus room for the soft edge): much faster
    ys, xs = np.nonzero(mask)
    pad = int(0.25 * radius) + 6
    y0, y1 = max(int(ys.min()) - pad, 0), min(int(ys.max()) + pad + 1, h)
    x0, x1 = max(int(xs.min()) - pad, 0), min(int(xs.max()) + pad + 1, w)
    box = (slice(y0, y1), slice(x0, x1))
    col, alpha = _lesion_colour(rng, y1 - y0, x1 - x0, mask[box], depth[box], radius, traits, img[box])
    img[box] = _mix(img[box], col, alpha)
    # illumination gradient
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    ga = rng.uniform(0, 2 * np.pi)
    grad = ((xx - w / 2) * np.cos(ga) + (yy - h / 2) * np.sin(ga)) / max(h, w)
    img *= (1.0 + rng.uniform(0.0, 0.22) * grad)[..., None]
    # distractors (after the mask is fixed)
    hair = _hairs(rng, h, w, cx, cy, radius)
    hair_col = np.array([0.10, 0.07, 0.06], np.float32) * rng.uniform(0.6, 2.5)
    img = _mix(img, hair_col, hair)
    img = _bubbles(rng, img, h, w)
    img = _mix(img, (0.08, 0.07, 0.07), _ruler(rng, h, w))
    # dermoscope field of view: lens fall-off and dark round vignette
    fx, fy = w / 2 + rng.normal(0, 0.02 * w), h / 2 + rng.normal(0, 0.02 * h)
    dist = np.hypot(xx - fx, yy - fy)
    half_diag = float(np.hypot(w, h) / 2)
    ys, xs = np.nonzero(mask)
    need = float(np.hypot(xs - fx, ys - fy).max()) + 0.03 * m
    if rng.random() < 0.75:
        r_fov = max(half_diag * rng.uniform(0.6, 0.97), need)
        if r_fov < half_diag * 0.99:
            img *= (1.0 - 0.25 * np.clip(dist / r_fov, 0, 1) ** 4)[..., None]
            edge = np.clip((dist - r_fov) / rng.uniform(1.5, 5.0) + 0.5, 0, 1)
            outside = np.float32(rng.uniform(0.02, 0.09))
            img = _mix(img, (outside, outside, outside * 0.95), edge)
    else:
        img *= (1.0 - 0.12 * np.clip(dist / half_diag, 0, 1) ** 2)[..., None]
    img += 0.008 * rng.standard_normal(img.shape, dtype=np.float32)
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(0.5)))
    return out, mask, traits

"""Uploads: an uploaded file becomes a checked ``uint8`` ``(H, W, 3)`` RGB image, or a refusal
(:class:`ImageRejected`) whose message names the file and the problem and never a server path."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageRejected", "redact_paths", "load_image_file", "check_image_array",
           "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_PIXELS", "MIN_IMAGE_SIDE"]

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Refuse decompression bombs: 50 megapixels is far above any dermoscopy photograph.
DEFAULT_MAX_PIXELS = 50_000_000
MIN_IMAGE_SIDE = 16


class ImageRejected(ValueError):
    """An upload that is not usable as an image; the message names the file and the problem."""


_ABSOLUTE_PATH = re.compile(r"""(?<![\w:/.~])(?:[A-Za-z]:\\|/)[^\s'"()<>,;:|]+""")


def redact_paths(text: str) -> str:
    """``text`` with every absolute file path replaced by its last component, so that messages
    shown to a user never reveal the server's folders (the full message goes to the server log)."""
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0).replace("\\", "/")).name or "<path>", str(text))


def load_image_file(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
                    max_pixels: int = DEFAULT_MAX_PIXELS, display_name: str | None = None) -> np.ndarray:
    """Read an uploaded file as ``uint8`` ``(H, W, 3)`` RGB (EXIF orientation applied).

    Raises:
        ImageRejected: the file is missing, empty, larger than ``max_bytes``, not an image PIL can
            decode, larger than ``max_pixels`` or smaller than 16 px on a side. The message names
            the file (``display_name`` if given, e.g. the user's original file name).
    """
    path = Path(path)
    name = display_name or path.name
    if not path.is_file():
        raise ImageRejected(f"{name}: file not found")
    size = path.stat().st_size
    if size == 0:
        raise ImageRejected(f"{name}: the file is empty")
    if size > max_bytes:
        raise ImageRejected(f"{name}: the file is {size / 2**20:.1f} MB; the limit is "
                            f"{max_bytes / 2**20:.1f} MB")
    try:
        with Image.open(path) as probe:
            width, height = probe.size
            if width * height > max_pixels:
                raise ImageRejected(f"{name}: {width}x{height} pixels is more than the limit of "
                                    f"{max_pixels / 1e6:.0f} megapixels")
            probe.verify()
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA", "P"):
                img = img.convert("RGBA")
                background = Image.new("RGBA", img.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, img)
            array = np.array(img.convert("RGB"), dtype=np.uint8)  # a writable copy
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        reason = str(err).replace(str(path), name)   # PIL quotes the server-side upload path
        raise ImageRejected(f"{name}: not a readable image ({type(err).__name__}: {redact_paths(reason)})") from None
    if min(array.shape[:2]) < MIN_IMAGE_SIDE:
        raise ImageRejected(f"{name}: {array.shape[1]}x{array.shape[0]} pixels is too small "
                            f"(at least {MIN_IMAGE_SIDE} px on each side)")
    return np.ascontiguousarray(array)


def check_image_array(image: np.ndarray) -> np.ndarray:
    """Validate an in-memory image: ``uint8`` ``(H, W, 3)``; returns it contiguous."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ImageRejected(f"image must be uint8 (H, W, 3) RGB, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        raise ImageRejected(f"image {image.shape[1]}x{image.shape[0]} is too small")
    return np.ascontiguousarray(image)

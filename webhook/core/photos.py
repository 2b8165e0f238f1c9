"""Photos of a repair on its F-04 (evidence: staff take them with their phone on site).

Pure: the uploaded bytes in, a `CleanPhoto` out or `Refused` with a message in Bahasa
Indonesia. The type is read from the content by Pillow (not the file name or the browser's
word for it); the image is decoded and encoded again, upright, without any of its metadata:
the EXIF block with the phone's GPS location (and the camera, the owner) does not survive.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps
from pydantic import BaseModel, ConfigDict, Field

from exporter.inventory import Duration
from webhook.core.refusals import Refused

KINDS = {"JPEG": "image/jpeg", "PNG": "image/png"}
"""The formats accepted (Pillow's name -> the media type served)."""
MAX_PIXELS = 40_000_000
"""A decoded image larger than this is refused (a small file can unpack to gigabytes)."""


class PhotoConfig(BaseModel):
    """The `photos:` section of the settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_count: int = Field(default=4, ge=0, le=20)
    """Photos one F-04 may carry; 0 turns attaching off."""
    max_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024, le=50 * 1024 * 1024)
    """The largest upload accepted, in bytes (a phone's photo is 2-6 MB)."""
    upload_timeout: Duration = 120.0
    """How long an upload may take to arrive (a phone on a weak link in the field)."""


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    content_type: str
    data: bytes
    width: int
    height: int


class PhotoRefused(Refused):
    """An upload that is not taken: its reason in Bahasa Indonesia (the staff's language)."""


class PhotoTooBig(PhotoRefused):
    """Over the size cap (HTTP 413)."""


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",").removesuffix(",0") + " MB"


def check_room(present: int, config: PhotoConfig) -> None:
    """Refuses another photo when the F-04 already carries `config.max_count`."""
    if config.max_count == 0:
        raise PhotoRefused("Lampiran foto tidak diaktifkan di pengaturan (photos.max_count).")
    if present >= config.max_count:
        raise PhotoRefused(
            f"Terlalu banyak foto: F-04 ini sudah memuat {present} foto, paling banyak "
            f"{config.max_count}. Hapus satu foto dulu."
        )


def check_size(size: int, config: PhotoConfig) -> None:
    """Refuses an upload of `size` bytes over `config.max_bytes` (before it is all read)."""
    if size > config.max_bytes:
        raise PhotoTooBig(
            f"Foto terlalu besar ({_megabytes(size)}); paling besar "
            f"{_megabytes(config.max_bytes)}. Kirim foto dengan ukuran lebih kecil."
        )


def clean_photo(data: bytes, config: PhotoConfig) -> CleanPhoto:
    """`data` checked (size, JPEG or PNG by content, not a pixel bomb) and encoded again
    without metadata, turned upright as the phone's EXIF orientation says."""
    if not data:
        raise PhotoRefused("Tidak ada berkas foto yang dipilih.")
    check_size(len(data), config)
    wrong = PhotoRefused(
        "Berkas ini bukan foto JPEG atau PNG. Pilih foto dari kamera atau galeri (JPEG/PNG)."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=tuple(KINDS))
            # a phone's JPEG with a second picture (depth, preview) opens as MPO: its first
            # picture is the photo
            kind = "JPEG" if image.format == "MPO" else str(image.format)
            if image.width * image.height > MAX_PIXELS:
                raise PhotoTooBig(
                    f"Foto terlalu besar ({image.width}×{image.height} piksel); paling besar "
                    f"{MAX_PIXELS // 1_000_000} megapiksel."
                )
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):  # fmt: skip
        raise wrong from None
    if kind not in KINDS:
        raise wrong
    upright = ImageOps.exif_transpose(image)
    upright.info.clear()  # EXIF (GPS), XMP, comments: none is written again
    out = io.BytesIO()
    if kind == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    else:
        upright.save(out, "PNG", optimize=True)
    return CleanPhoto(KINDS[kind], out.getvalue(), upright.width, upright.height)

"""Clinical photos as stored: upright, and without the camera's metadata.

A phone's EXIF carries the GPS position, the device and the time; none of it belongs in a record.
"""

from __future__ import annotations

from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 92, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 92},
}


def photo_without_metadata(upload: UploadedFile) -> ContentFile[bytes]:
    """The upload re-encoded in its own format: orientation applied, then every metadata block
    dropped but the colour profile."""
    upload.seek(0)
    with Image.open(upload) as original:
        image_format = original.format or "JPEG"
        icc_profile = original.info.get("icc_profile")
        upright = ImageOps.exif_transpose(original)
        if image_format == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        out = BytesIO()
        options: dict[str, object] = dict(SAVE_OPTIONS.get(image_format, {}))
        if icc_profile:
            options["icc_profile"] = icc_profile
        upright.save(out, format=image_format, **options)
    return ContentFile(out.getvalue(), name=upload.name)

"""Uploaded materials are judged by their content, never by their name or declared type."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tongban.cases import error_codes
from tongban.core.errors import FieldError, InvalidInput

_LABELS = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass(frozen=True)
class InspectedUpload:
    file: UploadedFile
    content_type: str
    size: int
    sha256: str


def inspect(upload: UploadedFile, *, field: str) -> InspectedUpload:
    size = upload.size or 0
    if size == 0:
        raise InvalidInput(
            error_codes.UPLOAD_EMPTY,
            f"文件“{upload.name}”是空的。",
            errors=[FieldError(field, "文件是空的。", error_codes.UPLOAD_EMPTY)],
        )
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        msg = f"文件“{upload.name}”超过 {limit // (1024 * 1024)} MB 的大小限制。"
        raise InvalidInput(
            error_codes.UPLOAD_TOO_LARGE, msg, errors=[FieldError(field, msg, error_codes.UPLOAD_TOO_LARGE)]
        )
    digest = hashlib.sha256()
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else ""
    if mime not in settings.UPLOAD_ALLOWED_MIME:
        allowed = "、".join(_LABELS[m] for m in settings.UPLOAD_ALLOWED_MIME)
        msg = f"文件“{upload.name}”的内容不是允许的类型（{allowed}）。"
        raise InvalidInput(
            error_codes.UPLOAD_TYPE_NOT_ALLOWED,
            msg,
            errors=[FieldError(field, msg, error_codes.UPLOAD_TYPE_NOT_ALLOWED)],
        )
    return InspectedUpload(file=upload, content_type=mime, size=size, sha256=digest.hexdigest())

"""网上申报 attachments: check an uploaded file, then keep it content-addressed on disk.

``check_upload`` is pure: it decides the file's type from its first bytes (magic numbers), never
from what the browser declared, because a declared ``Content-Type`` and a file name are both chosen
by the sender. ``store_upload`` writes the bytes once under ``root/ab/cd/<sha256>``; the same file
uploaded twice (by one applicant for two materials, or by two applicants) is stored once.
The database keeps the hash, the sanitised name and the sniffed type; the name never reaches the
file system.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from onewindow.core.errors import NotFound, Problem, ValidationFailed

MAX_FILENAME_CHARS = 200
SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FileType:
    """One accepted kind of attachment: its label, MIME type, leading bytes and file extensions."""

    label: str
    content_type: str
    magic: bytes
    extensions: tuple[str, ...]


# The first extension of each type is the one added to a name that has none.
ALLOWED_TYPES: tuple[FileType, ...] = (
    FileType("PDF", "application/pdf", b"%PDF-", (".pdf",)),
    FileType("JPEG", "image/jpeg", b"\xff\xd8\xff", (".jpg", ".jpeg")),
    FileType("PNG", "image/png", b"\x89PNG\r\n\x1a\n", (".png",)),
    # OFD (GB/T 33190, the national layout format of e-licences) is a ZIP package; many other
    # formats are too (.docx, .apk), so the extension and the package's root OFD.xml decide.
    FileType("OFD", "application/ofd", b"PK\x03\x04", (".ofd",)),
)
ALLOWED_LABELS = "、".join(t.label for t in ALLOWED_TYPES)


@dataclass(frozen=True)
class CheckedUpload:
    """An accepted attachment: safe display name, sniffed MIME type, size in bytes, SHA-256 (hex)."""

    filename: str
    content_type: str
    size: int
    sha256: str


def check_upload(filename: str, declared_type: str | None, data: bytes, *, max_bytes: int,
                 field: str, size: int | None = None) -> CheckedUpload:
    """Accept a PDF, JPEG, PNG or OFD file within the size limit, or raise ``ValidationFailed``.

    Callers read at most one byte past the limit; ``size`` is the file's real size when they know it
    (the multipart parser does), so the message never calls an 11 MB file "10 MB".
    """
    # ``declared_type`` is taken so callers can pass what they received, and deliberately ignored:
    # trusting it is how an HTML page named 营业执照.pdf gets stored and served as a PDF.
    del declared_type
    name = sanitise_filename(filename)
    if not data:
        raise _problem(field, "upload_empty", f"文件“{name}”是空文件，请重新选择")
    if len(data) > max_bytes:
        real = size if size is not None and size > max_bytes else len(data)
        raise _problem(field, "upload_too_large",
                       f"文件“{name}”大小为 {_over(real, max_bytes)}，超过 {_mb(max_bytes)} MB 的上限")
    file_type = _sniff(name, data)
    if file_type is None:
        raise _problem(field, "upload_type_not_allowed",
                       f"文件“{name}”的内容不是允许的类型，仅接受 {ALLOWED_LABELS} 文件")
    stem, ext = _split_extension(name)
    if not ext:
        name = _limit(stem, file_type.extensions[0])
    elif ext not in file_type.extensions:
        raise _problem(field, "upload_type_mismatch",
                       f"文件“{name}”的内容是 {file_type.label}，与扩展名“{ext}”不符，"
                       f"请使用 {'或'.join(file_type.extensions)} 扩展名")
    return CheckedUpload(filename=name, content_type=file_type.content_type, size=len(data),
                         sha256=hashlib.sha256(data).hexdigest())


def sanitise_filename(filename: str) -> str:
    """The base name only, without control or reserved characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", filename)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join("_" if ch in '<>:"|?*' else ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    stem, ext = _split_extension(name)
    return _limit(stem or "附件", ext)


def store_upload(root: Path, checked: CheckedUpload, data: bytes) -> Path:
    """Write the bytes to ``root/ab/cd/<sha256>`` atomically; an already stored file is left alone."""
    if hashlib.sha256(data).hexdigest() != checked.sha256:
        raise ValueError("data does not match the checked upload")  # a caller bug, not a user error
    path = upload_path(root, checked.sha256)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # Two writers of the same bytes may race here; either rename leaves identical content.
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def open_upload(root: Path, sha256: str) -> Path:
    """The stored file of a hash; ``NotFound`` for a malformed hash or a missing file."""
    if not SHA256_RE.fullmatch(sha256):
        raise NotFound("上传文件", sha256[:64])
    path = upload_path(root, sha256)
    if not path.is_file():
        raise NotFound("上传文件", sha256)
    return path


def upload_path(root: Path, sha256: str) -> Path:
    """Where a file with this (already validated) hash lives."""
    return root / sha256[:2] / sha256[2:4] / sha256


def _sniff(name: str, data: bytes) -> FileType | None:
    _stem, ext = _split_extension(name)
    for file_type in ALLOWED_TYPES:
        if not data.startswith(file_type.magic):
            continue
        if file_type.label == "OFD" and not (ext in file_type.extensions and _is_ofd_package(data)):
            return None
        return file_type
    return None


def _is_ofd_package(data: bytes) -> bool:
    # Only the central directory is read: nothing is decompressed, so a ZIP bomb costs nothing.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return any(n.lower() == "ofd.xml" for n in package.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext or len(ext) > 10:
        return name, ""
    return stem, f".{ext.lower()}"


def _limit(stem: str, ext: str) -> str:
    return stem[: MAX_FILENAME_CHARS - len(ext)] + ext


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _over(size: int, limit: int) -> str:
    # a size just over the limit must not read as the limit itself ("10 MB，超过 10 MB")
    if _mb(size) != _mb(limit):
        return f"{_mb(size)} MB"
    return f"{-(-size // 1024):,} KB"


def _problem(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(field, code, message)])

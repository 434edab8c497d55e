"""Attachments of online applications: type sniffed from bytes, size limits, safe names, content-addressed store."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from onewindow.cases.uploads import CheckedUpload, check_upload, open_upload, sanitise_filename, store_upload
from onewindow.config import Settings
from onewindow.core.errors import NotFound, ValidationFailed

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32) + b"\xff\xd9"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
MB = 1024 * 1024


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in names:
            package.writestr(name, "<ofd:OFD/>")
    return buffer.getvalue()


def check(filename: str, data: bytes, declared: str | None = None, max_bytes: int = 10 * MB) -> CheckedUpload:
    return check_upload(filename, declared, data, max_bytes=max_bytes, field="materials[0].file")


def problem_of(excinfo: pytest.ExceptionInfo[ValidationFailed]) -> tuple[str, str, str]:
    (problem,) = excinfo.value.problems
    return problem.field, problem.code, problem.message


@pytest.mark.parametrize(("filename", "data", "content_type"), [
    ("营业执照.pdf", PDF, "application/pdf"),
    ("身份证正面.PNG", PNG, "image/png"),
    ("现场照片.jpeg", JPEG, "image/jpeg"),
    ("现场照片.jpg", JPEG, "image/jpeg"),
    ("电子证照.ofd", _zip("OFD.xml", "Doc_0/Document.xml"), "application/ofd"),
])
def test_accepted_files_take_their_type_from_their_bytes(filename: str, data: bytes, content_type: str) -> None:
    checked = check(filename, data, declared="application/octet-stream")
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.filename.lower() == filename.lower()


def test_the_declared_type_is_not_trusted() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check("营业执照.pdf", HTML, declared="application/pdf")
    field, code, message = problem_of(excinfo)
    assert (field, code) == ("materials[0].file", "upload_type_not_allowed")
    assert message == "文件“营业执照.pdf”的内容不是允许的类型，仅接受 PDF、JPEG、PNG、OFD 文件"


@pytest.mark.parametrize(("filename", "data"), [
    ("setup.exe", b"MZ\x90\x00\x03" + bytes(64)),
    ("申请表.docx", _zip("[Content_Types].xml", "word/document.xml")),
    ("电子证照.ofd", _zip("word/document.xml")),
    ("电子证照.ofd", b"PK\x03\x04 not really a zip"),
])
def test_other_kinds_of_file_are_refused(filename: str, data: bytes) -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check(filename, data)
    assert problem_of(excinfo)[1] == "upload_type_not_allowed"


def test_an_allowed_type_behind_another_extension_is_refused() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check("invoice.pdf.exe", PDF)
    _field, code, message = problem_of(excinfo)
    assert code == "upload_type_mismatch"
    assert "内容是 PDF" in message and "“.exe”" in message
    with pytest.raises(ValidationFailed) as excinfo:
        check("照片.png", JPEG)
    assert problem_of(excinfo)[1] == "upload_type_mismatch"


def test_a_name_without_extension_gets_the_sniffed_one() -> None:
    assert check("扫描件", PDF).filename == "扫描件.pdf"


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationFailed) as excinfo:
        check("空白.pdf", b"")
    assert problem_of(excinfo)[1:] == ("upload_empty", "文件“空白.pdf”是空文件，请重新选择")


def test_a_file_over_the_limit_is_refused_with_both_sizes_in_mb() -> None:
    data = PDF + bytes(int(2.5 * MB))
    with pytest.raises(ValidationFailed) as excinfo:
        check("大文件.pdf", data, max_bytes=2 * MB)
    assert problem_of(excinfo)[1:] == ("upload_too_large", "文件“大文件.pdf”大小为 2.5 MB，超过 2 MB 的上限")
    assert check("刚好.pdf", PDF + bytes(2 * MB - len(PDF)), max_bytes=2 * MB).size == 2 * MB


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\张三\\Desktop\\户口本.pdf", "户口本.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("a\x00b\r\nc.pdf", "abc.pdf"),
    ('申请<表>:"1"|?*.pdf', "申请_表___1____.pdf"),
    ("../", "附件"),
    ("", "附件"),
])
def test_file_names_are_reduced_to_a_safe_base_name(raw: str, clean: str) -> None:
    assert sanitise_filename(raw) == clean


def test_long_names_are_cut_to_200_characters_keeping_the_extension() -> None:
    name = check("很" * 500 + ".pdf", PDF).filename
    assert len(name) == 200 and name.endswith("很.pdf")


def test_a_traversal_name_is_checked_as_its_base_name() -> None:
    assert check("../../etc/passwd.pdf", PDF).filename == "passwd.pdf"


def test_stored_files_are_content_addressed_and_stored_once(tmp_path: Path) -> None:
    checked = check("营业执照.pdf", PDF)
    path = store_upload(tmp_path, checked, PDF)
    digest = checked.sha256
    assert path == tmp_path / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == PDF
    mtime = path.stat().st_mtime_ns
    again = store_upload(tmp_path, check("另一个名字.pdf", PDF), PDF)
    assert again == path and path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [digest]  # no temporary files left behind
    assert open_upload(tmp_path, digest) == path


def test_store_refuses_bytes_that_are_not_the_checked_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not match"):
        store_upload(tmp_path, check("a.pdf", PDF), PDF + b"x")


@pytest.mark.parametrize("key", [
    "../../etc/passwd",
    "ab/../../../etc/passwd",
    "A" * 64,
    "0" * 63,
    "0" * 64 + "/../x",
    "",
])
def test_open_refuses_anything_but_a_sha256(tmp_path: Path, key: str) -> None:
    with pytest.raises(NotFound):
        open_upload(tmp_path, key)


def test_open_of_an_unknown_hash_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as excinfo:
        open_upload(tmp_path, "0" * 64)
    assert excinfo.value.status == 404


def test_upload_settings_have_defaults_and_read_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    defaults = Settings(secret_key="x" * 32)
    assert defaults.upload_dir == Path("var/uploads") and defaults.upload_max_bytes == 10 * MB
    monkeypatch.setenv("ONEWINDOW_UPLOAD_DIR", str(tmp_path))
    monkeypatch.setenv("ONEWINDOW_UPLOAD_MAX_BYTES", "1048576")
    configured = Settings(secret_key="x" * 32)
    assert configured.upload_dir == tmp_path and configured.upload_max_bytes == MB


def test_the_message_gives_the_real_size_of_a_file_read_only_up_to_the_limit() -> None:
    read = PDF + bytes(2 * MB - len(PDF) + 1)  # the caller stopped one byte past the limit
    with pytest.raises(ValidationFailed) as excinfo:
        check_upload("扫描件.pdf", None, read, max_bytes=2 * MB, field="f", size=int(2.7 * MB))
    assert problem_of(excinfo)[2] == "文件“扫描件.pdf”大小为 2.7 MB，超过 2 MB 的上限"
    with pytest.raises(ValidationFailed) as excinfo:
        check_upload("扫描件.pdf", None, read, max_bytes=2 * MB, field="f")
    assert problem_of(excinfo)[2] == "文件“扫描件.pdf”大小为 2,049 KB，超过 2 MB 的上限"

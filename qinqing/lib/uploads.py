"""What an uploaded file really is, read from its bytes, and whether a use of it may accept it.

A file's name proves nothing: an HTML page renamed 现场照片.png, served back from our domain, is a page
running in our origin. So every upload (demand attachments, workbook imports, the holiday calendar) goes
through `check_upload`: its extension must be one the use accepts, its size within the use's limit, and
its first bytes must be what the extension says. A short table of signatures is enough for the ten types we
accept; libmagic would bring thousands we refuse anyway, and a C dependency.
"""

import codecs
import os
import zipfile
from dataclasses import dataclass

from django.http import FileResponse

MB = 1024 * 1024
HEAD_BYTES = 16
CONTENT_TYPES_MAX = MB  # a real [Content_Types].xml is a few kilobytes


class UploadRefused(ValueError):
    """The file is refused; `message` says why, in Chinese, and names the file."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    extensions: tuple[str, ...]
    mime: str = ""  # set for the kinds a browser may show in place (images, PDF); others are downloaded


KINDS = {kind.code: kind for kind in (
    Kind("png", "PNG 图片", ("png",), "image/png"),
    Kind("jpeg", "JPEG 图片", ("jpg", "jpeg"), "image/jpeg"),
    Kind("gif", "GIF 图片", ("gif",), "image/gif"),
    Kind("webp", "WebP 图片", ("webp",), "image/webp"),
    Kind("pdf", "PDF 文档", ("pdf",), "application/pdf"),
    Kind("docx", "Word 文档（.docx）", ("docx",)),
    Kind("xlsx", "Excel 工作簿（.xlsx）", ("xlsx",)),
    Kind("pptx", "PowerPoint 演示文稿（.pptx）", ("pptx",)),
    # Word 97 and Excel 97 share one container (OLE compound file); telling them apart means walking its
    # directory. Either is harmless as the other: both are only ever downloaded.
    Kind("ole", "旧版 Office 文档（.doc/.xls）", ("doc", "xls")),
    Kind("text", "UTF-8 文本", ("txt", "csv")),
)}
BY_EXTENSION = {ext: kind for kind in KINDS.values() for ext in kind.extensions}

SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PK\x03\x04", "zip"),
)
# The main part's content type in [Content_Types].xml names the package. Macro-enabled and template
# variants (docm, xlsm, xltx…) have other content types and are therefore not recognised.
OOXML_MAIN_PARTS = (
    (b"wordprocessingml.document.main+xml", "docx"),
    (b"spreadsheetml.sheet.main+xml", "xlsx"),
    (b"presentationml.presentation.main+xml", "pptx"),
)


def detect(stream) -> str | None:
    """The kind code of a seekable binary stream's content (see KINDS), or None; the stream is rewound."""
    stream.seek(0)
    code = _head_kind(stream.read(HEAD_BYTES))
    stream.seek(0)
    try:
        if code == "zip":
            return _ooxml_kind(stream)
        if code is None and _is_utf8_text(stream):
            return "text"
        return code
    finally:
        stream.seek(0)


def _head_kind(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((code for magic, code in SIGNATURES if head.startswith(magic)), None)


def _ooxml_kind(stream) -> str | None:
    try:
        with zipfile.ZipFile(stream) as package:
            part = package.getinfo("[Content_Types].xml")
            if part.file_size > CONTENT_TYPES_MAX:
                return None
            types = package.read(part)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, NotImplementedError, RuntimeError):
        return None
    return next((code for marker, code in OOXML_MAIN_PARTS if marker in types), None)


def _is_utf8_text(stream) -> bool:
    """Valid UTF-8 (a BOM allowed) with no NUL byte, read to the end in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(256 * 1024):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def size_text(limit: int) -> str:
    """'20 MB', '1.5 MB', '512 KB': a limit as the refusal states it."""
    if limit >= MB:
        return f"{limit / MB:.1f}".removesuffix(".0") + " MB"
    return f"{max(limit // 1024, 1)} KB"


def check_upload(upload, *, allowed: tuple[str, ...] | list[str], max_bytes: int) -> Kind:
    """The kind of an uploaded file (Django's UploadedFile or any File) whose extension is in `allowed`,
    whose size is at most `max_bytes` and whose content is what its extension says; else UploadRefused."""
    name = os.path.basename(upload.name or "")
    extension = _extension(name)
    expected = BY_EXTENSION.get(extension)
    if expected is None or extension not in allowed:
        raise UploadRefused(f"不支持的文件类型：“{name}”。仅支持：{'、'.join(allowed)}。")
    if not upload.size:
        raise UploadRefused(f"文件是空的：“{name}”。")
    if upload.size > max_bytes:
        raise UploadRefused(f"文件过大（上限 {size_text(max_bytes)}）：“{name}”。")
    actual = detect(getattr(upload, "file", upload))
    if actual != expected.code:
        found = f"，实际是{KINDS[actual].label}" if actual in KINDS else ""
        raise UploadRefused(f"文件内容与扩展名不符：“{name}”不是{expected.label}{found}。")
    return expected


def stored_file_response(field_file, filename: str, *, inline: bool = False) -> FileResponse:
    """A stored upload as a download. Shown in place only when asked for and its stored bytes are an image
    or a PDF, with that type: the name alone never makes a browser render it (and every answer carries
    `X-Content-Type-Options: nosniff`, SecurityMiddleware's default). FileNotFoundError if it is gone."""
    handle = field_file.open("rb")
    kind = KINDS.get(_head_kind(handle.read(HEAD_BYTES)) or "")
    handle.seek(0)
    if inline and kind is not None and kind.mime and BY_EXTENSION.get(_extension(filename)) is kind:
        return FileResponse(handle, filename=filename, content_type=kind.mime)
    return FileResponse(handle, as_attachment=True, filename=filename)


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower().lstrip(".")

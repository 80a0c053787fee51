"""Uploads are judged by their bytes, not their names, and stored files reach only those who may see them."""

import datetime as dt
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from docx import Document as WordDocument
from openpyxl import Workbook

from qinqing.accounts.models import Role
from qinqing.demands import services
from qinqing.demands.errors import DomainError
from qinqing.demands.models import Attachment, Channel, Demand
from qinqing.enterprises.models import ImportJob
from qinqing.lib import uploads
from qinqing.reports.models import CircularKind
from qinqing.reports.services import issue_circular
from qinqing.workbench.models import ExportJob

from .conftest import at, login, make_user

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def png_bytes() -> bytes:
    """A real 1×1 PNG, built by hand (no imaging library in the project)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["统一社会信用代码", "职责", "干部用户名"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    document = WordDocument()
    document.add_paragraph("情况说明")
    document.save(out)
    return out.getvalue()


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def attach(demand, name: str, content: bytes) -> Attachment:
    """A stored attachment written directly, as files uploaded before content checks existed were."""
    item = Attachment(demand=demand, name=name, size=len(content), uploaded_by=demand.first_receiver)
    item.file.save(name, ContentFile(content), save=True)
    return item


# ---------------------------------------------------------------- the type comes from the content

@pytest.mark.parametrize(("name", "content", "kind"), [
    ("现场照片.png", png_bytes(), "png"),
    ("现场照片.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
    ("扫描件.pdf", PDF, "pdf"),
    ("名单.xlsx", xlsx_bytes(), "xlsx"),
    ("说明.docx", docx_bytes(), "docx"),
    ("旧表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "ole"),
    ("说明.txt", "扩建说明\n第二行".encode(), "text"),
])
def test_real_files_are_accepted_as_what_they_are(name, content, kind):
    upload = SimpleUploadedFile(name, content)
    accepted = uploads.check_upload(upload, allowed=["png", "jpg", "pdf", "xlsx", "docx", "xls", "txt"],
                                    max_bytes=uploads.MB)
    assert accepted.code == kind
    assert upload.read() == content  # rewound for whoever stores it


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("头像.png", HTML, "文件内容与扩展名不符：“头像.png”不是PNG 图片，实际是UTF-8 文本。"),
    ("名单.xlsx", docx_bytes(), "文件内容与扩展名不符：“名单.xlsx”不是Excel 工作簿（.xlsx），实际是Word 文档（.docx）。"),
    ("说明.docx", xlsx_bytes(), "文件内容与扩展名不符：“说明.docx”不是Word 文档（.docx），实际是Excel 工作簿（.xlsx）。"),
    ("照片.jpg", png_bytes(), "文件内容与扩展名不符：“照片.jpg”不是JPEG 图片，实际是PNG 图片。"),
    ("扫描件.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "文件内容与扩展名不符：“扫描件.pdf”不是PDF 文档。"),
    ("说明.txt", "GBK 编码的说明".encode("gbk"), "文件内容与扩展名不符：“说明.txt”不是UTF-8 文本。"),
    ("说明.txt", b"text with a NUL\x00 byte", "文件内容与扩展名不符：“说明.txt”不是UTF-8 文本。"),
    ("名单.xlsx", b"PK\x03\x04 a broken zip", "文件内容与扩展名不符：“名单.xlsx”不是Excel 工作簿（.xlsx）。"),
    ("页面.html", HTML, "不支持的文件类型：“页面.html”。仅支持：png、jpg、pdf、xlsx、docx、txt。"),
    ("setup.exe", b"MZ\x90\x00", "不支持的文件类型：“setup.exe”。仅支持：png、jpg、pdf、xlsx、docx、txt。"),
    ("空白.pdf", b"", "文件是空的：“空白.pdf”。"),
])
def test_a_file_whose_content_is_not_what_its_name_says_is_refused_in_chinese(name, content, expected):
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(SimpleUploadedFile(name, content), allowed=["png", "jpg", "pdf", "xlsx", "docx", "txt"],
                             max_bytes=uploads.MB)
    assert refused.value.message == expected


def test_a_macro_enabled_workbook_renamed_xlsx_is_refused():
    package = io.BytesIO(xlsx_bytes())
    rewritten = io.BytesIO()
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            target.writestr(item, data)
    with pytest.raises(uploads.UploadRefused, match="不是Excel 工作簿"):
        uploads.check_upload(SimpleUploadedFile("宏.xlsx", rewritten.getvalue()), allowed=["xlsx"],
                             max_bytes=uploads.MB)


def test_the_size_limit_is_stated_in_the_refusal():
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(SimpleUploadedFile("扫描件.pdf", PDF + b" " * (20 * uploads.MB)), allowed=["pdf"],
                             max_bytes=20 * uploads.MB)
    assert refused.value.message == "文件过大（上限 20 MB）：“扫描件.pdf”。"
    assert uploads.size_text(512 * 1024) == "512 KB" and uploads.size_text(3 * uploads.MB // 2) == "1.5 MB"


# ---------------------------------------------------------------- every upload path uses it

def test_an_html_file_named_png_is_refused_on_the_portal_and_nothing_is_stored(world):
    response = login(world.owner).post(reverse("portal:submit"), {
        "content": "厂区门口道路破损", "attachments": [SimpleUploadedFile("现场照片.png", HTML)]})
    assert response.status_code == 400
    assert "文件内容与扩展名不符：“现场照片.png”不是PNG 图片" in response.content.decode()
    assert not Demand.objects.exists() and not Attachment.objects.exists()
    assert stored_files() == []


def test_a_real_png_and_pdf_are_accepted_at_the_staff_intake(world):
    response = login(world.dispatcher).post(reverse("demands:receive"), {
        "enterprise": world.enterprise.credit_code, "channel": Channel.VISIT, "title": "厂区道路破损",
        "content": "请求修复", "received_at": "2026-11-23T09:30",
        "attachments": [SimpleUploadedFile("现场照片.png", png_bytes()), SimpleUploadedFile("函件.pdf", PDF)]})
    assert response.status_code == 302
    demand = Demand.objects.get()
    assert sorted(a.name for a in demand.attachments.all()) == ["函件.pdf", "现场照片.png"]
    assert sorted(p.read_bytes() for p in stored_files()) == sorted([png_bytes(), PDF])


def test_an_oversize_attachment_is_refused_and_nothing_is_stored(world, settings):
    settings.QINQING_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(DomainError, match=r"文件过大（上限 1 KB）：“函件.pdf”"):
        services.receive_demand(world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT,
                                title="厂区道路破损", content="请求修复", received_at=at("2026-11-23 09:30"),
                                attachments=[SimpleUploadedFile("函件.pdf", PDF + b" " * 1024)])
    assert not Demand.objects.exists() and stored_files() == []


def test_a_word_document_renamed_xlsx_is_refused_by_the_registry_import(world):
    response = login(world.dispatcher).post(reverse("enterprises:import"),
                                            {"file": SimpleUploadedFile("名单.xlsx", docx_bytes())})
    assert "文件内容与扩展名不符：“名单.xlsx”不是Excel 工作簿（.xlsx），实际是Word 文档（.docx）" in response.content.decode()
    assert not ImportJob.objects.exists() and stored_files() == []


def test_a_word_document_renamed_xlsx_is_refused_by_the_assignments_import(world):
    response = login(world.dispatcher).post(reverse("visits:assignments_import"),
                                            {"file": SimpleUploadedFile("包联.xlsx", docx_bytes())}, follow=True)
    assert "文件内容与扩展名不符：“包联.xlsx”不是Excel 工作簿（.xlsx）" in response.content.decode()


def test_a_workbook_renamed_csv_is_refused_by_the_calendar_import(world):
    response = login(world.admin).post(reverse("admin:workdays_workdayoverride_import"),
                                       {"file": SimpleUploadedFile("2027.csv", xlsx_bytes())})
    assert "文件内容与扩展名不符：“2027.csv”不是UTF-8 文本" in response.content.decode()


# ---------------------------------------------------------------- stored files are served only through views

@pytest.fixture
def photo_demand(world):
    return services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel=Channel.VISIT, title="厂区道路破损",
        content="请求修复", received_at=at("2026-11-20 10:00"),
        attachments=[SimpleUploadedFile("现场照片.png", png_bytes())])


def test_media_is_not_under_the_static_files_and_no_url_serves_it(world, photo_demand):
    media = Path(settings.MEDIA_ROOT).resolve()
    for served in [Path(settings.STATIC_ROOT), *(Path(d[1] if isinstance(d, tuple) else d)
                                                 for d in settings.STATICFILES_DIRS)]:
        assert not media.is_relative_to(served.resolve())
    stored = photo_demand.attachments.get().file.name
    for client in (Client(), login(world.admin)):
        assert client.get(f"/{settings.MEDIA_URL}{stored}").status_code == 404
    assert not hasattr(settings, "WHITENOISE_ROOT")  # WhiteNoise serves STATIC_ROOT only


def test_the_owner_sees_a_photo_in_place_and_other_files_are_downloaded(world, photo_demand):
    owner = login(world.owner)
    photo = photo_demand.attachments.get()
    response = owner.get(reverse("portal:attachment", args=[photo_demand.number, photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png_bytes()

    note = attach(photo_demand, "说明.txt", "扩建说明".encode())
    response = owner.get(reverse("portal:attachment", args=[photo_demand.number, note.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_html_page_stored_under_a_png_name_is_never_shown_in_place(world, photo_demand):
    page = attach(photo_demand, "头像.png", HTML)  # a file from before content checks
    response = login(world.owner).get(reverse("portal:attachment", args=[photo_demand.number, page.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_staff_downloads_are_attachments_with_nosniff(world, photo_demand):
    photo = photo_demand.attachments.get()
    response = login(world.dispatcher).get(reverse("demands:attachment", args=[photo_demand.number, photo.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("outsider", ["neighbour_owner", "other_owner"])
def test_another_enterprise_cannot_download_the_attachment(world, photo_demand, outsider):
    photo = photo_demand.attachments.get()
    response = login(getattr(world, outsider)).get(reverse("portal:attachment", args=[photo_demand.number, photo.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("outsider", ["other_dispatcher", "other_handler", "co_handler"])
def test_staff_of_another_district_or_unit_cannot_download_the_attachment(world, photo_demand, outsider):
    photo = photo_demand.attachments.get()
    client = login(getattr(world, outsider))
    assert client.get(reverse("demands:attachment", args=[photo_demand.number, photo.pk])).status_code == 404


def test_an_attachment_is_reached_only_through_its_own_demand(world, photo_demand, demand):
    photo = photo_demand.attachments.get()
    # The dispatcher sees both demands, but the file belongs to the first one only.
    url = reverse("demands:attachment", args=[demand.number, photo.pk])
    assert login(world.dispatcher).get(url).status_code == 404


def test_an_export_file_is_downloaded_only_by_the_person_who_made_it(world):
    job = ExportJob.objects.create(user=world.dispatcher, query="", status=ExportJob.Status.DONE, total_rows=1,
                                   done_rows=1)
    job.file.save("ledger.xlsx", ContentFile(xlsx_bytes()), save=True)
    url = reverse("workbench:download", args=[job.pk])
    response = login(world.dispatcher).get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    for outsider in (world.other_dispatcher, world.supervisor, world.handler):
        assert login(outsider).get(url).status_code == 404


def test_an_import_error_file_is_downloaded_only_by_its_uploader(world):
    job = ImportJob.objects.create(original_name="名单.xlsx", uploaded_by=world.dispatcher, file="imports/x.xlsx")
    job.error_file.save("名单_错误标注.xlsx", ContentFile(xlsx_bytes()), save=True)
    url = reverse("enterprises:import_errors", args=[job.pk])
    response = login(world.dispatcher).get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert login(world.other_dispatcher).get(url).status_code == 404


def test_a_circular_is_downloaded_only_within_its_district(world):
    other_supervisor = make_user("othersupervisor", Role.SUPERVISOR, full_name="卫外督",
                                 jurisdiction=world.other_district)
    circular = issue_circular(world.supervisor, kind=CircularKind.MONTHLY, jurisdiction=world.district,
                              start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30))
    url = reverse("reports:circular_file", args=[circular.pk, "word"])
    response = login(world.supervisor).get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert login(other_supervisor).get(url).status_code == 404

"""After the reply: the enterprise adds material or a message to its open demand from the portal and the unit
is told; the unit attaches files to its reply; images and PDFs show in the page, served only to whoever may
see the demand."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qinqing.demands import services
from qinqing.demands.errors import DomainError, IllegalTransition, PermissionDeniedError
from qinqing.demands.models import Attachment, DemandEvent, Outcome
from qinqing.notifications.models import Notification
from qinqing.transparency import material

from .conftest import login
from .test_uploads import png_bytes

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def photo(name="现场照片.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


@pytest.fixture
def handled(world, demand):
    demand = services.dispatch_demand(world.dispatcher, demand, lead_unit=world.bureau)
    return services.accept_demand(world.handler, demand)


def test_a_follow_up_with_a_photo_from_the_portal_reaches_the_handler_with_its_preview(
        world, handled, django_capture_on_commit_callbacks):
    owner = login(world.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(reverse("portal:follow_up", args=[handled.number]),
                              {"text": "补充：新厂区消防图纸已完成，见照片。", "files": [photo()]})
    assert response.status_code == 302
    event = DemandEvent.objects.get(demand=handled, verb="follow_up")
    item = Attachment.objects.get(pk=event.data["attachments"][0])
    assert item.name == "现场照片.png" and item.uploaded_by == world.owner
    told = Notification.objects.get(recipient=world.handler, event=event)
    assert "企业补充了材料" in told.text and handled.number in told.text

    page = login(world.handler).get(reverse("demands:detail", args=[handled.number])).content.decode()
    preview = reverse("demands:attachment_preview", args=[handled.number, item.pk])
    assert f'<img src="{preview}"' in page and "补充：新厂区消防图纸已完成" in page
    shown = login(world.handler).get(preview)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in shown["Content-Security-Policy"]
    assert login(world.other_handler).get(preview).status_code == 404

    mine = owner.get(reverse("portal:detail", args=[handled.number])).content.decode()
    assert "补充材料（现场照片.png）" in mine
    assert reverse("portal:attachment_preview", args=[handled.number, item.pk]) in mine
    other = login(world.neighbour_owner).get(reverse("portal:attachment_preview", args=[handled.number, item.pk]))
    assert other.status_code == 404


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_written(world, handled):
    page = SimpleUploadedFile("照片.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    with pytest.raises(DomainError, match="文件内容与扩展名不符"):
        material.add_follow_up(world.owner, handled, text="见附件", files=[page])
    assert not Attachment.objects.filter(demand=handled).exists()
    assert not DemandEvent.objects.filter(demand=handled, verb="follow_up").exists()


def test_only_the_demands_enterprise_adds_material_and_not_after_it_is_closed(world, handled):
    with pytest.raises(DomainError):
        material.add_follow_up(world.neighbour_owner, handled, text="别人的诉求")
    with pytest.raises(PermissionDeniedError):
        material.add_follow_up(world.handler, handled, text="员工不是企业")
    closed = services.close_on_the_spot(world.dispatcher, services.receive_demand(
        world.dispatcher, enterprise=world.enterprise, channel="visit", title="小问题", content="现场已解决"),
        solution="现场答复")
    with pytest.raises(IllegalTransition, match="不能再补充材料"):
        material.add_follow_up(world.owner, closed, text="还有一点")


def test_reply_files_download_and_preview_only_for_those_who_see_the_demand(world, handled):
    d = services.contact_enterprise(world.handler, handled, method="电话")
    d = services.feed_back_path(world.handler, d, path="协调对接")
    d = services.reply_demand(world.handler, d, reply="已协调两场招聘会。", outcome=Outcome.SOLVED)
    response = login(world.handler).post(reverse("demands:reply_files", args=[d.number]),
                                         {"files": [SimpleUploadedFile("书面答复.pdf", PDF)]})
    assert response.status_code == 302
    item = Attachment.objects.get(demand=d, name="书面答复.pdf")
    with pytest.raises(PermissionDeniedError):
        material.attach_reply_files(world.dispatcher, d, files=[SimpleUploadedFile("x.pdf", PDF)])

    download = reverse("demands:attachment", args=[d.number, item.pk])
    preview = reverse("demands:attachment_preview", args=[d.number, item.pk])
    for user in (world.dispatcher, world.handler, world.leader):
        assert login(user).get(download).status_code == 200
        framed = login(user).get(preview)
        assert framed.status_code == 200 and framed["Content-Type"] == "application/pdf"
    for user in (world.other_handler, world.other_dispatcher, world.co_handler):
        assert login(user).get(download).status_code == 404
        assert login(user).get(preview).status_code == 404
    page = login(world.dispatcher).get(reverse("demands:detail", args=[d.number])).content.decode()
    assert f'<iframe src="{preview}"' in page
    owner = login(world.owner)
    assert owner.get(reverse("portal:attachment", args=[d.number, item.pk])).status_code == 200
    assert "上传答复附件（书面答复.pdf）" in owner.get(reverse("portal:detail", args=[d.number])).content.decode()

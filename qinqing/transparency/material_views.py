"""Pages of 补充材料 and 答复附件, and the in-page preview of an attachment.

The preview answers only for whoever may see the demand (staff through `visible_to`, an enterprise for its
own demand) and only with an image or a PDF, decided by the stored bytes (lib.uploads.stored_file_response):
anything else is refused, never rendered. It is the one answer our pages may frame (X-Frame-Options
SAMEORIGIN, CSP frame-ancestors 'self'); every other answer keeps DENY / 'none'.
"""

from csp.constants import SELF
from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from qinqing.demands.errors import DomainError, NotFoundError
from qinqing.demands.views.common import staff_required
from qinqing.demands.views.detail import get_demand
from qinqing.lib import uploads
from qinqing.portal.views import get_own_demand, portal_page

from . import material


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(FilesField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class FollowUpForm(forms.Form):
    text = forms.CharField(label="补充说明", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3, "placeholder": "补充情况、新的进展或需要说明的事项"}))
    files = FilesField(label="补充文件（照片、PDF 等）", required=False,
                       widget=MultipleFileInput(attrs={"accept": "image/*,.pdf,.doc,.docx,.xls,.xlsx"}))


class ReplyFilesForm(forms.Form):
    files = FilesField(label="答复附件", required=True, widget=MultipleFileInput())


def _preview(demand, pk: int):
    item = get_object_or_404(demand.attachments.all(), pk=pk)
    if not material.preview_kind(item.name):
        raise Http404("该附件不支持预览，请下载查看。")
    try:
        response = uploads.stored_file_response(item.file, item.name, inline=True)
    except FileNotFoundError:
        raise Http404("附件文件不存在。") from None
    if response.get("Content-Disposition", "").startswith("attachment"):
        raise Http404("该附件不支持预览，请下载查看。")  # the stored bytes are not an image or a PDF
    return response


@staff_required
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})
def staff_preview(request, number, pk):
    return _preview(get_demand(request.user, number), pk)


@portal_page
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})
def portal_preview(request, number, pk):
    return _preview(get_own_demand(request.user, number), pk)


@require_POST
@portal_page
def follow_up(request, number):
    demand = get_own_demand(request.user, number)
    form = FollowUpForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            material.add_follow_up(request.user, demand, text=form.cleaned_data["text"],
                                   files=form.cleaned_data["files"])
        except NotFoundError:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, f"补充材料未提交：{exc.message}")
        else:
            messages.success(request, "已补充，承办单位会看到您补充的内容。")
    return redirect("portal:detail", number=demand.number)


@require_POST
@staff_required
def reply_files(request, number):
    demand = get_demand(request.user, number)
    form = ReplyFilesForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的答复附件。")
    else:
        try:
            material.attach_reply_files(request.user, demand, files=form.cleaned_data["files"])
        except NotFoundError:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, f"答复附件未上传：{exc.message}")
        else:
            messages.success(request, "答复附件已上传。")
    return redirect("demands:detail", number=demand.number)

"""The enterprise's side: 为您匹配的政策 (with the estimated benefit and the days left to apply), then every
other current policy that applies where it is registered, and one policy's text and interpretation."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from qinqing.demands.errors import DomainError
from qinqing.lib import clock, uploads
from qinqing.portal.views import portal_page

from . import matching, reach, services
from .models import Policy, PolicyAttachment, PolicyOpen, PushOptOut


def _current(user):
    return Policy.objects.visible_to(user).select_related("jurisdiction").order_by("apply_closes", "-pk")


@portal_page
def my_policies(request):
    """Two queries for the lists: the current policies, then the enterprise's rows of the stored match table."""
    user = request.user
    policies = list(_current(user))
    matches = matching.policies_for(user.enterprise, policies)
    matched_ids = {m.policy.pk for m in matches}
    today = clock.today()
    for m in matches:
        m.days_left = m.policy.days_left(today)
    others = [p for p in policies if p.pk not in matched_ids]
    opted_out = PushOptOut.objects.filter(enterprise_id=user.enterprise_id).exists()
    return render(request, "policies/portal_list.html", {"matches": matches, "others": others, "today": today,
                                                         "opted_out": opted_out})


class QuestionForm(forms.Form):
    content = forms.CharField(label="我想咨询或反映", max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4, "placeholder": "例如：申报材料中的“研发费用”按哪个口径填写？"}),
                              error_messages={"required": "请填写您想咨询或反映的问题。"})


@portal_page
def policy_page(request, pk, question_form=None, status=200):
    policy = get_object_or_404(_current(request.user), pk=pk)
    found = matching.policies_for(request.user.enterprise, [policy])
    reach.record_open(policy, request.user.enterprise_id, PolicyOpen.Via.PAGE)
    asked = list(policy.questions.filter(demand__enterprise_id=request.user.enterprise_id)
                 .select_related("demand").order_by("-created_at")[:10])
    return render(request, "policies/portal_detail.html", {
        "policy": policy, "files": list(policy.attachments.order_by("uploaded_at", "pk")),
        "match": found[0] if found else None, "days_left": policy.days_left(),
        "question_form": question_form or QuestionForm(), "asked": asked}, status=status)


@require_POST
@portal_page
def ask(request, pk):
    """提问: the question becomes a 政策落地难 demand linked to the policy; the enterprise follows it in 我的诉求."""
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            link = services.ask_about_policy(request.user, pk, form.cleaned_data["content"])
        except DomainError as exc:
            if isinstance(exc, services.NotFoundError):
                raise Http404(exc.message) from None
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"您的问题已受理，编号{link.demand.number}，可在“我的诉求”中查看办理进度。")
            return redirect("portal:detail", number=link.demand.number)
    return policy_page(request, pk, question_form=form, status=400)


@require_POST
@portal_page
def push_settings(request):
    """退订 or 恢复 the policy pushes of the user's enterprise."""
    opted_out = request.POST.get("opted_out") == "1"
    services.set_push_opt_out(request.user, opted_out=opted_out)
    messages.success(request, "已退订政策推送，仍可随时在本页查看政策。" if opted_out else "已恢复政策推送。")
    return redirect("policies_portal:home")


@portal_page
def policy_file(request, pk):
    """An attachment of a policy the enterprise may see (current, applying where it is); 404 otherwise."""
    item = get_object_or_404(PolicyAttachment.objects.filter(policy__in=Policy.objects.visible_to(request.user)),
                             pk=pk)
    try:
        return uploads.stored_file_response(item.file, item.name, inline=True)
    except FileNotFoundError:
        raise Http404("附件文件已丢失") from None

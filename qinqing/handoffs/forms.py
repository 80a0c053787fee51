"""The forms of hand-offs and pauses: one per action, each naming the service it feeds."""

from django import forms

from qinqing.demands.verbs import HANDLING, is_dispatcher, is_lead_handler

from . import services
from .models import Pause


class ActionForm(forms.Form):
    verb = ""
    label = ""
    service = None
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, demand=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.demand, self.user = demand, user
        if demand is not None:
            self.fields["version"].initial = demand.version

    def kwargs(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class HandOffForm(ActionForm):
    verb, label = "handoff", "移交其他层级"
    to_jurisdiction = forms.ChoiceField(label="接收层级")
    reason = forms.CharField(label="移交理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, demand=None, user=None, **kwargs):
        super().__init__(*args, demand=demand, user=user, **kwargs)
        targets = services.handoff_targets(user, demand) if demand is not None else []
        self.fields["to_jurisdiction"].choices = [(j.pk, f"{j.name}（{j.get_level_display()}）") for j in targets]

    @staticmethod
    def service(user, demand, **kw):
        return services.hand_off_demand(user, demand, **kw)


class PauseForm(ActionForm):
    verb, label = "pause", "申请挂起"
    reason = forms.ChoiceField(label="挂起原因", choices=Pause.Reason.choices)
    detail = forms.CharField(label="说明", max_length=500, required=False, help_text="原因为“其他”时必填")

    @staticmethod
    def service(user, demand, **kw):
        return services.request_pause(user, demand, **kw)


class ApprovePauseForm(ActionForm):
    verb, label = "approve", "批准挂起"
    note = forms.CharField(label="审批意见", max_length=500, required=False)

    @staticmethod
    def service(user, demand, **kw):
        return services.approve_pause(user, demand, **kw)


class RefusePauseForm(ActionForm):
    verb, label = "refuse", "驳回挂起"
    note = forms.CharField(label="驳回理由", max_length=500)

    @staticmethod
    def service(user, demand, **kw):
        return services.refuse_pause(user, demand, **kw)


class ResumeForm(ActionForm):
    verb, label = "resume", "恢复计时"
    note = forms.CharField(label="说明", max_length=500, required=False)

    @staticmethod
    def service(user, demand, **kw):
        return services.resume_demand(user, demand, **kw)


FORMS = {f.verb: f for f in (HandOffForm, PauseForm, ApprovePauseForm, RefusePauseForm, ResumeForm)}


def available(user, demand, live_pause) -> list[str]:
    """The actions of this app `user` may take on `demand` now (the page shows only these)."""
    verbs = []
    if services.handoff_targets(user, demand) and not demand.paused_since:
        verbs.append("handoff")
    status = live_pause.status if live_pause else None
    if status is None and demand.state in HANDLING and is_lead_handler(user, demand):
        verbs.append("pause")
    if status == Pause.Status.PENDING and is_dispatcher(user, demand):
        verbs += ["approve", "refuse"]
    if status == Pause.Status.ACTIVE and (is_dispatcher(user, demand) or is_lead_handler(user, demand)):
        verbs.append("resume")
    return verbs

from django import forms


class PreferenceForm(forms.Form):
    by_email = forms.BooleanField(label="同时发邮件", required=False)
    by_sms = forms.BooleanField(label="同时发短信", required=False)

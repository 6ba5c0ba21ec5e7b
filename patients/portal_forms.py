"""The patient portal's forms: the details on file, and the birth date that confirms a link."""

from django import forms

from patients.forms import DateInput
from patients.portal_services import portal_contact_parse


class PortalContactForm(forms.Form):
    contact = forms.CharField(
        max_length=254,
        label="Your e-mail address or mobile phone number",
        help_text="The one the clinic has for you. We send a sign-in link there.",
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )

    def clean_contact(self) -> str:
        text: str = self.cleaned_data["contact"].strip()
        portal_contact_parse(text)  # refuses what is neither an address nor a number
        return text


class PortalBirthDateForm(forms.Form):
    birth_date = forms.DateField(
        label="Your date of birth",
        input_formats=["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y"],
        widget=DateInput(attrs={"autocomplete": "bday"}),
        error_messages={"invalid": "Enter your date of birth, e.g. 1990-04-23."},
    )

import django_filters
from django import forms

from patients.forms import PractitionerChoiceField, practitioner_choices
from patients.models import Patient
from patients.querysets import search_filter


class PractitionerFilter(django_filters.ModelChoiceFilter):
    field_class = PractitionerChoiceField  # staff by their names, not their usernames


class PatientFilter(django_filters.FilterSet):
    STATUS_CHOICES = [("active", "Active"), ("archived", "Archived"), ("all", "All")]

    q = django_filters.CharFilter(method="filter_search", label="Name, phone, e-mail or date of birth")
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", empty_label=None, label="Status"
    )
    preferred_practitioner = PractitionerFilter(
        queryset=lambda request: practitioner_choices(), label="Practitioner"
    )

    class Meta:
        model = Patient
        fields = ["q", "status", "preferred_practitioner"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("status", "active")
        super().__init__(data, *args, **kwargs)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def filter_search(self, queryset, name, value):
        return queryset.filter(search_filter(value))

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.active()
        if value == "archived":
            return queryset.archived()
        return queryset

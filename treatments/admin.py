from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from clinic.admin_mixins import CatalogAdmin
from treatments.models import (
    Closure,
    ContraindicationRule,
    Device,
    Location,
    OpeningHours,
    PatientRule,
    Practitioner,
    ProcedureGap,
    Protocol,
    ProtocolDepth,
    RecordField,
    ResourceType,
    Room,
    Source,
    TimeOff,
    Treatment,
    TreatmentGroup,
    WorkingHours,
)
from treatments.models.scheduling import new_feed_token
from treatments.selectors.resource_sessions import sessions_ahead

PROVENANCE = (
    "Evidence",
    {"fields": ("evidence", "sources", "sources_disagree", "note", "active", "customized")},
)


class ProtocolDepthInline(admin.TabularInline):
    model = ProtocolDepth
    extra = 0
    autocomplete_fields = ("area",)


class ProtocolInline(admin.TabularInline):
    model = Protocol
    extra = 0
    fields = (
        "concern",
        "sessions_min",
        "sessions_default",
        "sessions_max",
        "interval_typical_days",
        "evidence",
    )
    show_change_link = True


@admin.register(Source)
class SourceAdmin(CatalogAdmin):
    list_display = ("key", "grade", "citation")
    search_fields = ("key", "citation", "url")
    list_filter = ("grade",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(ResourceType)
class ResourceTypeAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "slug")


@admin.register(Treatment)
class TreatmentAdmin(CatalogAdmin):
    list_display = (
        "name",
        "slug",
        "kind",
        "duration_minutes",
        "buffer_minutes",
        "evidence",
        "active",
        "customized",
    )
    list_filter = ("kind", "active", "customized", "sources_disagree")
    search_fields = ("name", "slug")
    filter_horizontal = ("components", "needs", "sources")
    inlines = [ProtocolInline]
    fieldsets = (
        (None, {"fields": ("slug", "name", "kind", "components")}),
        ("Booking", {"fields": ("duration_minutes", "buffer_minutes", "needs", "consent_form")}),
        ("Care", {"fields": ("pre_care", "aftercare")}),
        PROVENANCE,
    )


@admin.register(TreatmentGroup)
class TreatmentGroupAdmin(CatalogAdmin):
    list_display = ("name", "slug", "history_condition")
    search_fields = ("name", "slug")
    filter_horizontal = ("members",)


@admin.register(Protocol)
class ProtocolAdmin(CatalogAdmin):
    list_display = (
        "treatment",
        "concern",
        "sessions_default",
        "interval_typical_days",
        "evidence",
        "weight",
        "sources_disagree",
        "active",
        "customized",
    )
    list_filter = ("concern", "treatment__kind", "evidence", "sources_disagree", "active", "customized")
    search_fields = ("treatment__name", "treatment__slug", "concern__name", "concern__slug", "note")
    list_select_related = ("treatment", "concern")
    autocomplete_fields = ("concern", "treatment")
    filter_horizontal = ("areas", "sources")
    inlines = [ProtocolDepthInline]
    fieldsets = (
        (None, {"fields": ("concern", "treatment", "areas")}),
        (
            "Series",
            {
                "fields": (
                    ("sessions_min", "sessions_default", "sessions_max"),
                    ("interval_min_days", "interval_typical_days", "interval_max_days"),
                    "maintenance",
                    "preparation_days",
                )
            },
        ),
        (
            "Suitability and ranking",
            {"fields": ("fitzpatrick", "preferred_fitzpatrick", "weight", "option_note")},
        ),
        (
            "Peel settings",
            {
                "fields": (
                    "peel_agent",
                    ("concentration_min_pct", "concentration_max_pct"),
                    "concentration_by_fitzpatrick",
                    ("coats_min", "coats_max"),
                )
            },
        ),
        PROVENANCE,
    )


@admin.register(ContraindicationRule)
class ContraindicationRuleAdmin(CatalogAdmin):
    list_display = (
        "condition",
        "target",
        "severity",
        "timing",
        "window_days",
        "until_resolved",
        "area_limited",
        "sources_disagree",
        "active",
        "customized",
    )
    list_filter = (
        "severity",
        "timing",
        "area_limited",
        "sources_disagree",
        "active",
        "customized",
        "condition",
    )
    search_fields = ("condition__name", "condition__slug", "treatment__slug", "group__slug", "text", "note")
    list_select_related = ("condition", "treatment", "group")
    autocomplete_fields = ("condition", "treatment", "group", "spread_to")
    filter_horizontal = ("sources",)
    fieldsets = (
        (None, {"fields": ("condition", ("treatment", "group"), "severity", "text")}),
        (
            "When and where",
            {"fields": ("timing", "window_days", "until_resolved", "area_limited", "spread_to")},
        ),
        (
            "Preparation",
            {
                "fields": (
                    "hold_days",
                    "hold_days_by_fitzpatrick",
                    ("lead_days", "lead_moves_start"),
                    "pre_care",
                )
            },
        ),
        ("Measured value", {"fields": ("value_below", "critical_below", "critical_text")}),
        ("Item note", {"fields": ("item_note",)}),
        PROVENANCE,
    )


@admin.register(PatientRule)
class PatientRuleAdmin(CatalogAdmin):
    list_display = ("target", "fact", "min_value", "max_value", "severity", "active", "customized")
    list_filter = ("fact", "severity", "active", "customized")
    search_fields = ("treatment__slug", "group__slug", "text")
    list_select_related = ("treatment", "group")
    filter_horizontal = ("sources",)
    fieldsets = (
        (None, {"fields": (("treatment", "group"), "fact", ("min_value", "max_value"), "severity", "text")}),
        PROVENANCE,
    )


@admin.register(ProcedureGap)
class ProcedureGapAdmin(CatalogAdmin):
    list_display = (
        "source_target",
        "next_target",
        "min_days",
        "recommended_days",
        "sources_disagree",
        "customized",
    )
    list_filter = ("sources_disagree", "active", "customized")
    search_fields = (
        "from_treatment__slug",
        "from_group__slug",
        "to_treatment__slug",
        "to_group__slug",
        "note",
    )
    list_select_related = ("from_treatment", "from_group", "to_treatment", "to_group")
    filter_horizontal = ("sources",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("from_treatment", "from_group"),
                    ("to_treatment", "to_group"),
                    "min_days",
                    "recommended_days",
                )
            },
        ),
        PROVENANCE,
    )


@admin.register(RecordField)
class RecordFieldAdmin(CatalogAdmin):
    list_display = (
        "label",
        "key",
        "target",
        "kind",
        "unit",
        "safe_min",
        "safe_max",
        "linked_to",
        "order",
        "active",
        "customized",
    )
    list_filter = ("kind", "linked_to", "treatment", "group", "active", "customized")
    search_fields = ("key", "label", "treatment__slug", "group__slug", "note")
    list_select_related = ("treatment", "group")
    filter_horizontal = ("sources",)
    fieldsets = (
        (None, {"fields": (("treatment", "group"), "key", "label", "kind", "unit", "order")}),
        (
            "What is accepted",
            {"fields": ("required", ("min_value", "max_value"), "max_length", "choices", "help_text")},
        ),
        ("Safe range", {"fields": (("safe_min", "safe_max"), "linked_to")}),
        PROVENANCE,
    )


STILL_BOOKED = "{resource} still has {count} {noun} ahead: {sessions}. Move or cancel them first."
SESSIONS_LISTED = 10


def _still_booked(resource):
    """Why `resource` cannot be deactivated yet (None: it can). Sessions by id, day, time and
    patient initials only: the admin is no place for clinical text."""
    ahead = list(sessions_ahead(resource=resource, now=timezone.now()))
    if not ahead:
        return None
    shown = []
    for session in ahead[:SESSIONS_LISTED]:
        when = timezone.localtime(session.starts_at)
        initials = f"{session.patient.first_name[:1]}.{session.patient.last_name[:1]}."
        shown.append(f"#{session.pk} {when:%a %d %b %Y %H:%M} ({initials})")
    if len(ahead) > SESSIONS_LISTED:
        shown.append(f"and {len(ahead) - SESSIONS_LISTED} more")
    noun = "session" if len(ahead) == 1 else "sessions"
    return STILL_BOOKED.format(resource=resource, count=len(ahead), noun=noun, sessions="; ".join(shown))


class DeactivationGuardForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "active" in self.changed_data and not cleaned.get("active"):
            problem = _still_booked(self.instance)
            if problem:
                self.add_error("active", problem)
        return cleaned


class SchedulingResourceAdmin(SimpleHistoryAdmin):
    """A room, device, practitioner or location is deactivated, in its form or in bulk, only once
    no session ahead holds it: deactivating it would strand those sessions."""

    form = DeactivationGuardForm
    actions = ["deactivate"]

    @admin.action(
        description="Deactivate the selected (refused while sessions ahead hold any)", permissions=["change"]
    )
    def deactivate(self, request, queryset):
        active = list(queryset.filter(active=True))
        refusals = [problem for resource in active if (problem := _still_booked(resource))]
        if refusals:
            for problem in refusals:
                self.message_user(request, problem, messages.ERROR)
            self.message_user(request, "Nothing was deactivated.", messages.ERROR)
            return
        for resource in active:
            resource.active = False
            resource.save(update_fields=["active"])  # one by one: each keeps its history
        self.message_user(request, f"{len(active)} deactivated.")


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Location)
class LocationAdmin(SchedulingResourceAdmin):
    list_display = ("name", "phone", "active")
    search_fields = ("name", "address")
    inlines = [OpeningHoursInline, ClosureInline]


@admin.register(Room)
class RoomAdmin(SchedulingResourceAdmin):
    list_display = ("name", "location", "kind", "active")
    list_filter = ("location", "kind", "active")
    search_fields = ("name",)
    list_select_related = ("location", "kind")


@admin.register(Device)
class DeviceAdmin(SchedulingResourceAdmin):
    list_display = ("name", "location", "kind", "serial_number", "active")
    list_filter = ("location", "kind", "active")
    search_fields = ("name", "serial_number")
    list_select_related = ("location", "kind")


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(SchedulingResourceAdmin):
    list_display = ("__str__", "active")
    list_filter = ("active",)
    search_fields = ("user__first_name", "user__last_name", "user__username")
    filter_horizontal = ("treatments",)
    readonly_fields = ("feed_token",)
    inlines = [WorkingHoursInline, TimeOffInline]
    list_select_related = ("user",)
    actions = [*SchedulingResourceAdmin.actions, "renew_feed_token"]

    @admin.action(description="Issue a new calendar feed address (the old one stops working)")
    def renew_feed_token(self, request, queryset):
        for practitioner in queryset:
            practitioner.feed_token = new_feed_token()
            practitioner.save(update_fields=["feed_token"])
        self.message_user(request, f"New feed addresses for {queryset.count()} practitioners.")

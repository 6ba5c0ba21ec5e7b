"""Where and with whom sessions happen, and the appointments themselves."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from patients.models import BodyArea, Patient
from treatments.engine import booking_rules
from treatments.engine.booking_rules import SessionStatus
from treatments.models.catalog import ResourceType, Treatment
from treatments.models.plans import Plan, PlannedSession


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Location(models.Model):
    name = models.CharField(max_length=120, unique=True)
    address = models.TextField(blank=True)
    phone = models.CharField(
        max_length=40,
        blank=True,
        help_text="Shown to patients in the portal, which asks them to call the clinic when it cannot help online.",
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class HoursMixin(models.Model):
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        abstract = True

    def clean(self):
        if self.starts is not None and self.ends is not None and self.starts >= self.ends:
            raise ValidationError({"ends": "The end must be after the start."})


class OpeningHours(HoursMixin):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")

    history = HistoricalRecords()

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="openinghours_ordered")
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class Closure(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(condition=Q(first_day__lte=models.F("last_day")), name="closure_ordered")
        ]

    def __str__(self):
        return f"Closed {self.first_day}-{self.last_day}"


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    kind = models.ForeignKey(
        ResourceType, on_delete=models.PROTECT, related_name="rooms", limit_choices_to={"kind": "room"}
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["location", "name"]
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="room_unique_name")]

    def __str__(self):
        return f"{self.name} ({self.location})"


class Device(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="devices")
    name = models.CharField(max_length=80)
    kind = models.ForeignKey(
        ResourceType, on_delete=models.PROTECT, related_name="devices", limit_choices_to={"kind": "device"}
    )
    serial_number = models.CharField(max_length=80, blank=True)
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["location", "name"]

    def __str__(self):
        return self.name


def new_feed_token():
    return secrets.token_urlsafe(24)


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practitioner"
    )
    treatments = models.ManyToManyField(Treatment, blank=True, related_name="practitioners")
    active = models.BooleanField(default=True)
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)

    history = HistoricalRecords()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class WorkingHours(HoursMixin):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="workinghours_ordered")
        ]

    def __str__(self):
        return f"{self.practitioner}: {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(models.Model):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="timeoff_ordered")
        ]

    def __str__(self):
        return f"{self.practitioner} off {self.starts_at:%Y-%m-%d}"


# Marked by mistake (checked in too early, a patient who came late after all): back to booked,
# but only while the session's day lasts; after it, attendance is settled.
UNDONE_ON_ITS_DAY: dict[str, str] = {SessionStatus.CHECKED_IN: "check-in", SessionStatus.NO_SHOW: "no-show"}
NO_SHOW_BEFORE_START = "A session can be marked a no-show only once it has started ({start:%a %b %d, %H:%M})."
UNDO_AFTER_ITS_DAY = "A {what} can be undone only on the session's day."

# The longest a session can hold a resource (Treatment caps duration and clean-up): overlap
# queries bound starts_at on both sides with it, so that the starts_at indexes do the work.
LONGEST_SESSION = timedelta(hours=12)


def overlapping(start: datetime, end: datetime, end_field: str = "blocked_until") -> Q:
    """Q for sessions (or device holds) whose [starts_at, end_field) overlaps [start, end)."""
    return Q(starts_at__lt=end, starts_at__gt=start - LONGEST_SESSION, **{f"{end_field}__gt": start})


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def active(self) -> "AppointmentQuerySet":
        """Sessions that hold their time: not cancelled, not a no-show."""
        return self.filter(status__in=sorted(Appointment.ACTIVE))

    def between(self, start: datetime, end: datetime) -> "AppointmentQuerySet":
        """Sessions starting in [start, end)."""
        return self.filter(starts_at__gte=start, starts_at__lt=end)

    def overlapping(self, start: datetime, blocked_until: datetime) -> "AppointmentQuerySet":
        """Sessions whose time, clean-up included, overlaps [start, blocked_until)."""
        return self.filter(overlapping(start, blocked_until))

    def with_calendar_joins(self) -> "AppointmentQuerySet":
        """What a calendar row or a patient's session list shows."""
        return self.select_related("patient", "treatment", "practitioner__user", "room")

    def with_panel_joins(self) -> "AppointmentQuerySet":
        """What a session's panel shows, on top of the calendar row."""
        return (
            self.with_calendar_joins()
            .select_related("location", "plan", "cancelled_by", "planned_session")
            .prefetch_related("areas", "devices")
        )


class Appointment(models.Model):
    """A booked treatment session. Its end includes the clean-up buffer, so bookings never touch it.

    Its lifecycle (the statuses, who may change one into another, the named sets of statuses) is
    plain data in treatments.engine.booking_rules, exposed here.
    """

    class Status(models.TextChoices):
        BOOKED = SessionStatus.BOOKED.value, "Booked"
        CHECKED_IN = SessionStatus.CHECKED_IN.value, "Checked in"
        IN_PROGRESS = SessionStatus.IN_PROGRESS.value, "In progress"
        COMPLETED = SessionStatus.COMPLETED.value, "Completed"
        CANCELLED = SessionStatus.CANCELLED.value, "Cancelled"
        NO_SHOW = SessionStatus.NO_SHOW.value, "No-show"

    ACTIVE = booking_rules.ACTIVE  # holds its practitioner, room, devices and patient
    MOVABLE = booking_rules.MOVABLE
    OPEN = booking_rules.OPEN  # its record can still be screened
    REMINDABLE = booking_rules.REMINDABLE
    RECORD_DRIVEN = booking_rules.RECORD_DRIVEN  # set only by the clinical record

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    areas = models.ManyToManyField(BodyArea, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    devices = models.ManyToManyField(Device, through="AppointmentDevice", blank=True, related_name="+")
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    planned_session = models.ForeignKey(
        PlannedSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="End of the treatment time.")
    blocked_until = models.DateTimeField(help_text="End of the treatment and its clean-up buffer.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    cancel_reason = models.TextField(blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    interval_override_reason = models.TextField(blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    # The reminder's delivery (treatments.services.reminders): a run claims it, then sends it; a
    # claim never marked sent (the run was killed) is taken again after REMINDER_LEASE_MINUTES.
    reminder_claimed_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_no_address_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a reminder was due and the patient had no e-mail address (not reminded). "
        "Once an address is added, a later run reminds them if the session is still ahead.",
    )
    history = HistoricalRecords()

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["starts_at"]),
            models.Index(fields=["practitioner", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["room", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")), name="appointment_ordered"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__lte=models.F("blocked_until")), name="appointment_buffer_after_end"
            ),
        ]

    def __str__(self):
        return f"{self.treatment} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def can_move(self) -> bool:
        return self.status in self.MOVABLE

    def transition_problem(
        self, wanted: str, *, is_clinician: bool, now: datetime | None = None
    ) -> str | None:
        """Why this session cannot become `wanted` (None: it can). Given `now`, also the rules of
        time: a no-show only once the session has started, an undo only while its day lasts."""
        problem = booking_rules.transition_problem(self.status, wanted, is_clinician=is_clinician)
        if problem is not None or now is None:
            return problem
        if wanted == SessionStatus.NO_SHOW and now < self.starts_at:
            return NO_SHOW_BEFORE_START.format(start=timezone.localtime(self.starts_at))
        undo = wanted == SessionStatus.BOOKED and self.status in UNDONE_ON_ITS_DAY
        if undo and timezone.localdate(now) > timezone.localdate(self.starts_at):
            return UNDO_AFTER_ITS_DAY.format(what=UNDONE_ON_ITS_DAY[self.status])
        return None


class DeviceHoldQuerySet(models.QuerySet["AppointmentDevice"]):
    def active(self) -> "DeviceHoldQuerySet":
        return self.filter(active=True)

    def overlapping(self, start: datetime, blocked_until: datetime) -> "DeviceHoldQuerySet":
        return self.filter(overlapping(start, blocked_until))


class AppointmentDevice(models.Model):
    """A device held by an appointment; the period and status are copied so PostgreSQL can exclude overlaps."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="device_holds")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="holds")
    starts_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    active = models.BooleanField(default=True)

    objects = DeviceHoldQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["device", "starts_at"])]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "device"], name="appointmentdevice_unique")
        ]

    def __str__(self):
        return f"{self.device} for {self.appointment_id}"

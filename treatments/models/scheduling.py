"""Where and with whom sessions happen, and the appointments themselves."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from patients.models import BodyArea, Patient
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
    active = models.BooleanField(default=True)

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

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class WorkingHours(HoursMixin):
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")

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

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="timeoff_ordered")
        ]

    def __str__(self):
        return f"{self.practitioner} off {self.starts_at:%Y-%m-%d}"


class Appointment(models.Model):
    """A booked treatment session. Its end includes the clean-up buffer, so bookings never touch it."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CHECKED_IN = "checked_in", "Checked in"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    ACTIVE = (Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED)

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
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

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


class AppointmentDevice(models.Model):
    """A device held by an appointment; the period and status are copied so PostgreSQL can exclude overlaps."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="device_holds")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="holds")
    starts_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["device", "starts_at"])]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "device"], name="appointmentdevice_unique")
        ]

    def __str__(self):
        return f"{self.device} for {self.appointment_id}"

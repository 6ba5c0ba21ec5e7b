"""The scheduling API: resources, free slots and sessions, for front desk and clinicians."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.access_log import note_patient_access
from clinic.api_permissions import IsClinicStaff
from clinic.disclosure import disclosed_refusal
from patients.models import BodyArea, Patient
from treatments.models import Appointment, Device, Practitioner, Room, Treatment
from treatments.selectors.availability import SlotFinder, day_bounds
from treatments.selectors.session_versions import session_version
from treatments.selectors.sessions import session_rows
from treatments.services import booking


class PatientSerializer(serializers.ModelSerializer):
    """What the front desk needs to find and book a patient: no clinical fields."""

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "email",
            "preferred_practitioner",
        ]


class PractitionerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    treatments = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Practitioner
        fields = ["id", "name", "treatments"]


class RoomSerializer(serializers.ModelSerializer):
    kind = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Room
        fields = ["id", "name", "location", "kind"]


class DeviceSerializer(serializers.ModelSerializer):
    kind = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "name", "location", "kind"]


class TreatmentSerializer(serializers.ModelSerializer):
    needs = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Treatment
        fields = ["id", "slug", "name", "kind", "duration_minutes", "buffer_minutes", "needs"]


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    practitioner = serializers.IntegerField()
    room = serializers.IntegerField(allow_null=True)
    devices = serializers.ListField(child=serializers.IntegerField())


class SessionSerializer(serializers.ModelSerializer):
    treatment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    areas = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    devices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    start = serializers.DateTimeField(source="starts_at")
    end = serializers.DateTimeField(source="ends_at")

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "treatment",
            "areas",
            "practitioner",
            "location",
            "room",
            "devices",
            "start",
            "end",
            "status",
            "plan",
        ]


class BookSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.filter(archived_at__isnull=True))
    treatment = serializers.SlugRelatedField(
        slug_field="slug", queryset=Treatment.objects.filter(active=True)
    )
    areas = serializers.SlugRelatedField(slug_field="slug", queryset=BodyArea.objects.all(), many=True)
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.select_related("user"))
    room = serializers.PrimaryKeyRelatedField(queryset=Room.objects.all(), required=False, allow_null=True)
    devices = serializers.PrimaryKeyRelatedField(queryset=Device.objects.all(), many=True, required=False)
    start = serializers.DateTimeField()
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class MoveSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.select_related("user"), required=False, allow_null=True
    )
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField()


CONFLICT = inline_serializer(
    "Conflict",
    {
        "detail": serializers.CharField(),
        "conflict": inline_serializer(
            "ConflictResource", {"resource": serializers.CharField(), "id": serializers.IntegerField()}
        ),
        "next_slots": SlotSerializer(many=True),
    },
)


ALREADY_BOOKED = inline_serializer(
    "AlreadyBooked", {"detail": serializers.CharField(), "session": SessionSerializer()}
)
BUSY = inline_serializer("CalendarBusy", {"detail": serializers.CharField()})
STALE = inline_serializer(
    "StaleSession",
    {
        "detail": serializers.CharField(),
        "changes": serializers.ListField(child=serializers.CharField()),
        "session": SessionSerializer(),
    },
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The ETag of GET /api/sessions/<id>/: refused with 412 if the session changed since.",
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    location=OpenApiParameter.HEADER,
    response=[200],
    description="The session's version: send it as If-Match with a move or a cancel.",
)


def _iso(moment):
    """A time as the serializers' DateTimeField writes it (local zone, ISO 8601, UTC as Z), without
    a field per value: a busy day's list has hundreds."""
    text = timezone.localtime(moment).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _slots(slots):
    return SlotSerializer(
        [
            {
                "start": timezone.localtime(s.start),
                "end": timezone.localtime(s.end),
                "practitioner": s.practitioner,
                "room": s.room,
                "devices": list(s.devices),
            }
            for s in slots
        ],
        many=True,
    ).data


def busy_response(busy):
    return Response({"detail": busy.detail}, status=status.HTTP_409_CONFLICT)


def already_booked_response(already):
    return Response(
        {"detail": already.detail, "session": SessionSerializer(already.session).data},
        status=status.HTTP_409_CONFLICT,
    )


def stale_response(stale):
    return _with_etag(
        Response(
            {
                "detail": stale.detail,
                "changes": stale.changes,
                "session": SessionSerializer(stale.session).data,
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
        ),
        stale.session,
    )


def _with_etag(response, appointment):
    response["ETag"] = f'"{session_version(appointment)}"'
    return response


def _if_match(request):
    """The version named by If-Match, or None: without it a write behaves as it always has."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    return header.removeprefix("W/").strip('"')


def conflict_response(conflict, *, treatment, practitioner, patient, exclude=None):
    slots = booking.next_slots(
        treatment, start=conflict.start, practitioner=practitioner, patient=patient, exclude=exclude
    )
    return Response(
        {
            "detail": conflict.detail,
            "conflict": {"resource": conflict.resource, "id": conflict.pk},
            "next_slots": _slots(slots),
        },
        status=status.HTTP_409_CONFLICT,
    )


class StaffList(generics.ListAPIView):
    permission_classes = [IsClinicStaff]
    pagination_class = None


class PatientList(StaffList):
    serializer_class = PatientSerializer
    pagination_class = generics.ListAPIView.pagination_class

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                str,
                description="Name, phone, email or birth date. It stands in the URL, and so in every "
                "access log on the way: prefer POST /api/patients/search/.",
            )
        ]
    )
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        note_patient_access(request, *(row["id"] for row in response.data["results"]))
        return response

    def search_text(self):
        return self.request.query_params.get("search", "")

    def get_queryset(self):
        patients = Patient.objects.active()
        query = self.search_text().strip()
        return (patients.search(query) if query else patients).order_by("last_name", "first_name", "id")


class PatientSearchQuery(serializers.Serializer):
    search = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Name, phone, email or birth date",
    )


PATIENT_PAGE = inline_serializer(
    "PatientSearchResults",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": PatientSerializer(many=True),
    },
)


class PatientSearch(PatientList):
    """The patient search with the text in the body, so that no name stands in a request line
    (an access log's, a proxy's). Paged like GET /api/patients/: ?limit=&offset= in the URL."""

    http_method_names = ["post", "options"]

    @extend_schema(
        request=PatientSearchQuery,
        parameters=[
            OpenApiParameter("limit", int, description="Number of results to return per page."),
            OpenApiParameter(
                "offset", int, description="The initial index from which to return the results."
            ),
        ],
        responses={200: PATIENT_PAGE},
        description="Find patients by name, phone, email or birth date, sent in the body. "
        "Prefer it to GET /api/patients/?search=, which puts the text in the URL.",
    )
    def post(self, request, *args, **kwargs):
        query = PatientSearchQuery(data=request.data)
        query.is_valid(raise_exception=True)
        self.posted_search = query.validated_data["search"]
        response = self.list(request, *args, **kwargs)
        note_patient_access(request, *(row["id"] for row in response.data["results"]))
        return response

    def search_text(self):
        return self.posted_search


class PractitionerList(StaffList):
    serializer_class = PractitionerSerializer
    queryset = Practitioner.objects.filter(active=True).select_related("user").prefetch_related("treatments")


class RoomList(StaffList):
    serializer_class = RoomSerializer
    queryset = Room.objects.filter(active=True).select_related("kind")


class DeviceList(StaffList):
    serializer_class = DeviceSerializer
    queryset = Device.objects.filter(active=True).select_related("kind")


class TreatmentList(StaffList):
    serializer_class = TreatmentSerializer
    queryset = Treatment.objects.filter(active=True).prefetch_related("needs")


class SlotQuery(serializers.Serializer):
    treatment = serializers.SlugRelatedField(
        slug_field="slug", queryset=Treatment.objects.filter(active=True)
    )
    # "from" is a Python keyword: the field is declared under its query-string name below.
    days = serializers.IntegerField(min_value=1, max_value=62, default=7)
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.all(), required=False)
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all(), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


SlotQuery._declared_fields["from"] = serializers.DateField(required=False)


class SlotList(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(parameters=[SlotQuery], responses=SlotSerializer(many=True))
    def get(self, request):
        query = SlotQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        first_day = data.get("from") or timezone.localdate()
        finder = SlotFinder(data["treatment"], patient=data.get("patient"))
        practitioner = data.get("practitioner")
        now = timezone.now()
        slots = finder.find(
            first_day,
            first_day + timedelta(days=data["days"] - 1),
            practitioner=practitioner.pk if practitioner else None,
            limit=data["limit"],
            not_before=now if first_day <= timezone.localdate() else None,
        )
        return Response(_slots(slots))


class SessionQuery(serializers.Serializer):
    date = serializers.DateField(required=False)
    practitioner = serializers.IntegerField(required=False)
    patient = serializers.IntegerField(required=False)


class Sessions(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(parameters=[SessionQuery], responses=SessionSerializer(many=True))
    def get(self, request):
        query = SessionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        sessions = Appointment.objects.all()
        if "date" in data:
            start, end = day_bounds(data["date"], data["date"])
            sessions = sessions.between(start, end)
        if "practitioner" in data:
            sessions = sessions.filter(practitioner_id=data["practitioner"])
        if "patient" in data:
            sessions = sessions.filter(patient_id=data["patient"])
        if not data:
            start, _ = day_bounds(timezone.localdate(), timezone.localdate())
            sessions = sessions.filter(starts_at__gte=start)
        rows = session_rows(sessions.order_by("starts_at", "id")[:500])
        for row in rows:
            row["start"], row["end"] = _iso(row["start"]), _iso(row["end"])
        note_patient_access(request, *{row["patient"] for row in rows})
        return Response(rows)

    @extend_schema(
        request=BookSerializer,
        responses={
            201: SessionSerializer,
            400: None,
            409: PolymorphicProxySerializer(
                component_name="BookingRefused",
                serializers=[CONFLICT, ALREADY_BOOKED, BUSY],
                resource_type_field_name=None,
            ),
        },
    )
    def post(self, request):
        form = BookSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        book = booking.BookingRequest(
            patient=data["patient"],
            treatment=data["treatment"],
            areas=data["areas"],
            practitioner=data["practitioner"],
            start=data["start"],
            room=data.get("room"),
            devices=data.get("devices") or [],
            override_reason=data["override_reason"],
        )
        try:
            appointment = booking.session_book(request=book, by=request.user)
        except ValidationError as error:
            return Response(_field_errors(error, request.user), status=status.HTTP_400_BAD_REQUEST)
        except booking.AlreadyBooked as already:
            return already_booked_response(already)
        except booking.CalendarBusy as busy:
            return busy_response(busy)
        except booking.Conflict as conflict:
            return conflict_response(
                conflict,
                treatment=data["treatment"],
                practitioner=data["practitioner"],
                patient=data["patient"],
            )
        return _with_etag(
            Response(SessionSerializer(appointment).data, status=status.HTTP_201_CREATED), appointment
        )


def _field_errors(error, user):
    error = disclosed_refusal(error, user)
    return error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}


class SessionDetail(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(parameters=[ETAG], responses={200: SessionSerializer})
    def get(self, request, pk):
        appointment = get_object_or_404(
            Appointment.objects.prefetch_related("areas", "devices").select_related("treatment"), pk=pk
        )
        note_patient_access(request, appointment.patient_id)
        return _with_etag(Response(SessionSerializer(appointment).data), appointment)


class SessionCancel(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(
        request=CancelSerializer,
        parameters=[IF_MATCH],
        responses={200: SessionSerializer, 400: None, 409: BUSY, 412: STALE},
    )
    def post(self, request, pk):
        appointment = get_object_or_404(Appointment, pk=pk)
        form = CancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = booking.session_cancel(
                appointment=appointment,
                reason=form.validated_data["reason"],
                by=request.user,
                expected_version=_if_match(request),
            )
        except ValidationError as error:
            return Response(_field_errors(error, request.user), status=status.HTTP_400_BAD_REQUEST)
        except booking.StaleSession as stale:
            return stale_response(stale)
        except booking.CalendarBusy as busy:
            return busy_response(busy)
        return _with_etag(Response(SessionSerializer(appointment).data), appointment)


class SessionMove(APIView):
    permission_classes = [IsClinicStaff]

    @extend_schema(
        request=MoveSerializer,
        parameters=[IF_MATCH],
        responses={200: SessionSerializer, 400: None, 409: CONFLICT, 412: STALE},
    )
    def post(self, request, pk):
        appointment = get_object_or_404(
            Appointment.objects.select_related("treatment", "practitioner"), pk=pk
        )
        form = MoveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            appointment = booking.session_move(
                appointment=appointment,
                start=data["start"],
                practitioner=data.get("practitioner"),
                override_reason=data["override_reason"],
                by=request.user,
                expected_version=_if_match(request),
            )
        except ValidationError as error:
            return Response(_field_errors(error, request.user), status=status.HTTP_400_BAD_REQUEST)
        except booking.StaleSession as stale:
            return stale_response(stale)
        except booking.CalendarBusy as busy:
            return busy_response(busy)
        except booking.Conflict as conflict:
            return conflict_response(
                conflict,
                treatment=appointment.treatment,
                practitioner=data.get("practitioner") or appointment.practitioner,
                patient=appointment.patient_id,
                exclude=appointment.pk,
            )
        return _with_etag(Response(SessionSerializer(appointment).data), appointment)

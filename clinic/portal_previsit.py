"""Portal pages: The pre-visit questions: a session's day-of screening answered on the phone before it. (docs/portal.md)

`/portal/sessions/<pk>/questions/` (`portal:previsit`) shows the catalog's screening questions of
one of the patient's booked sessions ahead in the patient's wording (stored with the questions,
treatments.services.previsit), grouped under short headings by the kind of condition they ask
about, a yes/no each, and "new medicines since your last visit"; the answers are judged as the
screening judges them (treatments.services.previsit), and the patient only ever reads a
thank-you: never whether the answers stop the session, nor why.
"""

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinic.access_log import note_patient_access
from patients.models import MedicalCondition
from patients.portal_views import current_account, patient_required
from treatments.models import Appointment, PreVisitCheck
from treatments.selectors.portal import day_label
from treatments.selectors.previsit import open_questions
from treatments.services.previsit import NEW_MEDICATIONS_MAX, previsit_answer, previsit_open

THANKS = "Thank you. If anything you answered means the session cannot go ahead, the clinic will call you."
ANSWER_THIS = "Please answer this question."
ANSWER_ALL = "Please answer every question: some are still open."
CLOSED_STARTED = "Your visit has started, so these questions are closed. Please tell the clinician if anything has changed."
CLOSED_NOT_BOOKED = (
    "The questions for this session are closed. If you have a question, please call the clinic."
)
ANSWERS = [("no", "No"), ("yes", "Yes")]
Kind = MedicalCondition.Kind
# The page's parts, in order, by the kind of condition a question asks about (the catalog's).
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("About your skin today", (Kind.SKIN,)),
    ("Recent treatments and events", (Kind.EVENT,)),
    ("Medicines and skin products", (Kind.MEDICATION,)),
    ("Allergies", (Kind.ALLERGY,)),
    ("Your health", (Kind.SYSTEMIC, Kind.TRAIT)),
]
OTHER_GROUP = "Other questions"


def when_label(moment: datetime) -> str:
    """e.g. "Tue 3 Mar at 10:00", in the clinic's time."""
    local = timezone.localtime(moment)
    return f"{day_label(local.date(), year=False)} at {local:%H:%M}"


def home_context(patient_id: int, now: datetime) -> dict[str, Any]:
    """What the portal's home page shows of this part, for templates/portal/_home_previsit.html:
    each booked session ahead whose questions are open (within PORTAL_PREVISIT_HOURS, or sent)."""
    return {
        "previsit_sessions": [
            {"pk": item.pk, "when": when_label(item.starts_at), "answered": item.answered_at is not None}
            for item in open_questions(patient_id, now=now)
        ]
    }


class PreVisitForm(forms.Form):
    """A yes/no per question (none chosen until the patient chooses), and the new medicines."""

    new_medications = forms.CharField(
        label="New medicines since your last visit",
        required=False,
        max_length=NEW_MEDICATIONS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Leave empty if none.",
    )

    def __init__(self, *args: Any, questions: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        medications = self.fields.pop("new_medications")
        for question in questions:
            self.fields[f"q_{question['condition']}"] = forms.ChoiceField(
                # Questions made before the patient's wording was stored have only the clinician's.
                label=question.get("patient_question") or question["question"],
                choices=ANSWERS,
                widget=forms.RadioSelect(attrs={"class": "form-check-input m-0 flex-shrink-0"}),
                error_messages={"required": ANSWER_THIS, "invalid_choice": ANSWER_THIS},
            )
        self.fields["new_medications"] = medications
        self.question_names = [f"q_{question['condition']}" for question in questions]

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(heading, the questions' fields) for each part that has questions, in GROUPS' order;
        within a part, the checklist's order."""
        heading_of = {kind: heading for heading, kinds in GROUPS for kind in kinds}
        parts: dict[str, list[forms.BoundField]] = {heading: [] for heading, _ in GROUPS}
        parts[OTHER_GROUP] = []
        for question in self.questions:
            heading = heading_of.get(question.get("kind", ""), OTHER_GROUP)
            parts[heading].append(self[f"q_{question['condition']}"])
        return [(heading, fields) for heading, fields in parts.items() if fields]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(name in self.errors for name in self.question_names):
            self.add_error(None, ANSWER_ALL)
        return cleaned

    def answers(self) -> dict[str, bool]:
        return {q["condition"]: self.cleaned_data[f"q_{q['condition']}"] == "yes" for q in self.questions}

    @staticmethod
    def initial_from(check: PreVisitCheck) -> dict[str, str]:
        if check.answered_at is None:
            return {}
        initial = {f"q_{slug}": "yes" if yes else "no" for slug, yes in check.answers.items()}
        return {**initial, "new_medications": check.new_medications}


def _closed(request: HttpRequest, session: Appointment) -> HttpResponse:
    # Past its start, checked in or under way: the visit has started. Cancelled or done: closed.
    problem = CLOSED_STARTED if session.status in Appointment.OPEN else CLOSED_NOT_BOOKED
    return render(
        request,
        "portal/previsit_closed.html",
        {"when": when_label(session.starts_at), "problem": problem},
        status=200 if request.method == "GET" else 400,
    )


@patient_required(others_get_404=True)
@require_http_methods(["GET", "POST"])
def portal_previsit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = current_account(request).patient
    # Another patient's session is as unknown as one that does not exist: 404, never 403.
    session = (
        Appointment.objects.select_related("treatment", "location")
        .filter(pk=pk, patient_id=patient.pk)
        .first()
    )
    if session is None:
        raise Http404
    if request.method == "GET":
        note_patient_access(request, patient.pk)
    now = timezone.now()
    if session.status != Appointment.Status.BOOKED or session.starts_at <= now:
        return _closed(request, session)
    check = previsit_open(session=session)
    form = PreVisitForm(
        request.POST or None, questions=check.questions, initial=PreVisitForm.initial_from(check)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                previsit_answer(
                    check=check,
                    answers=form.answers(),
                    new_medications=form.cleaned_data["new_medications"],
                    by=current_account(request).user,
                    now=now,
                )
            except ValidationError as refusal:
                if refusal.code == "closed":
                    return _closed(request, session)
                form.add_error(None, refusal)
            else:
                messages.success(request, THANKS)
                return redirect("portal:previsit", pk=session.pk)
        status = 400
    context = {
        "form": form,
        "groups": form.groups(),
        "when": when_label(session.starts_at),
        "location": session.location.name,
        # The questions' "area to be treated".
        "areas": [area.name for area in session.areas.all()],
        "answered_at": check.answered_at,
    }
    return render(request, "portal/previsit.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("sessions/<int:pk>/questions/", portal_previsit, name="previsit"),
]

import pytest
from django.urls import reverse

from tests import factories
from treatments.models import ContraindicationRule, Treatment
from treatments.services.catalog_seeding import seed_catalog

pytestmark = pytest.mark.django_db

CATALOG_MODELS = [
    "treatment",
    "treatmentgroup",
    "protocol",
    "contraindicationrule",
    "patientrule",
    "proceduregap",
    "recordfield",
    "source",
]


@pytest.mark.parametrize("model", CATALOG_MODELS)
def test_clinic_admin_opens_catalog_lists_and_forms(clinic_admin_client, model):
    assert clinic_admin_client.get(reverse(f"admin:treatments_{model}_changelist")).status_code == 200
    assert clinic_admin_client.get(reverse(f"admin:treatments_{model}_add")).status_code == 200


def test_clinic_admin_searches_and_filters_rules(clinic_admin_client):
    factories.ContraindicationRuleFactory(
        condition=factories.condition("keloid_tendency"),
        group=factories.group("microneedling_family"),
        severity="absolute",
        timing="ongoing",
        window_days=None,
        area_limited=False,
    )
    factories.ContraindicationRuleFactory()
    url = reverse("admin:treatments_contraindicationrule_changelist")
    response = clinic_admin_client.get(url, {"q": "keloid", "severity__exact": "absolute"})
    assert response.status_code == 200
    rules = list(response.context["cl"].result_list)
    assert rules
    assert all(r.condition.slug == "keloid_tendency" and r.severity == "absolute" for r in rules)


@pytest.mark.parametrize("make_user", [factories.clinician, factories.front_desk])
def test_catalog_admin_is_refused_to_other_roles(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("admin:treatments_protocol_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def _rule_form(rule, **changes):
    data = {
        "condition": rule.condition_id,
        "treatment": rule.treatment_id or "",
        "group": rule.group_id or "",
        "severity": rule.severity,
        "text": rule.text,
        "timing": rule.timing,
        "window_days": rule.window_days or "",
        "until_resolved": "on" if rule.until_resolved else "",
        "area_limited": "on" if rule.area_limited else "",
        "spread_to": rule.spread_to_id or "",
        "evidence": rule.evidence,
        "sources": [s.pk for s in rule.sources.all()],
        "sources_disagree": "on" if rule.sources_disagree else "",
        "note": rule.note,
        "active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_admin_edit_saves_keeps_history_and_survives_reseeding(clinic_admin_client):
    rule = factories.ContraindicationRuleFactory()
    url = reverse("admin:treatments_contraindicationrule_change", args=[rule.pk])
    response = clinic_admin_client.post(url, _rule_form(rule, window_days=28))
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert (rule.window_days, rule.customized) == (28, True)
    assert rule.history.count() >= 2
    seed_catalog()
    rule.refresh_from_db()
    assert rule.window_days == 28
    assert ContraindicationRule.objects.filter(pk=rule.pk).exists()


def test_admin_refuses_an_after_event_rule_without_window(clinic_admin_client):
    rule = factories.ContraindicationRuleFactory()
    url = reverse("admin:treatments_contraindicationrule_change", args=[rule.pk])
    response = clinic_admin_client.post(url, _rule_form(rule, window_days=""))
    assert response.status_code == 200
    assert "needs a waiting window" in response.content.decode()


def test_admin_refuses_sessions_out_of_order(clinic_admin_client):
    protocol = factories.ProtocolFactory()
    url = reverse("admin:treatments_protocol_change", args=[protocol.pk])
    page = clinic_admin_client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | dict)}
    data.update(
        {
            "concern": protocol.concern_id,
            "treatment": protocol.treatment_id,
            "areas": [a.pk for a in protocol.areas.all()],
            "fitzpatrick": "[1, 2, 3]",
            "preferred_fitzpatrick": "[]",
            "concentration_by_fitzpatrick": "{}",
            "sessions_min": 5,
            "sessions_default": 3,
            "sessions_max": 6,
            "depths-TOTAL_FORMS": 0,
            "depths-INITIAL_FORMS": 0,
        }
    )
    response = clinic_admin_client.post(url, data)
    assert response.status_code == 200
    assert "minimum ≤ default ≤ maximum" in response.content.decode()
    protocol.refresh_from_db()
    assert protocol.sessions_min != 5


def test_treatments_list_shows_every_seeded_treatment(clinic_admin_client):
    response = clinic_admin_client.get(reverse("admin:treatments_treatment_changelist"))
    assert response.context["cl"].result_count == Treatment.objects.count() >= 14

import re
from pathlib import Path

import pytest

from patients.models import BodyArea, MedicalCondition, SkinConcern
from treatments.models import ContraindicationRule, Protocol, RecordField, Treatment
from treatments.services.catalog_seeding import seed_catalog

pytestmark = pytest.mark.django_db
VOCABULARY = Path(__file__).resolve().parents[3] / "shared" / "domain" / "vocabulary.md"


def _vocabulary_slugs():
    if not VOCABULARY.exists():
        pytest.skip("shared/domain/vocabulary.md is not beside the repository")
    text = VOCABULARY.read_text()
    areas_block = text.split("## Body areas")[1].split("```")[1]
    areas = set(areas_block.split())
    concerns_line = text.split("## Skin concerns")[1].split("##")[0]
    concerns = set(re.findall(r"`(\w+)`", concerns_line.split("Severity")[0]))
    treatments = set(re.findall(r"^\| `(\w+)` \|", text.split("## Treatments")[1].split("##")[0], re.M))
    conditions = set(re.findall(r"^\| `(\w+)` \|", text.split("## Conditions")[1], re.M))
    return areas, concerns, treatments, conditions


def test_the_seeded_catalog_holds_every_vocabulary_slug():
    areas, concerns, treatments, conditions = _vocabulary_slugs()
    assert len(areas) == 22 and len(treatments) == 14
    assert areas <= set(BodyArea.objects.values_list("slug", flat=True))
    assert concerns <= set(SkinConcern.objects.values_list("slug", flat=True))
    assert treatments <= set(Treatment.objects.values_list("slug", flat=True))
    assert conditions <= set(MedicalCondition.objects.values_list("slug", flat=True))


def test_the_area_tree_matches_the_vocabulary():
    def parent(slug):
        return BodyArea.objects.get(slug=slug).parent.slug

    assert parent("cheek_left") == "cheeks"
    assert parent("cheeks") == "face"
    assert parent("glabella") == "forehead"
    assert parent("upper_lip") == "perioral"
    assert BodyArea.objects.get(slug="scalp").parent is None


def test_seeded_rows_carry_evidence_and_sources():
    assert not Protocol.objects.filter(evidence="").exists()
    assert not ContraindicationRule.objects.filter(sources=None).exists()
    assert ContraindicationRule.objects.filter(sources_disagree=True).exists()


def test_the_seed_holds_the_clinical_defaults():
    isotretinoin_wait = ContraindicationRule.objects.get(
        condition__slug="isotretinoin", group__slug="microneedling_family", timing="after_end"
    )
    assert (isotretinoin_wait.window_days, isotretinoin_wait.severity) == (180, "relative")
    keloid = ContraindicationRule.objects.get(
        condition__slug="keloid_tendency", group__slug="microneedling_family"
    )
    assert keloid.severity == "absolute" and keloid.sources_disagree
    assert not ContraindicationRule.objects.filter(
        condition__slug="active_acne", group__slug="superficial_peels"
    ).exists()
    cheek = Protocol.objects.get(concern__slug="acne_scars_atrophic", treatment__slug="mn").depths.get(
        area__slug="cheeks"
    )
    assert (float(cheek.min_mm), float(cheek.max_mm)) == (1.5, 2.0)
    assert not Protocol.objects.filter(
        concern__slug__in=["striae", "laxity", "androgenetic_alopecia"], treatment__kind="peel"
    ).exists()
    assert not Protocol.objects.filter(concern__slug="hair_loss_other").exists()


def test_seeding_again_changes_nothing():
    models = (Treatment, Protocol, ContraindicationRule, BodyArea, RecordField)
    counts = {model: model.objects.count() for model in models}
    seed_catalog()
    assert {model: model.objects.count() for model in counts} == counts


def test_seeding_keeps_rows_an_admin_edited_and_restores_the_others():
    edited = Treatment.objects.get(slug="mn")
    Treatment.objects.filter(pk=edited.pk).update(duration_minutes=99, customized=True)
    untouched = Treatment.objects.get(slug="peel_lactic")
    Treatment.objects.filter(pk=untouched.pk).update(duration_minutes=99)
    seed_catalog()
    assert Treatment.objects.get(slug="mn").duration_minutes == 99
    assert Treatment.objects.get(slug="peel_lactic").duration_minutes != 99


def test_seeded_record_fields_carry_evidence_sources_and_the_protocols_ranges():
    assert RecordField.objects.count() == 41
    assert not RecordField.objects.filter(evidence="").exists()
    assert not RecordField.objects.filter(sources=None).exists()
    depth = RecordField.objects.get(key="needle_depth_mm", group__slug="microneedling_family")
    assert (depth.linked_to, float(depth.min_value), float(depth.max_value)) == ("needle_depth_mm", 0.1, 3.0)
    assert not RecordField.objects.filter(safe_min__isnull=False).exists()
    assert not RecordField.objects.filter(safe_max__isnull=False).exists()


def test_seeding_keeps_a_record_field_an_admin_edited():
    RecordField.objects.filter(key="passes").update(safe_max=6, customized=True)
    RecordField.objects.filter(key="pain_score", treatment__slug="prp_face").update(label="Pain")
    seed_catalog()
    assert RecordField.objects.get(key="passes").safe_max == 6
    assert RecordField.objects.get(key="pain_score", treatment__slug="prp_face").label == "Pain (0-10)"

import uuid

from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from patients.models import BodyArea, ConsentForm, MedicalCondition, SkinConcern
from treatments.models import (
    CatalogRevision,
    ContraindicationRule,
    PatientRule,
    ProcedureGap,
    Protocol,
    ProtocolDepth,
    RecordField,
    Treatment,
    TreatmentGroup,
)

CATALOG_MODELS = (
    BodyArea,
    SkinConcern,
    MedicalCondition,
    ConsentForm,
    Treatment,
    TreatmentGroup,
    Protocol,
    ProtocolDepth,
    ContraindicationRule,
    PatientRule,
    ProcedureGap,
    RecordField,
)


def bump_catalog_revision(**kwargs):
    if kwargs.get("raw") or kwargs.get("action", "post_").startswith("pre_"):
        return
    updated = CatalogRevision.objects.filter(pk=1).update(
        number=F("number") + 1, stamp=uuid.uuid4(), changed_at=timezone.now()
    )
    if not updated:
        CatalogRevision.objects.get_or_create(pk=1)


def connect():
    for model in CATALOG_MODELS:
        uid = f"catalog_revision_{model._meta.label_lower}"
        post_save.connect(bump_catalog_revision, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(bump_catalog_revision, sender=model, dispatch_uid=f"{uid}_delete")
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                bump_catalog_revision, sender=field.remote_field.through, dispatch_uid=f"{uid}_{field.name}"
            )

from treatments.models.catalog import (
    RECORD_FIELDS,
    ContraindicationRule,
    PatientRule,
    ProcedureGap,
    Protocol,
    ProtocolDepth,
    ResourceType,
    Severity,
    Source,
    Treatment,
    TreatmentGroup,
)
from treatments.models.plans import CatalogRevision, Clearance, Plan, PlannedSession

__all__ = [
    "RECORD_FIELDS",
    "CatalogRevision",
    "Clearance",
    "ContraindicationRule",
    "PatientRule",
    "Plan",
    "PlannedSession",
    "ProcedureGap",
    "Protocol",
    "ProtocolDepth",
    "ResourceType",
    "Severity",
    "Source",
    "Treatment",
    "TreatmentGroup",
]

"""Key sets of ../shared/domain/plan-api.md, shared by the engine, command and API tests."""

OPTION_KEYS = {
    "treatment",
    "areas",
    "rank",
    "status",
    "earliest_start",
    "until_resolved",
    "sessions",
    "interval_days",
    "settings",
    "evidence",
    "flags",
    "pre_care",
    "aftercare",
}
ITEM_KEYS = {"concern", "areas", "options", "excluded", "notes"}
# Keys added since, backwards compatible (docs/plan-api.md).
OPTION_ADDED_KEYS = {"maintenance", "notes"}
ITEM_ADDED_KEYS = {"summary"}
VISIT_KEYS = {"number", "earliest", "latest", "procedures"}

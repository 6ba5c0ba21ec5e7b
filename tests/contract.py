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
VISIT_KEYS = {"number", "earliest", "latest", "procedures"}

"""Plan pages speak in labels, never slugs or enum names (issue 12)."""

from clinic.templatetags.clinic_tags import after_label, reason_label, severity_label, status_label


def test_statuses_read_as_words():
    assert status_label("needs_clearance") == "Needs clearance"
    assert status_label("ok") == "Ready"


def test_reason_codes_read_as_the_condition_or_what_the_rule_is_about():
    names = {"keloid_tendency": "Keloid tendency"}
    assert reason_label("keloid_tendency", names) == "Keloid tendency"
    assert reason_label("fitzpatrick", names) == "Skin type"
    assert reason_label("body_surface", names) == "Body surface"
    assert reason_label("unknown_slug", names) == "unknown slug"
    assert severity_label("precaution") == "Precaution"


def test_a_flag_text_that_repeats_its_label_is_shown_once():
    assert after_label("Pregnancy: defer until after delivery.", "Pregnancy") == "defer until after delivery."
    assert after_label("Defer until after delivery.", "Pregnancy") == "Defer until after delivery."

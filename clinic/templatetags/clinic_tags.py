from django import template
from django.template import engines
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def lookup(mapping, key):
    """`names|lookup:slug`, falling back to the key itself."""
    if isinstance(mapping, dict):
        return mapping.get(key, key)
    return key


@register.filter
def slug_names(slugs, mapping):
    return ", ".join(lookup(mapping, slug) for slug in slugs or [])


@register.filter
def severity_class(severity):
    return {"absolute": "danger", "relative": "warning", "precaution": "info"}.get(severity, "secondary")


@register.filter
def status_class(status):
    return {"ok": "success", "needs_clearance": "warning", "deferred": "secondary"}.get(status, "light")


STATUS_LABELS = {
    "ok": "Ready",
    "needs_clearance": "Needs clearance",
    "deferred": "Deferred",
    "excluded": "Not offered",
}
SEVERITY_LABELS = {"absolute": "Absolute", "relative": "Relative", "precaution": "Precaution"}
# Reason codes that are not condition slugs.
REASON_LABELS = {"fitzpatrick": "Skin type", "age": "Age", "area": "Area", "body_surface": "Body surface"}


@register.filter
def status_label(status):
    return STATUS_LABELS.get(str(status), str(status).replace("_", " ").capitalize())


@register.filter
def severity_label(severity):
    return SEVERITY_LABELS.get(str(severity), str(severity).capitalize())


@register.filter
def reason_label(code, conditions):
    """A reason's code as a clinician reads it: the condition's name, or what a rule is about."""
    if code in REASON_LABELS:
        return REASON_LABELS[code]
    return lookup(conditions, code).replace("_", " ")


@register.filter
def after_label(text, label):
    """A flag's text without the label it already starts with ("Pregnancy: defer …" under "Pregnancy")."""
    text, label = str(text), str(label)
    return text[len(label) :].lstrip(" :") if text.lower().startswith(label.lower() + ":") else text


@register.simple_tag
def jinja(name, **context):
    """`{% jinja "treatments/_rows.html" rows=rows %}`: a partial from templates/jinja2/, rendered by
    the Jinja2 engine (autoescaped) with just these variables."""
    return mark_safe(engines["jinja2"].get_template(name).render(context))  # noqa: S308 (Jinja2 escaped it)

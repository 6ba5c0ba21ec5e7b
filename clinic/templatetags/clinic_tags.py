from django import template

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

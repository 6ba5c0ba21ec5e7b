from simple_history.admin import SimpleHistoryAdmin


class CatalogAdmin(SimpleHistoryAdmin):
    """Admin for catalog rows: every save marks the row as edited, so re-seeding keeps it."""

    def save_model(self, request, obj, form, change):
        if hasattr(obj, "customized"):
            obj.customized = True
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed() and hasattr(form.instance, "customized") and not form.instance.customized:
            form.instance.customized = True
            form.instance.save(update_fields=["customized"])

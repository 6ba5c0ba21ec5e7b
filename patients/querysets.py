import re
from datetime import datetime

from django.db import models
from django.db.models import Q

DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")


def parse_search_date(text):
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def search_filter(query):
    """A Q matching patients by name, phone, e-mail or date of birth, from a search box's free text."""
    query = (query or "").strip()
    if not query:
        return Q()
    birth_date = parse_search_date(query)
    if birth_date:
        return Q(date_of_birth=birth_date)
    if "@" in query:
        return Q(email__icontains=query)
    if not re.search(r"[^\d\s()+.\-]", query):
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3:
            return Q(phone_digits__contains=digits)
    terms = Q()
    for token in query.split():
        terms &= Q(first_name__icontains=token) | Q(last_name__icontains=token)
    return terms


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def search(self, query):
        return self.filter(search_filter(query))

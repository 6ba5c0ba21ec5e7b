from django.urls import path

from treatments.web import consent_views, feeds, plan_views, record_views, schedule_views, waitlist_views

app_name = "treatments"

urlpatterns = [
    path("patients/<int:pk>/plan/", plan_views.plan_builder, name="plan_builder"),
    path("patients/<int:pk>/clearances/", plan_views.clearance_create, name="clearance_create"),
    path("plans/<int:plan_pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_pk>/close/", plan_views.plan_close, name="plan_close"),
    path("plans/<int:plan_pk>/book/", schedule_views.plan_book, name="plan_book"),
    path("plans/<int:plan_pk>/consent/", consent_views.plan_consent, name="plan_consent"),
    path(
        "plans/<int:plan_pk>/consent/signature.png",
        consent_views.plan_consent_signature,
        name="plan_consent_signature",
    ),
    path("schedule/", schedule_views.calendar_day, name="calendar_day"),
    path("schedule/week/", schedule_views.calendar_week, name="calendar_week"),
    path("schedule/book/", schedule_views.book_session, name="book_session"),
    path("sessions/<int:pk>/", schedule_views.session_detail, name="session"),
    path("sessions/<int:pk>/status/", schedule_views.session_status, name="session_status"),
    path("sessions/<int:pk>/cancel/", schedule_views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/move/", schedule_views.session_move, name="session_move"),
    path("my-day/", record_views.my_day, name="my_day"),
    path("sessions/<int:pk>/record/", record_views.session_record, name="session_record"),
    path("sessions/<int:pk>/record/screening/", record_views.record_screening, name="record_screening"),
    path("sessions/<int:pk>/record/procedure/", record_views.record_procedure, name="record_procedure"),
    path("sessions/<int:pk>/record/outcomes/", record_views.record_outcomes, name="record_outcomes"),
    path("sessions/<int:pk>/record/photos/", record_views.record_photo, name="record_photo"),
    path("sessions/<int:pk>/record/sign/", record_views.record_sign, name="record_sign"),
    path("sessions/<int:pk>/record/addenda/", record_views.record_addendum, name="record_addendum"),
    path("sessions/<int:pk>/aftercare/", record_views.aftercare_sheet, name="aftercare_sheet"),
    path("photos/<int:pk>/", record_views.photo, name="photo"),
    path("feeds/practitioners/<str:token>.ics", feeds.practitioner_feed, name="practitioner_feed"),
    path("waitlist/", waitlist_views.waitlist_list, name="waitlist"),
    path("waitlist/offers/", waitlist_views.waitlist_offers, name="waitlist_offers"),
    path("patients/<int:pk>/waitlist/", waitlist_views.waitlist_add, name="waitlist_add"),
    path("waitlist/<int:entry_pk>/remove/", waitlist_views.waitlist_remove, name="waitlist_remove"),
    path("waitlist/<int:entry_pk>/book/", waitlist_views.waitlist_book, name="waitlist_book"),
]

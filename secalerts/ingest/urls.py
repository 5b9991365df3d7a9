"""Event routes, under /api/: the collection (list and ingest) and one event."""

from django.urls import path

from secalerts.events.views import EventDetailView
from secalerts.ingest.views import EventsView

app_name = "events"

urlpatterns = [
    path("events/", EventsView.as_view(), name="list"),
    path("events/<uuid:pk>/", EventDetailView.as_view(), name="detail"),
]

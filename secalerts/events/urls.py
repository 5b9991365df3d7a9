"""Event routes, under /api/."""

from django.urls import path

from secalerts.events import views

app_name = "events"

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="list"),
    path("events/<uuid:pk>/", views.EventDetailView.as_view(), name="detail"),
]

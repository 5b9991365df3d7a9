"""Alert routes, under /api/."""

from django.urls import path

from secalerts.alerts import views

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="list"),
    path("alerts/stats/", views.AlertStatsView.as_view(), name="stats"),
    path("alerts/<id:pk>/", views.AlertDetailView.as_view(), name="detail"),
    path("alerts/<id:pk>/history/", views.AlertHistoryView.as_view(), name="history"),
]

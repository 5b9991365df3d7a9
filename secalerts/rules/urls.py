"""Rule routes, under /api/."""

from django.urls import path

from secalerts.rules import views

app_name = "rules"

urlpatterns = [
    path("rules/", views.RuleListView.as_view(), name="list"),
    path("rules/<id:pk>/", views.RuleDetailView.as_view(), name="detail"),
]

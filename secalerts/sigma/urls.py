"""Sigma routes, under /api/."""

from django.urls import path

from secalerts.sigma import views

app_name = "sigma"

urlpatterns = [
    path("rules/sigma/", views.SigmaImportView.as_view(), name="import"),
]

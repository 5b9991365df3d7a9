"""Console routes, at the site root."""

from django.urls import path

from secalerts.console import views

app_name = "console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("login/", views.login, name="login"),
    path("alerts/<id:pk>/", views.alert, name="alert"),
    path("overview/", views.overview, name="overview"),
    path("rules/", views.rules, name="rules"),
    path("keys/", views.keys, name="keys"),
]

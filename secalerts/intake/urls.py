"""Intake routes, under /api/."""

from django.urls import path

from secalerts.intake import views

app_name = "intake"

urlpatterns = [
    path("intake/syslog/", views.SyslogIntakeView.as_view(), name="syslog"),
    path("intake/ecs/", views.EcsIntakeView.as_view(), name="ecs"),
]

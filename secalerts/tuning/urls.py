"""Rule test, backtest, suppression and audit routes, under /api/."""

from django.urls import path

from secalerts.tuning import audit_views, views

app_name = "tuning"

urlpatterns = [
    path("rules/test/", views.RuleTestView.as_view(), name="rule-test"),
    path("rules/<id:pk>/backtest/", views.BacktestView.as_view(), name="backtest"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppressions"),
    path("suppressions/<id:pk>/", views.SuppressionDetailView.as_view(), name="suppression"),
    path("audit/", audit_views.AuditListView.as_view(), name="audit"),
]

"""Token and identity routes, under /api/."""

from django.urls import path

from secalerts.accounts import views

app_name = "accounts"

urlpatterns = [
    path("token/", views.TokenObtainView.as_view(), name="token"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("token/blacklist/", views.TokenBlacklistView.as_view(), name="token-blacklist"),
    path("me/", views.MeView.as_view(), name="me"),
    path("keys/", views.ApiKeyListView.as_view(), name="keys"),
    path("keys/<id:pk>/", views.ApiKeyDetailView.as_view(), name="key"),
]

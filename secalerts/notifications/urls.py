"""Notification routes, under /api/."""

from django.urls import path

from secalerts.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/channels/", views.ChannelListView.as_view(), name="channels"),
    path("notifications/channels/<id:pk>/", views.ChannelDetailView.as_view(), name="channel"),
    path(
        "notifications/channels/<id:pk>/test/", views.ChannelTestView.as_view(), name="channel-test"
    ),
    path("notifications/deliveries/", views.DeliveryListView.as_view(), name="deliveries"),
]

"""Events API: list and detail (ingestion is secalerts.ingest)."""

from django.shortcuts import get_object_or_404
from rest_framework import generics

from secalerts.accounts.permissions import HasAnyRole, ReadAnyRoleIngestWithKey
from secalerts.core.pagination import CheckedCursorPagination
from secalerts.events.filters import EventFilter
from secalerts.events.models import Event
from secalerts.events.serializers import EventSerializer
from secalerts.events.storage import stored


class EventPagination(CheckedCursorPagination):
    ordering = ("-timestamp", "-id")


class EventListView(generics.ListAPIView):
    permission_classes = (ReadAnyRoleIngestWithKey,)
    serializer_class = EventSerializer
    queryset = Event.objects.all()
    filterset_class = EventFilter
    pagination_class = EventPagination


class EventDetailView(generics.RetrieveAPIView):
    permission_classes = (HasAnyRole,)
    serializer_class = EventSerializer

    def get_object(self) -> Event:
        return get_object_or_404(stored([self.kwargs["pk"]]))

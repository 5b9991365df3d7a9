"""GET /healthz and /readyz: is the database answering, is the channel layer answering;
GET /livez: is this process answering at all."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from redis import Redis
from redis.exceptions import RedisError


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure at all means "not healthy"
        return False


def channel_layer_ok() -> bool:
    if not settings.REDIS_URL:
        return True  # the in-memory layer lives in this process
    try:
        client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except RedisError:
        return False


def readiness() -> tuple[int, dict[str, str]]:
    """(200 or 503, the body naming each check): what /healthz and /readyz answer."""
    checks = {"database": database_ok(), "channel_layer": channel_layer_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | {
        name: "ok" if ok else "unavailable" for name, ok in checks.items()
    }
    return 200 if healthy else 503, body


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status, body = readiness()
    return JsonResponse(body, status=status)


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Kubernetes' readiness probe: take traffic only while the parts it needs answer."""
    status, body = readiness()
    return JsonResponse(body, status=status)


@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    """Kubernetes' liveness probe: no database or Redis, so their outage restarts nothing."""
    return JsonResponse({"status": "ok"})

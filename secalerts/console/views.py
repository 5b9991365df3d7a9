"""The console's pages: HTML shells with no data in them. Each page's script signs in
through the API (JWT) and reads everything over the API and the alert stream, so the
pages themselves need no session and show nothing to a visitor who is not signed in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

# page name -> (template, <title>); the name also picks the page's script and nav entry.
PAGES: dict[str, tuple[str, str]] = {
    "login": ("console/login.html", "Sign in"),
    "queue": ("console/queue.html", "Alert queue"),
    "alert": ("console/alert.html", "Alert"),
    "overview": ("console/overview.html", "Overview"),
    "rules": ("console/rules.html", "Rules"),
    "keys": ("console/keys.html", "API keys"),
}


def _page(request: HttpRequest, name: str, **context: object) -> HttpResponse:
    template, title = PAGES[name]
    return render(request, template, {"page": name, "title": title, **context})


@require_safe
def login(request: HttpRequest) -> HttpResponse:
    return _page(request, "login")


@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    return _page(request, "queue")


@require_safe
def alert(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, "alert", alert_id=pk)


@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    return _page(request, "overview")


@require_safe
def rules(request: HttpRequest) -> HttpResponse:
    return _page(request, "rules")


@require_safe
def keys(request: HttpRequest) -> HttpResponse:
    return _page(request, "keys")

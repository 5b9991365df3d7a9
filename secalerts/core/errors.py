"""Domain errors raised by services; core.api maps them to HTTP once."""

# The bearer challenge of every 401 (RFC 6750), whichever path answers it.
CHALLENGE = 'Bearer realm="api"'


class DomainError(Exception):
    """A request that is well-formed but breaks a business rule."""

    status_code = 400
    code = "invalid"
    # The events of the refused request, where the error knows them (core.metrics).
    refused_events = 1

    def __init__(self, message: str, *, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"


class InvalidInput(DomainError):
    """A request body that is not what the endpoint takes (malformed, wrong shape, bad values)."""

    code = "invalid"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class IdConflict(InvalidInput):
    """Events whose id is taken by other content; detail keyed by item index."""

    code = "id_conflict"

"""OpenAPI post-processing: the error answers every operation can give, documented once."""

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "Invalid input: `detail`, and `errors` per field or item.",
    "401": "Missing, invalid or expired access token.",
    "403": "The user's role does not allow this.",
    "404": "No such object.",
    "405": "Method not allowed.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests; see Retry-After.",
    "503": "The database is unavailable; retry later.",
}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["400", "429", "503"]
            if operation.get("security") and {} not in operation["security"]:
                codes += ["401", "403"]
            if "{" in path:
                codes.append("404")
            if method in {"post", "put", "patch"}:
                codes += ["413", "415"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                if code not in responses or "content" not in responses[code]:
                    responses[code] = {
                        "description": DESCRIPTIONS[code],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
    return result

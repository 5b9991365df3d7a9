"""Bearer JWT authentication for the API."""

from rest_framework_simplejwt.authentication import JWTAuthentication


class BearerAuthentication(JWTAuthentication):
    """SimpleJWT access tokens in `Authorization: Bearer <token>`."""

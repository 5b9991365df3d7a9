"""OpenAPI description of our bearer authentication (drf-spectacular extension)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class BearerAuthenticationScheme(SimpleJWTScheme):
    target_class = "secalerts.accounts.authentication.BearerAuthentication"
    name = "jwtAuth"

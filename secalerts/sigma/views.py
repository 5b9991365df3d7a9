"""Sigma import API: Admin only; the work is services.import_sigma."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.accounts.permissions import IsAdminRole
from secalerts.core.errors import InvalidInput, UnsupportedMediaType
from secalerts.sigma import services

# JSON is YAML: a Sigma rule sent as a JSON object reads the same.
YAML_TYPES = (
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "application/json",
)
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")


class SigmaImportView(APIView):
    permission_classes = (IsAdminRole,)

    @extend_schema(
        summary="Import Sigma rules",
        description=(
            "`application/yaml`: one Sigma document or several (`---`) (or one as JSON, "
            "`application/json`); `application/zip`: "
            "a folder of them. Rules whose Sigma id is known are updated, others created; "
            "rules that cannot be evaluated faithfully are skipped with the reason."
        ),
        request={"application/yaml": str, "application/zip": bytes},
        responses={201: OpenApiResponse(description="{created, updated, skipped}")},
    )
    def post(self, request: Request) -> Response:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        try:
            if content_type in ZIP_TYPES:
                documents = list(services.documents_from_zip(request.body))
                result = services.import_sigma(documents)
            elif content_type in YAML_TYPES:
                text = request.body.decode("utf-8", errors="replace")
                result = services.import_sigma([("", text)], strict=True)
            else:
                raise UnsupportedMediaType(
                    "send application/yaml (Sigma documents) or application/zip (a folder)"
                )
        except services.InvalidSigma as error:
            raise InvalidInput(str(error)) from error
        return Response(result.as_json(), status=status.HTTP_201_CREATED)

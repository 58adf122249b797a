"""Application templates: list, get, instantiate ([list application templates], [instantiate]).

Names in brackets, like [list application templates], are public pages listed in docs/synchronization.md#sources.
"""

from .framework import GraphHttpError
from .framework import RouteTable
from .framework import json_response
from .odata import FilterSpec
from .odata import context_url
from .odata import matches
from .odata import parse_select
from .odata import parse_top
from .permissions import APPLICATION_TEMPLATES_READ
from .permissions import INSTANTIATE
from .seeding import create_application

ROUTES = RouteTable()

TEMPLATE_TYPE = "microsoft.graph.applicationTemplate"
TEMPLATE_PROPERTIES = (
    "id", "displayName", "description", "categories", "homePageUrl", "logoUrl", "publisher", "supportedProvisioningTypes",
    "supportedSingleSignOnModes", "endpoints", "deprecationDate", "isEntraIntegrated", "lastModifiedDateTime", "riskFactors", "riskScore",
)
# [list application templates]: filter only by displayName or categories.
TEMPLATE_FILTERS = FilterSpec("ApplicationTemplate", {"displayName": {"eq", "startswith", "contains"}, "categories": {"any"}})
INSTANTIATE_PARAMETERS = ("displayName", "serviceManagementReference")


def _template_or_404(request):
    template = request.store.application_templates.get(request.params["template_id"])
    if template is None:
        raise GraphHttpError(404, "Request_ResourceNotFound",
                             "Resource '%s' does not exist or one of its queried reference-property objects are not present." % request.params["template_id"])
    return template


@ROUTES.route("GET", "/applicationTemplates", permission=APPLICATION_TEMPLATES_READ)
def list_templates(request):
    query = request.query
    raw_filter = query.get("$filter")
    clauses = TEMPLATE_FILTERS.parse(raw_filter) if raw_filter else []
    selected = parse_select(query, TEMPLATE_PROPERTIES, TEMPLATE_TYPE)
    with request.store.lock:
        templates = [template for template in request.store.application_templates.values() if matches(template, clauses)]
    order = query.get("$orderby")
    if order:
        field, _separator, direction = order.strip().partition(" ")
        if field.lower() != "displayname" or direction.strip().lower() not in ("", "asc", "desc"):
            raise GraphHttpError(400, "Request_UnsupportedQuery", "Unsupported $orderby: '%s' (displayName asc|desc only)." % order)
        templates.sort(key=lambda item: (item.get("displayName") or "").casefold(), reverse=direction.strip().lower() == "desc")
    try:
        skip = int(query.get("$skip", "0") or 0)
    except ValueError:
        raise GraphHttpError(400, "BadRequest", "Invalid $skip value.") from None
    top = parse_top(query, default=len(templates) or 1)
    page = templates[skip:skip + top]
    body = {"@odata.context": context_url(request, "applicationTemplates", selected),
            "value": [{name: item.get(name) for name in selected} if selected else item for item in page]}
    if skip + top < len(templates):
        params = dict(query, **{"$skip": str(skip + top)})
        body["@odata.nextLink"] = "%s/applicationTemplates?%s" % (request.base_url, "&".join("%s=%s" % item for item in params.items()))
    return json_response(body)


@ROUTES.route("GET", "/applicationTemplates/{template_id}", permission=APPLICATION_TEMPLATES_READ)
def get_template(request):
    template = _template_or_404(request)
    body = {"@odata.context": context_url(request, "applicationTemplates") + "/$entity"}
    body.update(template)
    return json_response(body)


def _instantiate_body(request):
    body = request.json()
    if not isinstance(body, dict):
        raise GraphHttpError(400, "BadRequest", "The request body must be a JSON object with 'displayName'.")
    unknown = [key for key in body if key not in INSTANTIATE_PARAMETERS]
    if unknown:
        raise GraphHttpError(400, "BadRequest", "The parameter '%s' in the request payload is not a valid parameter for the operation "
                             "'instantiate'." % unknown[0])
    display_name = body.get("displayName")
    if not isinstance(display_name, str) or not display_name.strip():
        raise GraphHttpError(400, "BadRequest", "The 'displayName' parameter is required and must be a non-empty string.")
    reference = body.get("serviceManagementReference")
    if reference is not None and not isinstance(reference, str):
        raise GraphHttpError(400, "BadRequest", "'serviceManagementReference' must be a string.")
    return display_name, reference


@ROUTES.route("POST", "/applicationTemplates/{template_id}/instantiate", permission=INSTANTIATE)
def instantiate(request):
    """201 with {application, servicePrincipal} ([instantiate], v1.0 form)."""
    template = _template_or_404(request)
    display_name, reference = _instantiate_body(request)
    application, service_principal = create_application(request.emulator, template, display_name, service_management_reference=reference)
    failure = request.emulator.faults.take_instantiate_error()
    if failure is not None:
        # Fault: the objects exist, but the caller sees a server error (a retry must find them
        # rather than create a duplicate; [instantiate guide] on eventual consistency).
        code = "GatewayTimeout" if failure == 504 else "InternalServerError" if failure == 500 else "ServiceUnavailable"
        raise GraphHttpError(failure, code, "The operation timed out or failed after the application was created.")
    body = {"@odata.context": "%s/$metadata#microsoft.graph.applicationServicePrincipal" % request.base_url,
            "application": application, "servicePrincipal": service_principal}
    return json_response(body, status=201)

"""Synchronization templates: list and get (service principal and application), create and update
(application only) ([list templates], [template update]).

Names in brackets, like [list templates], are public pages listed in docs/synchronization.md#sources.
"""

from ..framework import GraphHttpError
from ..framework import json_response
from ..framework import no_content
from .bodies import checked_entity
from .bodies import required_property
from .schema import render_schema
from .schema import schema_from_body
from .state import find_root
from .state import find_template
from .state import odata_context
from .state import paged
from .template_catalog import METADATA_KEYS_BY_LOWER
from .template_catalog import TEMPLATE_SCHEMA_ID_SUFFIX
from .template_catalog import catalog
from .template_catalog import generic_template_entry


def _metadata_for_version(metadata, api_version):
    """synchronizationMetadata keys: PascalCase in v1.0, lower camel in beta [v1.0 and beta]."""
    if api_version != "beta":
        return metadata
    result = []
    for entry in metadata:
        key = entry.get("key") or ""
        if key.lower() in METADATA_KEYS_BY_LOWER:
            key = key[:1].lower() + key[1:]
        result.append({"key": key, "value": entry.get("value")})
    return result


def render_template(entry, api_version):
    body = dict(entry.template)
    body["metadata"] = _metadata_for_version(entry.template.get("metadata") or [], api_version)
    # "The template list includes the template's schema" [list templates].
    body["schema"] = render_schema(entry.template_id + TEMPLATE_SCHEMA_ID_SUFFIX, entry.schema.get("version"), entry.schema)
    return body


def list_templates(request):
    root = find_root(request)
    with request.store.lock:
        templates = [render_template(entry, request.api_version) for entry in root.state.templates.values()]
    return json_response(paged(request, templates, odata_context(request, root, "templates")))


def get_template(request):
    root = find_root(request)
    with request.store.lock:
        entry = find_template(root, request.params["template_id"])
        body = {"@odata.context": odata_context(request, root, "templates/$entity")}
        body.update(render_template(entry, request.api_version))
    return json_response(body)


def update_template(request):
    """PUT/PATCH on the application's template: "Missing properties will be erased" [template update]."""
    root = find_root(request)
    body = checked_entity(request, "synchronizationTemplate")
    template_id = request.params["template_id"]
    with request.store.lock:
        entry = find_template(root, template_id)
        template = {"id": template_id, "applicationId": body.get("applicationId"), "default": bool(body.get("default", False)),
                    "description": body.get("description"), "discoverable": bool(body.get("discoverable", False)),
                    "factoryTag": body.get("factoryTag"), "metadata": list(body.get("metadata") or [])}
        # Docs are silent on the schema navigation property in this body: we chose to replace the
        # schema only when one is sent.
        schema = schema_from_body(body["schema"]) if isinstance(body.get("schema"), dict) else None
        root.state.templates[template_id] = entry.replace(template=template, schema=schema)
    return no_content()


def create_template(request):
    """POST {app}/synchronization/templates ([template resource]: metadata only; an old beta example)."""
    root = find_root(request)
    body = checked_entity(request, "synchronizationTemplate")
    template_id = required_property(body, "id", "synchronization template")
    with request.store.lock:
        if template_id in root.state.templates:
            # Docs are silent: we chose 409 Conflict.
            raise GraphHttpError(409, "Conflict", "A synchronization template with id '%s' already exists." % template_id)
        factory_tag = body.get("factoryTag") or template_id
        # Docs are silent on the schema of a new template: the one sent, else the SCIM schema for a
        # CustomSCIM factory (the old beta example creates {"id": "SCIM-Test1", "factoryTag": "CustomSCIM"}), else empty.
        if isinstance(body.get("schema"), dict):
            schema = schema_from_body(body["schema"])
        else:
            schema = catalog().schemas["scim" if factory_tag.lower() == "customscim" else "empty"]
        application_id = body.get("applicationId") or root.service_principal.get("appId")
        entry = generic_template_entry(template_id, application_id, schema, factory_tag)
        template = dict(entry.template)
        template.update({key: body[key] for key in ("default", "description", "discoverable", "metadata") if key in body})
        entry = entry.replace(template=template)
        root.state.templates[template_id] = entry
        result = {"@odata.context": odata_context(request, root, "templates/$entity")}
        result.update(render_template(entry, request.api_version))
    return json_response(result, status=201)

"""Synchronization schemas of jobs and templates: GET, PUT (and PATCH), DELETE, and the schema's
functions, filterOperators, parseExpression and directories ([schema resource], [schema update]).

Names in brackets, like [schema resource], are public pages listed in docs/synchronization.md#sources.
"""

import json
import re
import uuid

from . import simulation
from ..framework import GraphHttpError
from ..framework import json_response
from ..framework import no_content
from .bodies import checked_action
from .bodies import checked_entity
from .expressions import ExpressionError
from .expressions import documented_functions
from .expressions import evaluate_expression
from .expressions import parse_expression
from .state import advance_job
from .state import find_job
from .state import find_root
from .state import find_template
from .state import not_found
from .state import odata_context
from .state import service
from .template_catalog import TEMPLATE_SCHEMA_ID_SUFFIX
from .template_catalog import catalog


def schema_from_body(body):
    # "PUT replaces the whole schema" [schema resource]: properties not sent are erased.
    return {"version": body.get("version"), "synchronizationRules": body.get("synchronizationRules") or [],
            "directories": body.get("directories") or []}


def render_schema(schema_id, version, schema, context_url=None):
    body = {"@odata.context": context_url} if context_url else {}
    body.update({"id": schema_id, "version": version, "synchronizationRules": schema.get("synchronizationRules") or [],
                 "directories": schema.get("directories") or []})
    return body


def _new_schema_version(now):
    """"updated automatically with every schema change" [schema resource]. Docs are silent on the form of a new
    version: we chose the Date/ActivityId form seen on directories ([msgraph-sdk-powershell#2643], [SCIM template notes])."""
    return "Date:%s, ActivityId:%s" % (simulation.format_time(now), uuid.uuid4())


def _schema_target(request):
    """(root, job or None, template id or None) for the schema routes."""
    root = find_root(request)
    if "job_id" in request.params:
        return root, find_job(root, request), None
    template_id = request.params["template_id"]
    find_template(root, template_id)
    return root, None, template_id


def get_schema(request):
    with request.store.lock:
        root, job, template_id = _schema_target(request)
        if job is not None:
            return json_response(render_schema(job.id, job.schema_version, job.current_schema(),
                                               odata_context(request, root, "jobs('%s')/schema/$entity" % job.id)))
        entry = root.state.templates[template_id]
        return json_response(render_schema(template_id + TEMPLATE_SCHEMA_ID_SUFFIX, entry.schema.get("version"), entry.schema,
                                           odata_context(request, root, "templates('%s')/schema/$entity" % template_id)))


def put_schema(request):
    if request.method == "PATCH" and service(request.store).settings.schema_patch == "reject":
        # What the service was observed to answer ([msgraph-sdk-python#820] and others, [observed errors]).
        raise GraphHttpError(404, "UnknownError", json.dumps({"Message": "No HTTP resource was found that matches the request URI "
                                                              "'https://syncfabric.windowsazure.com/api%s?api-version=2.0'." % request.path}))
    body = checked_entity(request, "synchronizationSchema")
    store = request.store
    with store.lock:
        root, job, template_id = _schema_target(request)
        now = request.clock.now()
        schema = schema_from_body(body)
        if job is not None:
            advance_job(store, root.state, job, now)
            job.schema = schema
            job.schema_version = _new_schema_version(now)
        else:
            schema["version"] = _new_schema_version(now)
            root.state.templates[template_id] = root.state.templates[template_id].replace(schema=schema)
    return no_content()


def delete_schema(request):
    """DELETE resets the schema to the template's default ([schema resource], [schema delete]); 204."""
    store = request.store
    with store.lock:
        root, job, template_id = _schema_target(request)
        now = request.clock.now()
        if job is not None:
            current = root.state.templates.get(job.template_id)
            if current is not None:
                job.entry = current
            job.schema = None
            job.schema_version = _new_schema_version(now)
        else:
            entry = root.state.templates[template_id]
            application_id = entry.template.get("applicationId")
            default = catalog().entry(template_id, application_id) if template_id in catalog().templates else None
            schema = default.schema if default is not None else catalog().schemas["empty"]
            root.state.templates[template_id] = entry.replace(schema=schema)
    return no_content()


def get_filter_operators(request):
    with request.store.lock:
        _schema_target(request)
    return json_response({"@odata.context": "%s/$metadata#Collection(microsoft.graph.filterOperatorSchema)" % request.base_url,
                          "value": catalog().filter_operators})


def get_functions(request):
    with request.store.lock:
        _schema_target(request)
    return json_response({"@odata.context": "%s/$metadata#Collection(microsoft.graph.attributeMappingFunctionSchema)" % request.base_url,
                          "value": documented_functions()})


def parse_expression_action(request):
    """schema/parseExpression ([parseExpression]; data/examples/schema-parseexpression.*.json)."""
    with request.store.lock:
        _schema_target(request)
    body = checked_action(request, "parseExpression", required=True)
    expression = body.get("expression")
    if not expression:
        raise GraphHttpError(400, "BadRequest", "The expression parameter is required.")
    try:
        parsed = parse_expression(expression)
    except ExpressionError as exc:
        # Docs are silent on a parse failure: we chose parsingSucceeded false with the reason in error.
        return json_response({"error": {"code": "ExpressionParsingError", "message": str(exc)}, "evaluationSucceeded": False,
                              "evaluationResult": None, "parsedExpression": None, "parsingSucceeded": False})
    test_object = body.get("testInputObject")
    result = {"error": None, "evaluationSucceeded": False, "evaluationResult": None, "parsedExpression": parsed, "parsingSucceeded": True}
    if isinstance(test_object, dict):
        properties = {item.get("key"): item.get("value") for item in test_object.get("properties") or []}
        try:
            result["evaluationResult"] = evaluate_expression(parsed, properties)
            result["evaluationSucceeded"] = True
        except (ExpressionError, ValueError, re.error) as exc:
            result["error"] = {"code": "ExpressionEvaluationError", "message": str(exc)}
    return json_response(result)


def _directories(request):
    root, job, template_id = _schema_target(request)
    schema = job.current_schema() if job is not None else root.state.templates[template_id].schema
    return schema.get("directories") or []


def list_directories(request):
    with request.store.lock:
        directories = _directories(request)
    return json_response({"@odata.context": "%s/$metadata#Collection(microsoft.graph.directoryDefinition)" % request.base_url, "value": directories})


def _directory(directories, directory_id):
    for directory in directories:
        if directory.get("id") == directory_id or directory.get("name") == directory_id:
            return directory
    raise not_found(directory_id)


def get_directory(request):
    with request.store.lock:
        directories = _directories(request)
        return json_response(_directory(directories, request.params["directory_id"]))


def discover_directory(request):
    """directories/{id}/discover (metadata only): the directory with a fresh discoveryDateTime.
    Docs are silent on discovery itself: we chose to return the known definition unchanged otherwise."""
    checked_action(request, "discover")
    with request.store.lock:
        directories = _directories(request)
        directory = dict(_directory(directories, request.params["directory_id"]))
    directory["discoveryDateTime"] = simulation.format_time(request.clock.now())
    return json_response(directory)

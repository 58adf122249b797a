"""Synchronization schemas of jobs and templates: GET, PUT (and PATCH), DELETE, and the schema's
functions, filterOperators, parseExpression and directories ([schema resource], [schema update]).

Names in brackets, like [schema resource], are public pages listed in docs/synchronization.md#sources.
"""

import json
import uuid

from . import simulation
from .. import expressions
from .. import schema_validation
from ..framework import GraphHttpError
from ..framework import json_response
from ..framework import no_content
from .bodies import checked_action
from .bodies import checked_entity
from .state import advance_job
from .state import cycle_environment
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


def _patch_not_found(request):
    """PATCH on a schema: the service answers 404 with syncfabric's routing message; the SDKs generate
    PATCH from the metadata (https://github.com/microsoftgraph/msgraph-sdk-python/issues/820,
    https://github.com/microsoftgraph/msgraph-metadata/issues/676,
    https://github.com/microsoftgraph/msgraph-sdk-powershell/issues/1134)."""
    return GraphHttpError(404, "UnknownError", json.dumps({"Message": "No HTTP resource was found that matches the request URI "
                                                           "'https://syncfabric.windowsazure.com/api%s?api-version=2.0'." % request.path}))


def _check_meaning(body):
    """400 naming every problem beyond the shape (schema_validation.py); docs are silent on the error's
    code and wording: we chose BadRequest, the first problem as the message, all of them as details."""
    problems = schema_validation.schema_problems(body)
    if problems:
        raise GraphHttpError(400, "BadRequest", problems[0].message, details=[problem.to_detail() for problem in problems])


def _schema_changed(store, root, job, now):
    """Any change of a job's schema restarts its simulated service (simulation.JobRuntime.schema_changed)."""
    job.schema_version = _new_schema_version(now)
    job.runtime.schema_changed(now, cycle_environment(store, root.state, job))


def put_schema(request):
    if request.method == "PATCH" and service(request.store).settings.schema_patch != "accept":
        raise _patch_not_found(request)
    body = checked_entity(request, "synchronizationSchema")
    _check_meaning(body)
    store = request.store
    with store.lock:
        root, job, template_id = _schema_target(request)
        now = request.clock.now()
        schema = schema_from_body(body)
        if job is not None:
            advance_job(store, root.state, job, now)
            job.schema = schema
            _schema_changed(store, root, job, now)
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
            advance_job(store, root.state, job, now)
            current = root.state.templates.get(job.template_id)
            if current is not None:
                job.entry = current
            job.schema = None
            _schema_changed(store, root, job, now)
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
                          "value": expressions.GRAPH_FUNCTIONS})


def parse_expression_action(request):
    """schema/parseExpression ([parseExpression]; data/examples/schema-parseexpression.*.json): parsed and
    evaluated by expressions.py; the clock is the emulator's (Now())."""
    with request.store.lock:
        _schema_target(request)
    body = checked_action(request, "parseExpression", required=True)
    expression = body.get("expression")
    if not expression:
        raise GraphHttpError(400, "BadRequest", "The expression parameter is required.")
    context = expressions.EvaluationContext(now=request.clock.now)
    return json_response(expressions.parse_expression_response(expression, body.get("testInputObject"), context))


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

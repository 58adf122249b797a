"""Synchronization jobs: list, count, get, create, delete, and the job as Graph prints it.

Names in brackets, like [job resource], are public pages listed in docs/synchronization.md#sources.
"""

import uuid

from ..framework import GraphHttpError
from ..framework import Response
from ..framework import json_response
from ..framework import no_content
from .bodies import checked_entity
from .bodies import required_property
from .state import SynchronizationJob
from .state import advance_job
from .state import find_job
from .state import find_root
from .state import odata_context
from .state import paged


def render_job(store, state, job, now):
    """The synchronizationJob as Graph prints it (job-post.response.json key order)."""
    advance_job(store, state, job, now)
    runtime = job.runtime
    entry = job.entry
    return {
        "id": job.id,
        "templateId": job.template_id,
        "schedule": {"expiration": None, "interval": runtime.interval(entry.created_interval, entry.running_interval),
                     "state": runtime.schedule_state},
        "status": runtime.render_status(now, bool(state.secrets), entry.created_status_code),
        "synchronizationJobSettings": job.settings,
    }


def list_jobs(request):
    root = find_root(request)
    store = request.store
    now = request.clock.now()
    with store.lock:
        jobs = [render_job(store, root.state, job, now) for job in root.state.jobs.values() if not store.is_replicating(job.id)]
    return json_response(paged(request, jobs, odata_context(request, root, "jobs")))


def count_jobs(request):
    root = find_root(request)
    with request.store.lock:
        count = sum(1 for job in root.state.jobs.values() if not request.store.is_replicating(job.id))
    return Response(200, str(count), {"Content-Type": "text/plain"})


def get_job(request):
    root = find_root(request)
    store = request.store
    with store.lock:
        job = find_job(root, request)
        body = {"@odata.context": odata_context(request, root, "jobs/$entity")}
        body.update(render_job(store, root.state, job, request.clock.now()))
    return json_response(body)


def new_job_id(template_id):
    """``<templateId>.<32 hex>`` ([job resource], [our choice]; jobs-list.response.overview.json)."""
    return "%s.%s" % (template_id, uuid.uuid4().hex)


def create_job_in_state(store, state, template_id, settings=None):
    """Create a job on ``template_id`` (which must be one of the SP's templates); returns it."""
    entry = state.templates[template_id]
    # [Asterius evidence]: {"templateId": "customappsso"} creates a job whose templateId is customappssoOutDelta.
    job_template_id = entry.job_template_id or template_id
    job_entry = state.templates.get(job_template_id, entry)
    job_settings = [dict(item) for item in job_entry.job_settings]
    for item in settings or []:
        # Docs are silent on settings sent at creation: we chose to let them override the inherited ones.
        job_settings = [existing for existing in job_settings if existing["name"] != item.get("name")]
        job_settings.append({"name": item.get("name"), "value": item.get("value")})
    job = SynchronizationJob(new_job_id(job_template_id), job_template_id, job_entry, job_settings)
    state.jobs[job.id] = job
    store.mark_created(job.id)
    return job


def create_job(request):
    root = find_root(request)
    body = checked_entity(request, "synchronizationJob")
    template_id = required_property(body, "templateId", "synchronization job")
    store = request.store
    with store.lock:
        if template_id not in root.state.templates:
            # Docs are silent on the error [our choice]: we chose 400 invalidRequest, naming the templates.
            available = ", ".join(sorted(root.state.templates)) or "none"
            raise GraphHttpError(400, "invalidRequest", "The templateId '%s' does not match any synchronization template of this application. "
                                 "Available templates: %s." % (template_id, available))
        job = create_job_in_state(store, root.state, template_id, body.get("synchronizationJobSettings"))
        result = {"@odata.context": odata_context(request, root, "jobs/$entity")}
        result.update(render_job(store, root.state, job, request.clock.now()))
    # 201 Created ([create job]).
    return json_response(result, status=201)


def delete_job(request):
    root = find_root(request)
    store = request.store
    with store.lock:
        job = find_job(root, request)
        # "Synchronized accounts are left as-is" and secrets stay on the SP ([job resource], [Terraform]).
        del root.state.jobs[job.id]
        store.created_at.pop(job.id, None)
    return no_content()

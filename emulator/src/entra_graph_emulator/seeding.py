"""Seed data: the application template catalog and bulk service principals.

The catalog comes from the documented examples copied into data/ (see data/README.md).
The non-gallery template ``8adf8e6e-…`` has no public list item (its id is documented by [instantiate, beta]
in docs/synchronization.md#sources): docs are silent, we chose the item below.

Names in brackets, like [instantiate, beta], are public pages listed in docs/synchronization.md#sources.
"""

import json
import logging
import os
import random
import uuid

from .clock import isoformat
from .objects import DATA_DIR
from .objects import NON_GALLERY_TEMPLATE_ID
from .objects import new_application_pair
from .store import SEEDED_LONG_AGO

LOGGER = logging.getLogger("graph_emulator")

TEMPLATE_FILES = (
    "applicationtemplates-list.realistic.json",
    "applicationtemplates-list.response.json",
    "applicationtemplates-list.response.aws.json",
    "applicationtemplates-list.response.aws-sso.json",
    "applicationtemplates-list.response.salesforce.json",
)

# Docs are silent on this item's properties: we chose them (only the id is documented,
# [instantiate, beta]).
NON_GALLERY_TEMPLATE = {
    "id": NON_GALLERY_TEMPLATE_ID,
    "displayName": "Custom",
    "homePageUrl": None,
    "supportedSingleSignOnModes": ["password", "saml", "external", "notSupported"],
    "supportedProvisioningTypes": ["sync"],
    "logoUrl": None,
    "categories": [],
    "publisher": "Microsoft Corporation",
    "description": "Non-gallery application: integrate any application that is not in the gallery.",
}

# Job states seed_job understands (synchronization/simulation.py implements them).
JOB_STATES = ("not_configured", "paused_with_credentials", "active", "not_run", "paused", "quarantine", "failing")


def load_application_templates(store):
    """Fill ``store.application_templates`` from data/ (first file wins on duplicate ids)."""
    templates = {}
    for name in TEMPLATE_FILES:
        with open(os.path.join(DATA_DIR, name), encoding="utf-8") as handle:
            for item in json.load(handle)["value"]:
                templates.setdefault(item["id"], item)
    templates.setdefault(NON_GALLERY_TEMPLATE_ID, dict(NON_GALLERY_TEMPLATE))
    with store.lock:
        store.application_templates.clear()
        store.application_templates.update(templates)
    return templates


def _random_uuid(rng):
    """A version-4 UUID string from ``rng`` (formatted by hand: uuid.UUID is slow for 100,000 ids)."""
    digits = "%032x" % rng.getrandbits(128)
    return "%s-%s-4%s-%s%s-%s" % (digits[:8], digits[8:12], digits[13:16], "89ab"[int(digits[16], 16) & 3], digits[17:20], digits[20:])


def new_ids(rng=None):
    """Fresh ids for an application/servicePrincipal pair."""
    if rng is None:
        return {name: str(uuid.uuid4()) for name in ("application_id", "app_id", "service_principal_id", "scope_id", "role_id")}
    return {name: _random_uuid(rng) for name in ("application_id", "app_id", "service_principal_id", "scope_id", "role_id")}


def create_application(emulator, template, display_name, created=None, rng=None, service_management_reference=None, created_iso=None):
    """Create an application and its service principal in the store; call the sync hook.

    Returns (application, servicePrincipal). ``created`` defaults to now (so new objects
    replicate, [instantiate guide]); seeding passes a time long ago.
    """
    store = emulator.store
    when = created or store.clock.now()
    created_iso = created_iso or isoformat(when).replace(".000Z", "Z")
    application, service_principal = new_application_pair(template, display_name, new_ids(rng), store.tenant_id, created_iso,
                                                          service_management_reference)
    hook = emulator.hook("on_service_principal_created")
    with store.lock:
        store.add_application(application, created=when)
        store.add_service_principal(service_principal, created=when)
        if hook is not None:
            hook(store, service_principal, template)
    return application, service_principal


def seed_service_principals(emulator, count, with_jobs=0, seed=None, job_template_id=None, display_name_prefix=None,
                            application_template_id=None, return_ids=False):
    """Create ``count`` apps + service principals, ``with_jobs`` of them with a job.

    Jobs cycle through every state in JOB_STATES (``seed_job(store, sp_id, template_id, state)``;
    ``template_id`` is ``job_template_id`` or None for "the service principal's default template").
    Ids are deterministic for a given ``seed`` and store size.
    """
    if count < 0 or with_jobs < 0:
        raise ValueError("counts must be >= 0")
    if with_jobs > count:
        raise ValueError("with_jobs (%d) cannot exceed service_principals (%d)" % (with_jobs, count))
    store = emulator.store
    if not store.application_templates:
        load_application_templates(store)
    if application_template_id:
        template = store.application_templates.get(application_template_id)
        if template is None:
            raise ValueError("unknown application template %s" % application_template_id)
        templates = [template]
    else:
        templates = [template for template in store.application_templates.values() if "sync" in (template.get("supportedProvisioningTypes") or [])]
    seed_job = emulator.hook("seed_job")
    if with_jobs and seed_job is None:
        LOGGER.warning("synchronization.seed_job is not available: seeding %d service principals without jobs", count)
    created = store.clock.now() - SEEDED_LONG_AGO
    created_iso = isoformat(created)
    ids = []
    jobs = {state: 0 for state in JOB_STATES}
    with store.lock:
        offset = len(store.service_principals)
        rng = random.Random("%s:%d" % (seed if seed is not None else uuid.uuid4().hex, offset))
        for index in range(count):
            template = templates[index % len(templates)]
            name = "%s %05d" % (display_name_prefix or template["displayName"], offset + index + 1)
            service_principal = create_application(emulator, template, name, created=created, rng=rng, created_iso=created_iso)[1]
            ids.append(service_principal["id"])
        if seed_job is not None:
            for index in range(with_jobs):
                state = JOB_STATES[index % len(JOB_STATES)]
                seed_job(store, ids[index], job_template_id, state)
                jobs[state] += 1
    result = {"service_principals": count, "with_jobs": with_jobs if seed_job else 0, "jobs_by_state": jobs,
              "total_service_principals": len(store.service_principals)}
    if return_ids:
        result["ids"] = ids
    return result

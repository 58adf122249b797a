"""The template catalog: synchronization templates and their schemas, loaded once from the data folder.

Which synchronization templates an application template provides (data/templates.json), the
schemas jobs inherit (built from data/schemas.compact.json or the documented examples), and the
filter operators. Entries are shared and never changed in place.

Names in brackets, like [template resource], are public pages listed in docs/synchronization.md#sources.
"""

import json
import re
import threading
import uuid

from .. import expressions
from . import simulation
from .credentials import ALWAYS_MASKED_SECRET_KEYS
from .credentials import SECRET_KEYS
from .datafiles import load_json

_SECRET_KEYS_BY_LOWER = {key.lower(): key for key in SECRET_KEYS}


# synchronizationMetadata members [template resource]: v1.0 spells them PascalCase, beta lower-camel [v1.0 and beta].
SYNCHRONIZATION_METADATA_KEYS = (
    "GalleryApplicationIdentifier", "GalleryApplicationKey", "IsOAuthEnabled", "IsSynchronizationAgentAssignmentRequired",
    "IsSynchronizationAgentRequired", "IsSynchronizationInPreview", "OAuthSettings", "SynchronizationLearnMoreIbizaFwLink",
    "ConfigurationFields",
)
METADATA_KEYS_BY_LOWER = {key.lower(): key for key in SYNCHRONIZATION_METADATA_KEYS}

# A template's schema id (templates-list.response.aws-sso.json: "aWSSingleSignon.000…").
TEMPLATE_SCHEMA_ID_SUFFIX = "." + "0" * 32


class TemplateEntry:
    """One synchronization template as a service principal holds it, with what jobs inherit.

    Entries are shared by every service principal instantiated from the same application template
    and never changed in place (template and schema updates replace the entry), so 2,000 seeded
    jobs cost one schema in memory.
    """

    __slots__ = ("template", "schema", "credential_kind", "created_interval", "running_interval", "created_status_code",
                 "job_settings", "job_template_id", "masked_keys")

    def __init__(self, template, schema, credential_kind="scim", created_interval=simulation.TIMESPAN_MAX_VALUE,
                 running_interval="PT40M", created_status_code="NotConfigured", job_settings=None, job_template_id=None):
        self.template = template
        self.schema = schema
        self.credential_kind = credential_kind
        self.created_interval = created_interval
        self.running_interval = running_interval
        self.created_status_code = created_status_code
        self.job_settings = job_settings if job_settings is not None else _settings_from_metadata(template.get("metadata") or [])
        self.job_template_id = job_template_id
        self.masked_keys = ALWAYS_MASKED_SECRET_KEYS | _configuration_secret_keys(template.get("metadata") or [])

    @property
    def template_id(self):
        return self.template["id"]

    def replace(self, template=None, schema=None):
        """A copy with a new template body and/or schema (template update, schema PUT on the application)."""
        return TemplateEntry(template if template is not None else self.template, schema if schema is not None else self.schema,
                             self.credential_kind, self.created_interval, self.running_interval, self.created_status_code,
                             None if template is not None else self.job_settings, self.job_template_id)


def _settings_from_metadata(metadata):
    """Job settings "inherited from the template" [job resource]: its metadata entries that are not
    synchronizationMetadata members (aWSSingleSignon shows AzureIngestionAttributeOptimization in both)."""
    settings = []
    seen = set()
    for entry in metadata:
        key = entry.get("key")
        if key and key.lower() not in METADATA_KEYS_BY_LOWER and key not in seen:
            seen.add(key)
            settings.append({"name": key, "value": entry.get("value")})
    return settings


def _configuration_secret_keys(metadata):
    """Secret keys flagged ``"secret": true`` in the ConfigurationFields metadata [secret masking]."""
    keys = set()
    for entry in metadata:
        if (entry.get("key") or "").lower() != "configurationfields":
            continue
        try:
            fields = json.loads(entry.get("value") or "[]")
        except ValueError:
            continue
        for field in fields if isinstance(fields, list) else []:
            if isinstance(field, dict) and field.get("secret") and str(field.get("name", "")).lower() in _SECRET_KEYS_BY_LOWER:
                keys.add(_SECRET_KEYS_BY_LOWER[str(field["name"]).lower()])
    return frozenset(keys)


class _Catalog:
    """data/ loaded once: templates, their schemas, schema functions and filter operators."""

    def __init__(self):
        data = load_json("templates.json")
        self.templates = data["synchronizationTemplates"]
        self.by_application_template = data["applicationTemplates"]
        self.by_display_name = data["applicationTemplatesByDisplayName"]
        self.filter_operators = load_json("schema-filteroperators.json")["value"]
        compact = load_json("schemas.compact.json")
        salesforce = load_json("schema-full.salesforce.json")
        aws_sso = load_json("schema.awssinglesignon.json")
        self.schemas = {
            "scim": build_schema(compact["scim"]),
            "azure2azure": build_schema(compact["azure2azure"]),
            "salesforce": {"version": salesforce.get("version"), "synchronizationRules": salesforce["synchronizationRules"],
                           "directories": salesforce["directories"]},
            "awssinglesignon": {"version": aws_sso.get("version"), "synchronizationRules": aws_sso["synchronizationRules"],
                                "directories": aws_sso.get("directories") or _scim_directories_for(aws_sso, compact["scim"])},
            # The docs print these templates' schemas as {"directories": [], "synchronizationRules": []}.
            "empty": {"version": None, "synchronizationRules": [], "directories": []},
        }
        self._entries = {}
        self._lock = threading.Lock()

    def entry(self, sync_template_id, application_id):
        """The TemplateEntry for a catalog template, shared per (template, application template)."""
        key = (sync_template_id, application_id)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                found = self._build(sync_template_id, application_id)
                self._entries[key] = found
            return found

    def _build(self, sync_template_id, application_id):
        spec = self.templates.get(sync_template_id)
        if spec is None:
            return generic_template_entry(sync_template_id, application_id, self.schemas["scim"])
        template = {"id": spec["template"]["id"], "applicationId": application_id}
        template.update((key, value) for key, value in spec["template"].items() if key != "id")
        metadata = [{"key": "GalleryApplicationIdentifier", "value": application_id}] if application_id else []
        template["metadata"] = metadata + list(spec["template"].get("metadata") or [])
        return TemplateEntry(template, self.schemas[spec["schema"]], spec["credentialKind"], spec["createdInterval"],
                             spec["runningInterval"], spec["createdStatusCode"], spec.get("jobSettings"), spec.get("jobTemplateId"))

    def template_ids_for(self, application_template):
        """Synchronization template ids an application template provides (see the hook below)."""
        template_id = str(application_template.get("id") or "").lower()
        if template_id in self.by_application_template:
            return list(self.by_application_template[template_id])
        if "sync" not in (application_template.get("supportedProvisioningTypes") or []):
            return []
        display_name = str(application_template.get("displayName") or "").strip().lower()
        if display_name in self.by_display_name:
            return list(self.by_display_name[display_name])
        return [_template_id_from_name(application_template.get("displayName") or "customApp")]


_CATALOG = None
_CATALOG_LOCK = threading.Lock()


def catalog():
    global _CATALOG  # pylint: disable=global-statement
    with _CATALOG_LOCK:
        if _CATALOG is None:
            _CATALOG = _Catalog()
        return _CATALOG


def _template_id_from_name(display_name):
    """Docs are silent on templates of gallery apps we hold no example for: we chose a SCIM template
    whose id is the display name in lower camel case ("Contoso HR" -> "contosoHr")."""
    words = re.findall(r"[A-Za-z0-9]+", display_name) or ["customApp"]
    return words[0].lower() + "".join(word.capitalize() for word in words[1:])


def generic_template_entry(template_id, application_id, schema, factory_tag=None):
    template = {
        "id": template_id, "applicationId": application_id, "default": True, "description": None, "discoverable": True,
        "factoryTag": factory_tag or template_id,
        "metadata": [{"key": "GalleryApplicationIdentifier", "value": application_id},
                     {"key": "ConfigurationFields", "value": '[{"name":"baseaddress"},{"name":"secrettoken","secret":true}]'}],
    }
    return TemplateEntry(template, schema, "scim", job_settings=[{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}])


# ---------------------------------------------------------------------------------------------
# Building schemas from the compact tables in data/schemas.compact.json
# ---------------------------------------------------------------------------------------------

_OBJECT_MAPPING_METADATA = (
    ("IsCustomerDefined", "false"), ("DisableMonitoringForChanges", "false"), ("Disposition", '"Normal"'),
    ("ExcludeFromReporting", "false"), ("EscrowBehavior", '"Default"'), ("Unsynchronized", "false"),
)


def _scim_directories_for(schema, scim):
    """Directories for a SCIM gallery schema the docs print without them (AWS Single Sign-on,
    templates-list.response.aws-sso.json): the SCIM table's Entra and SCIM directories under the names
    its first rule uses. Docs are silent on their ids: we chose name-based UUIDs (stable across runs)."""
    rule = schema["synchronizationRules"][0]
    directories = []
    for directory, name in zip(scim["directories"], (rule["sourceDirectoryName"], rule["targetDirectoryName"])):
        directories.append(dict(directory, name=name, id=str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s" % (rule["id"], name)))))
    return build_schema({"directories": directories, "rules": []})["directories"]


def build_schema(compact):
    """A synchronizationSchema from a compact table; shapes follow templates-list.response.aws-sso.json
    (mappings, metadata) and [SCIM template notes] (newer attribute definitions)."""
    directories = []
    for directory in compact["directories"]:
        objects = []
        for object_name, attributes in directory["objects"].items():
            objects.append({
                "name": object_name,
                "attributes": [{
                    "anchor": anchor, "caseExact": False, "defaultValue": None, "flowNullValues": False, "multivalued": multivalued,
                    "mutability": "ReadWrite", "name": name, "required": anchor, "type": attribute_type,
                    "apiExpressions": [], "metadata": [], "referencedObjects": [],
                } for name, attribute_type, multivalued, anchor in attributes],
                "metadata": [],
                "supportedApis": [],
            })
        directories.append({"id": directory["id"], "name": directory["name"], "discoverabilities": "AttributeNames,AttributeDataTypes",
                            "discoveryDateTime": None, "objects": objects, "readOnly": directory["readOnly"], "version": None})
    rules = []
    for rule in compact["rules"]:
        mappings = []
        for mapping in rule["objectMappings"]:
            mappings.append({
                "enabled": mapping["enabled"],
                "flowTypes": "Add,Update,Delete",
                "name": mapping["name"],
                "scope": None,
                "sourceObjectName": mapping["sourceObjectName"],
                "targetObjectName": mapping["targetObjectName"],
                "attributeMappings": [{
                    "defaultValue": None, "exportMissingReferences": False, "flowBehavior": "FlowWhenChanged", "flowType": "Always",
                    "matchingPriority": priority, "targetAttributeName": target, "source": expressions.to_source(expressions.parse(expression)),
                } for target, expression, priority in mapping["attributeMappings"]],
                "metadata": [{"key": key, "value": value} for key, value in _OBJECT_MAPPING_METADATA],
            })
        rules.append({"containerFilter": None, "editable": True, "groupFilter": None, "id": rule["id"], "metadata": rule["metadata"],
                      "name": rule["name"], "objectMappings": mappings, "priority": rule["priority"],
                      "sourceDirectoryName": rule["sourceDirectoryName"], "targetDirectoryName": rule["targetDirectoryName"]})
    return {"version": compact.get("version"), "synchronizationRules": rules, "directories": directories}

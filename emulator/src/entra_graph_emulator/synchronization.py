"""The synchronization surface of the Graph emulator (graph-sync-api.md §1 rows 1-21, §3, §4, §8, §9).

Routes live under ``/servicePrincipals/{sp_id}/synchronization`` (documented) and
``/applications/{app_id}/synchronization`` (templates and schema updates are documented there; jobs
are metadata-only, as SDKs generate them). Docs are silent on how the two relate: we chose to resolve
an application to the service principal with the same appId, so both paths share one state.

State per service principal (``store.synchronization[sp_id]``, a ``ServicePrincipalSynchronization``):
its templates (seeded from the application template it was instantiated from), its jobs and its
saved secrets. Jobs run simulated provisioning cycles on the emulator's clock (simulation.py),
evaluated lazily whenever they are read or changed, so reads stay O(1) per job.

Every quirk cites graph-sync-api.md (§N) or the note in shared/graph-api that documents it;
"docs are silent: we chose X" marks our own choices (collected in docs/synchronization.md).
"""

import json
import os
import re
import threading
import time
import uuid

from . import simulation
from .framework import GraphHttpError
from .framework import Response
from .framework import json_response
from .framework import no_content
from .odata import decode_skiptoken
from .odata import encode_skiptoken
from .odata import next_link
from .odata import parse_top
from .permissions import PROVISION_ON_DEMAND
from .permissions import SCHEMA_WRITE
from .permissions import SYNC_READ
from .permissions import SYNC_WRITE
from .permissions import VALIDATE_CREDENTIALS
from .framework import throttled_body

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# The synchronizationSecret enum (M-CSDL, graph-sync-api.md §2.9, secrets-keys.md §1). Keys are
# parsed case-sensitively (secrets-keys.md §1 [inferred] from the .NET enum-parse error).
SECRET_KEYS = frozenset((
    "None", "UserName", "Password", "SecretToken", "AppKey", "BaseAddress", "ClientIdentifier", "ClientSecret",
    "SingleSignOnType", "Sandbox", "Url", "Domain", "ConsumerKey", "ConsumerSecret", "TokenKey", "TokenExpiration",
    "Oauth2AccessToken", "Oauth2AccessTokenCreationTime", "Oauth2RefreshToken", "SyncAll", "InstanceName",
    "Oauth2ClientId", "Oauth2ClientSecret", "CompanyId", "UpdateKeyOnSoftDelete", "SynchronizationSchedule",
    "SystemOfRecord", "SandboxName", "EnforceDomain", "SyncNotificationSettings", "SkipOutOfScopeDeletions",
    "Oauth2AuthorizationCode", "Oauth2RedirectUri", "ApplicationTemplateIdentifier", "Oauth2TokenExchangeUri",
    "Oauth2AuthorizationUri", "AuthenticationType", "Server", "PerformInboundEntitlementGrants", "HardDeletesEnabled",
    "SyncAgentCompatibilityKey", "SyncAgentADContainer", "ValidateDomain", "TestReferences", "ConnectionString",
))
_SECRET_KEYS_BY_LOWER = {key.lower(): key for key in SECRET_KEYS}
# Masked on GET besides the template's "secret": true configuration fields (secrets-keys.md §2:
# Password is observed masked; the rest follow from their names).
ALWAYS_MASKED_SECRET_KEYS = frozenset((
    "Password", "SecretToken", "ClientSecret", "Oauth2ClientSecret", "Oauth2AccessToken", "Oauth2RefreshToken",
    "ConsumerSecret", "Oauth2AuthorizationCode",
))
# The masking token (secrets-keys.md §2, TF-SYNC).
MASK = "*"

# synchronizationMetadata members (§2.7): v1.0 spells them PascalCase, beta lower-camel (§6).
SYNCHRONIZATION_METADATA_KEYS = (
    "GalleryApplicationIdentifier", "GalleryApplicationKey", "IsOAuthEnabled", "IsSynchronizationAgentAssignmentRequired",
    "IsSynchronizationAgentRequired", "IsSynchronizationInPreview", "OAuthSettings", "SynchronizationLearnMoreIbizaFwLink",
    "ConfigurationFields",
)
_METADATA_KEYS_BY_LOWER = {key.lower(): key for key in SYNCHRONIZATION_METADATA_KEYS}

# A template's schema id (templates-list.response.aws-sso.json: "aWSSingleSignon.000…").
TEMPLATE_SCHEMA_ID_SUFFIX = "." + "0" * 32

# provisionOnDemand: "The rate limit for this API is 5 requests per 10 seconds." (§2.11)
PROVISION_ON_DEMAND_LIMIT = 5
PROVISION_ON_DEMAND_WINDOW_SECONDS = 10.0

_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DURATION_RE = re.compile(r"^-?P([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+([.][0-9]+)?S)?)?$")
_DATETIME_RE = re.compile(r"^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?"
                          r"(Z|[+-][0-9][0-9]:[0-9][0-9])$")


# ---------------------------------------------------------------------------------------------
# The template catalog (data/, see its README for sources)
# ---------------------------------------------------------------------------------------------

def _load_json(name):
    with open(os.path.join(DATA_DIR, name), encoding="utf-8") as handle:
        return json.load(handle)


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
    """Job settings "inherited from the template" (§2.2): its metadata entries that are not
    synchronizationMetadata members (aWSSingleSignon shows AzureIngestionAttributeOptimization in both)."""
    settings = []
    seen = set()
    for entry in metadata:
        key = entry.get("key")
        if key and key.lower() not in _METADATA_KEYS_BY_LOWER and key not in seen:
            seen.add(key)
            settings.append({"name": key, "value": entry.get("value")})
    return settings


def _configuration_secret_keys(metadata):
    """Secret keys flagged ``"secret": true`` in the ConfigurationFields metadata (secrets-keys.md §2)."""
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
        data = _load_json("templates.json")
        self.templates = data["synchronizationTemplates"]
        self.by_application_template = data["applicationTemplates"]
        self.by_display_name = data["applicationTemplatesByDisplayName"]
        self.functions = _load_json("schema-functions.json")["value"]
        self.filter_operators = _load_json("schema-filteroperators.json")["value"]
        self.function_parameters = {name: tuple(spec) for name, spec in _EXTRA_FUNCTIONS.items()}
        for function in self.functions:
            self.function_parameters[function["name"]] = tuple((item["name"], bool(item.get("allowMultipleOccurrences")))
                                                               for item in function["parameters"])
        compact = _load_json("schemas.compact.json")
        salesforce = _load_json("schema-full.salesforce.json")
        aws_sso = _load_json("schema.awssinglesignon.json")
        self.schemas = {
            "scim": build_schema(compact["scim"], self.function_parameters),
            "azure2azure": build_schema(compact["azure2azure"], self.function_parameters),
            "salesforce": {"version": salesforce.get("version"), "synchronizationRules": salesforce["synchronizationRules"],
                           "directories": salesforce["directories"]},
            "awssinglesignon": {"version": aws_sso.get("version"), "synchronizationRules": aws_sso["synchronizationRules"],
                                "directories": aws_sso.get("directories", [])},
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
# Attribute-mapping expressions (schema/parseExpression, and building the SCIM schema)
# ---------------------------------------------------------------------------------------------

# Signatures of functions the docs' 14-function list (schema-functions.json) lacks, from the
# "Reference for writing expressions for attribute mappings" page (learn.microsoft.com,
# entra/identity/app-provisioning/functions-for-customizing-application-data).
_EXTRA_FUNCTIONS = {
    "IIF": (("condition", False), ("valueIfTrue", False), ("valueIfFalse", False)),
    "ToLower": (("source", False), ("culture", False)),
    "ToUpper": (("source", False), ("culture", False)),
    "Coalesce": (("source", True),),
    "IsPresent": (("Expression", False),),
    "IsNull": (("Expression", False),),
    "IsNullOrEmpty": (("Expression", False),),
    "Left": (("String", False), ("NumChars", False)),
    "CStr": (("value", False),),
    "PCase": (("source", False), ("wordSeparators", False)),
    "NormalizeDiacritics": (("source", False),),
    "Guid": (),
    "Now": (),
}


class ExpressionError(ValueError):
    """An expression that does not parse."""


class _ExpressionParser:
    """Entra's expression syntax: Function(args), [attribute], "constant" (backslash escapes), bare literals."""

    def __init__(self, text, functions):
        self.text = text
        self.position = 0
        self.functions = functions

    def parse(self):
        source, _text = self._expression()
        self._skip_spaces()
        if self.position != len(self.text):
            raise ExpressionError("Unexpected '%s' at position %d." % (self.text[self.position], self.position))
        if source is None:
            raise ExpressionError("The expression is empty.")
        return source

    def _skip_spaces(self):
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def _expression(self):
        """Returns (attributeMappingSource or None for an empty argument, the argument's text)."""
        self._skip_spaces()
        if self.position >= len(self.text) or self.text[self.position] in ",)":
            return None, ""
        char = self.text[self.position]
        if char == "[":
            end = self.text.find("]", self.position)
            if end < 0:
                raise ExpressionError("Missing ']' after position %d." % self.position)
            name = self.text[self.position + 1:end]
            self.position = end + 1
            return _source("[%s]" % name, name, "Attribute"), "[%s]" % name
        if char == '"':
            return self._string_constant()
        start = self.position
        while self.position < len(self.text) and (self.text[self.position].isalnum() or self.text[self.position] in "_.-"):
            self.position += 1
        word = self.text[start:self.position]
        if not word:
            raise ExpressionError("Unexpected '%s' at position %d." % (char, start))
        self._skip_spaces()
        if self.position < len(self.text) and self.text[self.position] == "(":
            return self._function(word)
        # A bare literal (Mid([x], 1, 8)): the constant's own expression is quoted (schema-full.salesforce.json).
        return _source('"%s"' % word, word, "Constant"), word

    def _string_constant(self):
        start = self.position
        self.position += 1
        value = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char == "\\" and self.position + 1 < len(self.text):
                value.append(self.text[self.position + 1])
                self.position += 2
                continue
            if char == '"':
                self.position += 1
                raw = self.text[start:self.position]
                return _source(raw, "".join(value), "Constant"), raw
            value.append(char)
            self.position += 1
        raise ExpressionError("Missing closing quote for the constant at position %d." % start)

    def _function(self, name):
        if name not in self.functions:
            raise ExpressionError("'%s' is not a known function." % name)
        self.position += 1
        arguments = []
        while True:
            argument, text = self._expression()
            arguments.append((argument, text))
            self._skip_spaces()
            if self.position >= len(self.text):
                raise ExpressionError("Missing ')' for function %s." % name)
            if self.text[self.position] == ",":
                self.position += 1
                continue
            if self.text[self.position] == ")":
                self.position += 1
                break
            raise ExpressionError("Unexpected '%s' at position %d." % (self.text[self.position], self.position))
        if len(arguments) == 1 and arguments[0][0] is None:
            arguments = []
        signature = self.functions[name]
        parameters = []
        for index, (argument, _text) in enumerate(arguments):
            if not signature:
                raise ExpressionError("%s takes no arguments." % name)
            if index < len(signature):
                key = signature[index][0]
            elif signature[-1][1]:
                key = signature[-1][0]
            else:
                raise ExpressionError("Too many arguments for %s." % name)
            # Empty arguments are skipped (Replace's example keeps only source, Find, Replacement).
            if argument is not None:
                parameters.append({"key": key, "value": argument})
        # The canonical text joins the arguments with ", " (the docs' Replace example).
        text = "%s(%s)" % (name, ", ".join(argument_text for _argument, argument_text in arguments))
        return {"expression": text, "name": name, "parameters": parameters, "type": "Function"}, text


def _source(expression, name, source_type):
    return {"expression": expression, "name": name, "parameters": [], "type": source_type}


def parse_expression(text, function_parameters=None):
    """An attributeMappingSource for ``text`` (the shape of schema-parseexpression.response.json).

    ``function_parameters``: name -> ((parameter, allowMultipleOccurrences), ...); the catalog's by default.
    """
    return _ExpressionParser(text, function_parameters or catalog().function_parameters).parse()


def evaluate_expression(source, properties):
    """Evaluate a parsed expression against testInputObject properties; returns a list of strings.

    Only the common functions are evaluated; others raise ExpressionError (docs are silent on the
    service's evaluator: we chose a subset).
    """
    value = _evaluate(source, properties)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _evaluate(source, properties):
    source_type = source.get("type")
    if source_type == "Attribute":
        return properties.get(source.get("name"))
    if source_type == "Constant":
        return source.get("name")
    arguments = {}
    for parameter in source.get("parameters") or []:
        arguments.setdefault(parameter["key"], []).append(_evaluate(parameter["value"], properties))
    name = source.get("name")

    def first(key, default=None):
        values = arguments.get(key)
        return values[0] if values else default

    def text(value):
        if isinstance(value, list):
            return value[0] if value else None
        return value

    if name == "Append":
        return (text(first("source")) or "") + (text(first("suffix")) or "")
    if name == "Prepend":
        return (text(first("prefix")) or "") + (text(first("source")) or "")
    if name == "Join":
        items = []
        for value in arguments.get("source", []):
            items.extend(value if isinstance(value, list) else [value])
        return (text(first("separator")) or "").join(str(item) for item in items if item not in (None, ""))
    if name == "Replace":
        result = text(first("source")) or ""
        if first("RegularExpression") is not None:
            return re.sub(text(first("RegularExpression")), text(first("Replacement")) or "", result)
        if first("Find") is not None:
            return result.replace(text(first("Find")), text(first("Replacement")) or "")
        return result
    if name in ("ToLower", "ToUpper"):
        value = text(first("source"))
        return None if value is None else (value.lower() if name == "ToLower" else value.upper())
    if name == "Mid":
        value = text(first("source")) or ""
        start = int(text(first("start")) or 1)
        return value[start - 1:start - 1 + int(text(first("length")) or 0)]
    if name == "Left":
        return (text(first("String")) or "")[:int(text(first("NumChars")) or 0)]
    if name == "Not":
        return "False" if str(text(first("source"))).lower() == "true" else "True"
    if name == "StripSpaces":
        return (text(first("source")) or "").replace(" ", "")
    if name == "Split":
        return (text(first("source")) or "").split(text(first("delimiter")) or ",")
    if name == "Switch":
        value = text(first("source"))
        pairs = [text(item) for item in arguments.get("switchValue", [])]
        for index in range(0, len(pairs) - 1, 2):
            if pairs[index] == value:
                return pairs[index + 1]
        return text(first("defaultValue"))
    if name == "IIF":
        return text(first("valueIfTrue")) if str(text(first("condition"))).lower() == "true" else text(first("valueIfFalse"))
    if name == "Coalesce":
        for value in arguments.get("source", []):
            if text(value) not in (None, ""):
                return text(value)
        return None
    if name in ("IsPresent", "IsNull", "IsNullOrEmpty"):
        value = text(first("Expression"))
        present = value is not None and (name != "IsNullOrEmpty" or value != "")
        return str(present if name == "IsPresent" else not present)
    if name in ("SingleAppRoleAssignment", "CStr"):
        return text(first("source", first("value")))
    raise ExpressionError("The emulator does not evaluate %s." % name)


# ---------------------------------------------------------------------------------------------
# Building schemas from the compact tables in data/schemas.compact.json
# ---------------------------------------------------------------------------------------------

_OBJECT_MAPPING_METADATA = (
    ("IsCustomerDefined", "false"), ("DisableMonitoringForChanges", "false"), ("Disposition", '"Normal"'),
    ("ExcludeFromReporting", "false"), ("EscrowBehavior", '"Default"'), ("Unsynchronized", "false"),
)


def build_schema(compact, function_parameters):
    """A synchronizationSchema from a compact table; shapes follow templates-list.response.aws-sso.json
    (mappings, metadata) and scim-template-notes.md (newer attribute definitions)."""
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
                    "matchingPriority": priority, "targetAttributeName": target, "source": parse_expression(expression, function_parameters),
                } for target, expression, priority in mapping["attributeMappings"]],
                "metadata": [{"key": key, "value": value} for key, value in _OBJECT_MAPPING_METADATA],
            })
        rules.append({"containerFilter": None, "editable": True, "groupFilter": None, "id": rule["id"], "metadata": rule["metadata"],
                      "name": rule["name"], "objectMappings": mappings, "priority": rule["priority"],
                      "sourceDirectoryName": rule["sourceDirectoryName"], "targetDirectoryName": rule["targetDirectoryName"]})
    return {"version": compact.get("version"), "synchronizationRules": rules, "directories": directories}


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------

class SynchronizationJob:
    """A job: identity, inherited settings, its schema (shared with the template until changed), runtime."""

    __slots__ = ("id", "template_id", "entry", "settings", "schema", "schema_version", "runtime", "provisioned_subjects")

    def __init__(self, job_id, template_id, entry, settings):
        self.id = job_id
        self.template_id = template_id
        self.entry = entry
        self.settings = settings
        # None: the template's schema (copy-on-write; "a default synchronization schema", §3.1).
        self.schema = None
        self.schema_version = entry.schema.get("version")
        self.runtime = simulation.JobRuntime(job_id, _entry_type_keys(entry.schema))
        self.provisioned_subjects = set()

    def current_schema(self):
        return self.schema if self.schema is not None else self.entry.schema


def _entry_type_keys(schema):
    """synchronizedEntryCountByType keys: docs are silent on their form; we chose
    "<source object> to <target object>" (lower case) from the enabled user and group mappings."""
    user_key = group_key = None
    for rule in schema.get("synchronizationRules") or []:
        for mapping in rule.get("objectMappings") or []:
            if not mapping.get("enabled"):
                continue
            source = str(mapping.get("sourceObjectName") or "")
            key = ("%s to %s" % (source, mapping.get("targetObjectName") or "")).lower()
            if source.lower() == "user" and user_key is None:
                user_key = key
            elif source.lower() == "group" and group_key is None:
                group_key = key
    return (user_key or "user to user", group_key)


class ServicePrincipalSynchronization:
    """store.synchronization[sp_id]: templates, jobs (in creation order) and saved secrets."""

    __slots__ = ("service_principal_id", "templates", "jobs", "secrets")

    def __init__(self, service_principal_id):
        self.service_principal_id = service_principal_id
        self.templates = {}
        self.jobs = {}
        # key -> value, in the order of the last PUT (PUT replaces the whole set, secrets-keys.md §4).
        self.secrets = {}

    def masked_keys(self):
        keys = set(ALWAYS_MASKED_SECRET_KEYS)
        for entry in self.templates.values():
            keys |= entry.masked_keys
        return keys


class SynchronizationSettings:
    """Knobs of this module (changed through the control API)."""

    def __init__(self):
        # Docs document no paging for jobs or templates (§7.2, §10): off by default; set a page
        # size to exercise clients' @odata.nextLink handling.
        self.page_size = None
        # PATCH on a schema: "accept" (as SDKs generate it, §3.5) or "reject" like the service was
        # observed to (404 UnknownError from syncfabric, failure-vocabulary.md §3).
        self.schema_patch = "accept"
        self.provision_on_demand_limit = PROVISION_ON_DEMAND_LIMIT
        self.provision_on_demand_window_seconds = PROVISION_ON_DEMAND_WINDOW_SECONDS

    def to_dict(self):
        return {"page_size": self.page_size, "schema_patch": self.schema_patch,
                "provision_on_demand_limit": self.provision_on_demand_limit,
                "provision_on_demand_window_seconds": self.provision_on_demand_window_seconds}


class SynchronizationService:
    """Store-wide state of this module: settings, simulated SCIM targets, the provisionOnDemand limiter."""

    def __init__(self):
        self.settings = SynchronizationSettings()
        # normalised base address -> frozenset of accepted secret tokens
        self.scim_targets = {}
        self.provision_on_demand_calls = {}
        # Rate limits are measured in real time (the limit protects a real service from real clients).
        self.monotonic = time.monotonic


def service(store):
    """This module's store-wide state, kept on the store (created on first use)."""
    found = getattr(store, "synchronization_service", None)
    if found is None:
        with store.lock:
            found = getattr(store, "synchronization_service", None)
            if found is None:
                found = SynchronizationService()
                store.synchronization_service = found
    return found


# ---------------------------------------------------------------------------------------------
# Credentials: the simulated targets (validateCredentials, cycles, provisionOnDemand)
# ---------------------------------------------------------------------------------------------

class CredentialProblem:
    """Why credentials are rejected: the job-level error (quarantine) and the API-level detail."""

    __slots__ = ("code", "message", "detail_code", "detail_message", "target")

    def __init__(self, code, message, detail_code=None, detail_message=None, target=None):
        self.code = code
        self.message = message
        self.detail_code = detail_code or code
        self.detail_message = detail_message or message
        self.target = target


SCIM_INVALID_CREDENTIALS = "SystemForCrossDomainIdentityManagementInvalidCredentials"
SCIM_VALIDATION_UNAVAILABLE = "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable"


def normalise_base_address(address):
    return str(address or "").strip().rstrip("/").lower()


def _scim_problem(secrets, targets):
    """SCIM (and SCIM-based gallery) credentials: BaseAddress + SecretToken.

    Rules (docs are silent; we chose): a registered target accepts only its tokens; any other
    https base address accepts any non-empty token; anything else is rejected.
    """
    base = str(secrets.get("BaseAddress") or "").strip()
    token = secrets.get("SecretToken") or ""
    if not base.lower().startswith("https://") or len(base) <= len("https://"):
        # AWS-SSO's quarantined job (failure-vocabulary.md §2).
        return CredentialProblem(SCIM_INVALID_CREDENTIALS, "Please provide a valid tenant URL for your application.", target="BaseAddress")
    if not token:
        return CredentialProblem(SCIM_INVALID_CREDENTIALS, "Please provide a valid secret token for your application.", target="SecretToken")
    accepted = _registered_tokens(base, targets)
    if accepted is not None and token not in accepted:
        # AST-DOC: validation against a SCIM endpoint that answers 401 (failure-vocabulary.md §3).
        return CredentialProblem(
            SCIM_INVALID_CREDENTIALS,
            "The SCIM endpoint rejected the secret token: Unauthorized (401). Please provide valid credentials for your application.",
            SCIM_VALIDATION_UNAVAILABLE,
            "Error validating credentials. The SCIM endpoint answered Unauthorized (401).",
            "SecretToken")
    return None


def _registered_tokens(base, targets):
    """Tokens of the registered target whose base address is ``base`` or a path prefix of it."""
    normalised = normalise_base_address(base)
    best = None
    for address, tokens in targets.items():
        if normalised == address or normalised.startswith(address + "/"):
            if best is None or len(address) > len(best[0]):
                best = (address, tokens)
    return best[1] if best else None


def _keys_problem(secrets, keys, code, message):
    for key in keys:
        if not str(secrets.get(key) or "").strip():
            return CredentialProblem(code, message, target=key)
    return None


def credential_problem(kind, secrets, targets):
    """None when ``secrets`` would be accepted by the simulated target of ``kind``."""
    if kind == "scim":
        return _scim_problem(secrets, targets)
    if kind == "salesforce":
        # D1:job-get's quarantine error (failure-vocabulary.md §2).
        return _keys_problem(secrets, ("UserName", "Password", "SecretToken"), "SalesforceInvalidCredentials",
                             "Your Salesforce.com credentials are invalid.  Please obtain a current Salesforce.com administrative user name, "
                             "password and security token, and enter those in the screen for configuring user provisioning")
    if kind == "box":
        # BOX's quarantined job (failure-vocabulary.md §2).
        return _keys_problem(secrets, ("SecretToken",), "BoxInsufficientPermissions",
                             "Authorization with Box is not valid. Please re-authorize access to Box")
    if kind == "aws":
        # E-PROV / GD-2020 save ClientSecret and SecretToken for AWS; docs are silent on the error code: we chose InvalidCredentials.
        return _keys_problem(secrets, ("ClientSecret", "SecretToken"), "InvalidCredentials",
                             "The AWS access key or secret key is invalid. Please provide valid credentials.")
    if kind == "azure2azure":
        # E-XTS: CompanyId (the target tenant) and AuthenticationType SyncPolicy; the error code is our choice.
        company = str(secrets.get("CompanyId") or "")
        if not _GUID_RE.match(company):
            return CredentialProblem("InvalidCredentials", "Please provide the target tenant id (CompanyId) for cross-tenant synchronization.",
                                     target="CompanyId")
        if secrets.get("AuthenticationType") != "SyncPolicy":
            return CredentialProblem("InvalidCredentials", "Cross-tenant synchronization authenticates with AuthenticationType SyncPolicy.",
                                     target="AuthenticationType")
        return None
    return None


def _cycle_failure(problem):
    # E-QUAR: invalid credentials quarantine the job with EncounteredQuarantineException.
    return simulation.CycleFailure("EncounteredQuarantineException", problem.code, problem.message, True)


# ---------------------------------------------------------------------------------------------
# Request bodies: checked against the documented shapes (openapi-synchronization.yaml)
# ---------------------------------------------------------------------------------------------

_STRING = "Edm.String"
_BOOLEAN = "Edm.Boolean"
_INT32 = "Edm.Int32"
_INT64 = "Edm.Int64"
_DATETIME = "Edm.DateTimeOffset"
_DURATION = "Edm.Duration"
_GUID = "Edm.Guid"
_ANY = "any"

# Members of the enums request bodies use (M-CSDL via openapi-synchronization.yaml).
_ENUMS = {
    "synchronizationSecret": SECRET_KEYS,
    "synchronizationScheduleState": frozenset(("Active", "Disabled", "Paused")),
    "synchronizationStatusCode": frozenset(("NotConfigured", "NotRun", "Active", "Paused", "Quarantine")),
    "synchronizationTaskExecutionResult": frozenset(("Succeeded", "Failed", "EntryLevelErrors")),
    "quarantineReason": frozenset(("EncounteredBaseEscrowThreshold", "EncounteredTotalEscrowThreshold", "EncounteredEscrowProportionThreshold",
                                   "EncounteredQuarantineException", "Unknown", "QuarantinedOnDemand", "TooManyDeletes", "IngestionInterrupted")),
    "attributeType": frozenset(("String", "Integer", "Reference", "Binary", "Boolean", "DateTime")),
    "mutability": frozenset(("ReadWrite", "ReadOnly", "Immutable", "WriteOnly")),
    "attributeFlowBehavior": frozenset(("FlowWhenChanged", "FlowAlways")),
    "attributeFlowType": frozenset(("Always", "ObjectAddOnly", "MultiValueAddOnly", "ValueAddOnly", "AttributeAddOnly")),
    "attributeMappingSourceType": frozenset(("Attribute", "Constant", "Function")),
    "objectFlowTypes": frozenset(("None", "Add", "Update", "Delete")),
    "directoryDefinitionDiscoverabilities": frozenset(("None", "AttributeNames", "AttributeDataTypes", "AttributeReadOnly",
                                                       "ReferenceAttributes", "UnknownFutureValue")),
}
# Enums parsed case-sensitively (secret keys, secrets-keys.md §1). The others accept any case: the
# docs' own schema examples write attribute types as "string" (schema-update.request.json).
_CASE_SENSITIVE_ENUMS = frozenset(("synchronizationSecret",))

_TYPES = {
    "keyValuePair": {"name": _STRING, "value": _STRING},
    "stringKeyStringValuePair": {"key": _STRING, "value": _STRING},
    "stringKeyLongValuePair": {"key": _STRING, "value": _INT64},
    "stringKeyObjectValuePair": {"key": _STRING, "value": _ANY},
    "synchronizationSecretKeyStringValuePair": {"key": ("enum", "synchronizationSecret"), "value": _STRING},
    "synchronizationSchedule": {"expiration": _DATETIME, "interval": _DURATION, "state": ("enum", "synchronizationScheduleState")},
    "synchronizationError": {"code": _STRING, "message": _STRING, "tenantActionable": _BOOLEAN},
    "synchronizationTaskExecution": {
        "activityIdentifier": _STRING, "countEntitled": _INT64, "countEntitledForProvisioning": _INT64, "countEscrowed": _INT64,
        "countEscrowedRaw": _INT64, "countExported": _INT64, "countExports": _INT64, "countImported": _INT64,
        "countImportedDeltas": _INT64, "countImportedReferenceDeltas": _INT64, "error": "synchronizationError",
        "state": ("enum", "synchronizationTaskExecutionResult"), "timeBegan": _DATETIME, "timeEnded": _DATETIME},
    "synchronizationProgress": {"completedUnits": _INT64, "progressObservationDateTime": _DATETIME, "totalUnits": _INT64, "units": _STRING},
    "synchronizationQuarantine": {"currentBegan": _DATETIME, "error": "synchronizationError", "nextAttempt": _DATETIME,
                                  "reason": ("enum", "quarantineReason"), "seriesBegan": _DATETIME, "seriesCount": _INT64},
    "synchronizationStatus": {
        "code": ("enum", "synchronizationStatusCode"), "countSuccessiveCompleteFailures": _INT64, "escrowsPruned": _BOOLEAN,
        "lastExecution": "synchronizationTaskExecution", "lastSuccessfulExecution": "synchronizationTaskExecution",
        "lastSuccessfulExecutionWithExports": "synchronizationTaskExecution", "progress": ["synchronizationProgress"],
        "quarantine": "synchronizationQuarantine", "steadyStateFirstAchievedTime": _DATETIME, "steadyStateLastAchievedTime": _DATETIME,
        "synchronizedEntryCountByType": ["stringKeyLongValuePair"], "troubleshootingUrl": _STRING},
    "bulkUpload": {"id": _STRING},
    "synchronizationJob": {"id": _STRING, "templateId": _STRING, "schedule": "synchronizationSchedule", "status": "synchronizationStatus",
                           "synchronizationJobSettings": ["keyValuePair"], "schema": "synchronizationSchema", "bulkUpload": "bulkUpload"},
    "synchronizationSchema": {"id": _STRING, "version": _STRING, "synchronizationRules": ["synchronizationRule"],
                              "directories": ["directoryDefinition"]},
    "synchronizationRule": {"containerFilter": "containerFilter", "editable": _BOOLEAN, "groupFilter": "groupFilter", "id": _STRING,
                            "metadata": ["stringKeyStringValuePair"], "name": _STRING, "objectMappings": ["objectMapping"],
                            "priority": _INT32, "sourceDirectoryName": _STRING, "targetDirectoryName": _STRING},
    "containerFilter": {"includedContainers": [_STRING]},
    "groupFilter": {"includedGroups": [_STRING]},
    "objectMapping": {"attributeMappings": ["attributeMapping"], "enabled": _BOOLEAN, "flowTypes": ("flags", "objectFlowTypes"),
                      "metadata": ["metadataEntry"], "name": _STRING, "scope": "filter", "sourceObjectName": _STRING,
                      "targetObjectName": _STRING},
    # Metadata keys are enums in the metadata, but documented examples use keys outside them
    # (templates-list.response.aws-sso.json): checked as strings.
    "metadataEntry": {"key": _STRING, "value": _STRING},
    "attributeMapping": {"defaultValue": _STRING, "exportMissingReferences": _BOOLEAN, "flowBehavior": ("enum", "attributeFlowBehavior"),
                         "flowType": ("enum", "attributeFlowType"), "matchingPriority": _INT32, "source": "attributeMappingSource",
                         "targetAttributeName": _STRING},
    "attributeMappingSource": {"expression": _STRING, "name": _STRING, "parameters": ["stringKeyAttributeMappingSourceValuePair"],
                               "type": ("enum", "attributeMappingSourceType")},
    "stringKeyAttributeMappingSourceValuePair": {"key": _STRING, "value": "attributeMappingSource"},
    "filter": {"categoryFilterGroups": ["filterGroup"], "groups": ["filterGroup"], "inputFilterGroups": ["filterGroup"]},
    "filterGroup": {"clauses": ["filterClause"], "name": _STRING},
    "filterClause": {"operatorName": _STRING, "sourceOperandName": _STRING, "targetOperand": "filterOperand"},
    "filterOperand": {"values": [_STRING]},
    "directoryDefinition": {"id": _STRING, "discoverabilities": ("flags", "directoryDefinitionDiscoverabilities"),
                            "discoveryDateTime": _DATETIME, "name": _STRING, "objects": ["objectDefinition"], "readOnly": _BOOLEAN,
                            "version": _STRING},
    "objectDefinition": {"attributes": ["attributeDefinition"], "metadata": ["metadataEntry"], "name": _STRING, "supportedApis": [_STRING]},
    "attributeDefinition": {"anchor": _BOOLEAN, "apiExpressions": ["stringKeyStringValuePair"], "caseExact": _BOOLEAN, "defaultValue": _STRING,
                            "flowNullValues": _BOOLEAN, "metadata": ["metadataEntry"], "multivalued": _BOOLEAN,
                            "mutability": ("enum", "mutability"), "name": _STRING, "referencedObjects": ["referencedObject"],
                            "required": _BOOLEAN, "type": ("enum", "attributeType")},
    "referencedObject": {"referencedObjectName": _STRING, "referencedProperty": _STRING},
    "synchronizationTemplate": {"id": _STRING, "applicationId": _GUID, "default": _BOOLEAN, "description": _STRING, "discoverable": _BOOLEAN,
                                "factoryTag": _STRING, "metadata": ["metadataEntry"], "schema": "synchronizationSchema"},
    "synchronizationJobApplicationParameters": {"ruleId": _STRING, "subjects": ["synchronizationJobSubject"]},
    "synchronizationJobSubject": {"links": "synchronizationLinkedObjects", "objectId": _STRING, "objectTypeName": _STRING},
    "synchronizationLinkedObjects": {"manager": "synchronizationJobSubject", "members": ["synchronizationJobSubject"],
                                     "owners": ["synchronizationJobSubject"]},
    "synchronizationJobRestartCriteria": {"resetScope": _STRING},
    "expressionInputObject": {"definition": "objectDefinition", "properties": ["stringKeyObjectValuePair"]},
}

# Action parameters (openapi-synchronization.yaml request bodies).
_ACTION_PARAMETERS = {
    "restart": {"criteria": "synchronizationJobRestartCriteria"},
    "validateCredentials": {"applicationIdentifier": _STRING, "templateId": _STRING, "useSavedCredentials": _BOOLEAN,
                            "credentials": ["synchronizationSecretKeyStringValuePair"]},
    "provisionOnDemand": {"parameters": ["synchronizationJobApplicationParameters"]},
    "acquireAccessToken": {"credentials": ["synchronizationSecretKeyStringValuePair"]},
    "parseExpression": {"expression": _STRING, "testInputObject": "expressionInputObject", "targetAttributeDefinition": "attributeDefinition"},
    "discover": {},
}


class BodyError(Exception):
    """A request body that does not match its documented shape.

    ``enum`` is the enum name when a member was not found (callers choose the status: a bad secret
    key is a 400 on PUT secrets and a 500 on validateCredentials, failure-vocabulary.md §3).
    """

    def __init__(self, message, enum=None):
        super().__init__(message)
        self.message = message
        self.enum = enum


def _json_kind(value):
    if isinstance(value, dict):
        return "StartObject"
    if isinstance(value, list):
        return "StartArray"
    return "PrimitiveValue"


def _json_type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "value"


def _node_error(value, expected, where):
    # OData reader wording (the Graph front end's JSON reader errors).
    return BodyError("An unexpected '%s' node was found for property named '%s' when reading from the JSON reader. A '%s' node was expected."
                     % (_json_kind(value), where, expected))


def check_value(value, spec, where):
    """Raise BodyError when ``value`` does not fit ``spec`` (``where`` names the property)."""
    if value is None or spec == _ANY:
        return
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise _node_error(value, "StartArray", where)
        for index, item in enumerate(value):
            check_value(item, spec[0], "%s[%d]" % (where, index))
        return
    if isinstance(spec, tuple):
        _check_enum(value, spec, where)
        return
    if spec.startswith("Edm."):
        _check_primitive(value, spec, where)
        return
    if not isinstance(value, dict):
        raise _node_error(value, "StartObject", where)
    check_object(value, spec, where)


def check_object(value, type_name, where=""):
    properties = _TYPES[type_name]
    for name, item in value.items():
        if "@" in name:
            continue  # instance annotations (@odata.type, value@odata.type)
        if name not in properties:
            raise BodyError("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use property names that are "
                            "defined by the type." % (name, type_name))
        check_value(item, properties[name], "%s.%s" % (where, name) if where else name)


def _check_primitive(value, edm_type, where):
    if isinstance(value, (dict, list)):
        raise _node_error(value, "PrimitiveValue", where)
    valid = {
        _STRING: isinstance(value, str),
        _BOOLEAN: isinstance(value, bool),
        _INT32: isinstance(value, int) and not isinstance(value, bool) and -2 ** 31 <= value < 2 ** 31,
        _INT64: isinstance(value, int) and not isinstance(value, bool),
        _DATETIME: isinstance(value, str) and bool(_DATETIME_RE.match(value)),
        _DURATION: isinstance(value, str) and bool(_DURATION_RE.match(value)),
        _GUID: isinstance(value, str) and bool(_GUID_RE.match(value)),
    }[edm_type]
    if not valid:
        # Values are not echoed: the property may hold a secret.
        raise BodyError("Cannot convert the %s given for property '%s' to the expected type '%s'." % (_json_type_name(value), where, edm_type))


def _check_enum(value, spec, where):
    kind, enum_name = spec
    if not isinstance(value, str):
        raise _node_error(value, "PrimitiveValue", where) if isinstance(value, (dict, list)) else BodyError(
            "Cannot convert the %s given for property '%s' to the expected type 'microsoft.graph.%s'." % (_json_type_name(value), where, enum_name))
    members = _ENUMS[enum_name]
    strict = enum_name in _CASE_SENSITIVE_ENUMS
    lowered = {member.lower() for member in members}
    for member in value.split(",") if kind == "flags" else [value]:
        member = member.strip()
        if (member not in members) if strict else (member.lower() not in lowered):
            # The .NET enum parser's message (failure-vocabulary.md §3).
            raise BodyError("Requested value '%s' was not found. (property '%s', type 'microsoft.graph.%s')" % (member, where, enum_name), enum_name)


def _read_body(request, required=True):
    """The JSON body as a dict (400 when it is missing or not an object)."""
    body = request.json()
    if body is None:
        if required:
            raise GraphHttpError(400, "BadRequest", "Empty Payload. JSON content expected.")
        return {}
    if not isinstance(body, dict):
        raise GraphHttpError(400, "BadRequest", "An unexpected '%s' node was found when reading from the JSON reader. A 'StartObject' node "
                             "was expected." % _json_kind(body))
    return body


def _checked_entity(request, type_name, required=True):
    body = _read_body(request, required)
    try:
        check_object(body, type_name)
    except BodyError as exc:
        raise GraphHttpError(400, "BadRequest", exc.message) from None
    return body


def _checked_action(request, action, required=False, enum_status=None):
    """Action parameters; unknown parameters are rejected with OData's message."""
    body = _read_body(request, required)
    parameters = _ACTION_PARAMETERS[action]
    try:
        for name, value in body.items():
            if "@" in name:
                continue
            if name not in parameters:
                raise BodyError("The parameter '%s' in the request payload is not a valid parameter for the operation '%s'." % (name, action))
            check_value(value, parameters[name], name)
    except BodyError as exc:
        if exc.enum == "synchronizationSecret" and enum_status == 500:
            # validateCredentials with a key outside the enum: 500 InternalError (SRC-AGENT, failure-vocabulary.md §3).
            raise GraphHttpError(500, "InternalError", exc.message.split(" (property")[0]) from None
        raise GraphHttpError(400, "BadRequest", exc.message) from None
    return body


# ---------------------------------------------------------------------------------------------
# Looking things up
# ---------------------------------------------------------------------------------------------

def _not_found(object_id):
    return GraphHttpError(404, "Request_ResourceNotFound",
                          "Resource '%s' does not exist or one of its queried reference-property objects are not present." % object_id)


class _Root:
    """The synchronization a request addresses: a service principal's, reached directly or via its application."""

    __slots__ = ("state", "service_principal", "odata_path")

    def __init__(self, state, service_principal, odata_path):
        self.state = state
        self.service_principal = service_principal
        self.odata_path = odata_path


def state_for(store, service_principal):
    """The SP's synchronization state; created (templates seeded) for SPs the hook never saw."""
    sp_id = service_principal["id"]
    state = store.synchronization.get(sp_id)
    if state is None:
        template = store.application_templates.get(service_principal.get("applicationTemplateId") or "")
        state = _new_state(service_principal, template)
        store.synchronization[sp_id] = state
    return state


def _root(request):
    store = request.store
    params = request.params
    if "sp_id" in params:
        sp_id = params["sp_id"]
        service_principal = store.service_principals.get(sp_id)
        if service_principal is None or store.is_replicating(sp_id):
            raise _not_found(sp_id)
        return _Root(state_for(store, service_principal), service_principal, "servicePrincipals('%s')" % sp_id)
    app_id = params["app_id"]
    application = store.applications.get(app_id)
    if application is None or store.is_replicating(app_id):
        raise _not_found(app_id)
    service_principal = store.service_principal_by_app_id(application["appId"])
    if service_principal is None:
        # Docs are silent: application routes share the service principal's state, so an
        # application without one has no synchronization.
        raise GraphHttpError(404, "Request_ResourceNotFound",
                             "The application '%s' has no service principal in this tenant, so it has no synchronization." % app_id)
    return _Root(state_for(store, service_principal), service_principal, "applications('%s')" % app_id)


def _job(root, request):
    job_id = request.params["job_id"]
    job = root.state.jobs.get(job_id)
    if job is None or request.store.is_replicating(job_id):
        # Docs are silent on the code for an unknown job: we chose Graph's usual not-found error.
        raise _not_found(job_id)
    return job


def _template(root, template_id):
    entry = root.state.templates.get(template_id)
    if entry is None:
        raise _not_found(template_id)
    return entry


def _context_url(request, root, suffix):
    return "%s/$metadata#%s/synchronization/%s" % (request.base_url, root.odata_path, suffix)


# ---------------------------------------------------------------------------------------------
# Jobs: evaluation and rendering
# ---------------------------------------------------------------------------------------------

def _environment(store, state, job):
    targets = service(store).scim_targets

    def check():
        problem = credential_problem(job.entry.credential_kind, state.secrets, targets)
        return _cycle_failure(problem) if problem else None

    return simulation.CycleEnvironment(store.settings.cycle_seconds, check)


def _advance(store, state, job, now):
    job.runtime.advance(now, _environment(store, state, job))


def _advance_all(store, state, now):
    """Bring every job up to now before changing what its cycles depend on."""
    for job in state.jobs.values():
        _advance(store, state, job, now)


def render_job(store, state, job, now):
    """The synchronizationJob as Graph prints it (job-post.response.json key order)."""
    _advance(store, state, job, now)
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


def _paged(request, items, context_url):
    """A collection page: all of it, or pages of ``$top`` / the configured page size with @odata.nextLink (§7.2).

    Docs document no paging for jobs or templates (§10), so nothing is paged unless asked. The token and
    link forms are the directory collections' (odata.py).
    """
    size = service(request.store).settings.page_size
    top = parse_top(request.query, default=None)
    if top is not None:
        size = min(size, top) if size else top
    token = request.query.get("$skiptoken")
    offset = decode_skiptoken(token)[1] if token else 0
    body = {"@odata.context": context_url}
    if not size:
        body["value"] = items[offset:]
        return body
    body["value"] = items[offset:offset + size]
    if offset + size < len(items):
        body["@odata.nextLink"] = next_link(request, request.path, encode_skiptoken("offset", offset + size))
    return body


def list_jobs(request):
    root = _root(request)
    store = request.store
    now = request.clock.now()
    with store.lock:
        jobs = [render_job(store, root.state, job, now) for job in root.state.jobs.values() if not store.is_replicating(job.id)]
    return json_response(_paged(request, jobs, _context_url(request, root, "jobs")))


def count_jobs(request):
    root = _root(request)
    with request.store.lock:
        count = sum(1 for job in root.state.jobs.values() if not request.store.is_replicating(job.id))
    return Response(200, str(count), {"Content-Type": "text/plain"})


def get_job(request):
    root = _root(request)
    store = request.store
    with store.lock:
        job = _job(root, request)
        body = {"@odata.context": _context_url(request, root, "jobs/$entity")}
        body.update(render_job(store, root.state, job, request.clock.now()))
    return json_response(body)


def new_job_id(template_id):
    """``<templateId>.<32 hex>`` (§2.2, §9; jobs-list.response.overview.json)."""
    return "%s.%s" % (template_id, uuid.uuid4().hex)


def create_job_in_state(store, state, template_id, settings=None):
    """Create a job on ``template_id`` (which must be one of the SP's templates); returns it."""
    entry = state.templates[template_id]
    # AST-EVID: {"templateId": "customappsso"} creates a job whose templateId is customappssoOutDelta.
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
    root = _root(request)
    body = _checked_entity(request, "synchronizationJob")
    template_id = body.get("templateId")
    if not template_id:
        raise GraphHttpError(400, "BadRequest", "The templateId property is required to create a synchronization job (§3.1).")
    store = request.store
    with store.lock:
        if template_id not in root.state.templates:
            # Docs are silent on the error (§9): we chose 400 invalidRequest, naming the templates.
            available = ", ".join(sorted(root.state.templates)) or "none"
            raise GraphHttpError(400, "invalidRequest", "The templateId '%s' does not match any synchronization template of this application. "
                                 "Available templates: %s." % (template_id, available))
        job = create_job_in_state(store, root.state, template_id, body.get("synchronizationJobSettings"))
        result = {"@odata.context": _context_url(request, root, "jobs/$entity")}
        result.update(render_job(store, root.state, job, request.clock.now()))
    # 201 Created (§4.5, §8.1).
    return json_response(result, status=201)


def delete_job(request):
    root = _root(request)
    store = request.store
    with store.lock:
        job = _job(root, request)
        # "Synchronized accounts are left as-is" and secrets stay on the SP (§3.3, §4.7).
        del root.state.jobs[job.id]
        store.created_at.pop(job.id, None)
    return no_content()


def _job_action(request, action):
    root = _root(request)
    store = request.store
    with store.lock:
        job = _job(root, request)
        now = request.clock.now()
        _advance(store, root.state, job, now)
        action(job, now, _environment(store, root.state, job))
    return no_content()


def start_job(request):
    _read_body(request, required=False)
    return _job_action(request, lambda job, now, environment: job.runtime.start(now, environment))


def pause_job(request):
    _read_body(request, required=False)
    return _job_action(request, lambda job, now, environment: job.runtime.pause(now))


def restart_job(request):
    body = _checked_action(request, "restart")
    criteria = body.get("criteria") or {}
    try:
        # One comma-separated flags string (§2.10, §8.7); empty or absent = the portal's Restart.
        scope = simulation.parse_reset_scope(criteria.get("resetScope"))
    except ValueError as exc:
        raise GraphHttpError(400, "BadRequest", "Requested value '%s' was not found. resetScope is a comma-separated combination of %s."
                             % (exc, ", ".join(simulation.RESTART_SCOPE_FLAGS))) from None
    return _job_action(request, lambda job, now, environment: job.runtime.restart(now, scope, environment))


# ---------------------------------------------------------------------------------------------
# Credentials: validateCredentials, secrets, acquireAccessToken
# ---------------------------------------------------------------------------------------------

def _credentials_dict(pairs):
    return {pair.get("key"): pair.get("value") for pair in pairs or [] if pair.get("key")}


def _validate(state, entry, body, store):
    if body.get("useSavedCredentials"):
        # "useSavedCredentials: true ignores credentials and validates the saved ones" (§3.4).
        secrets = dict(state.secrets)
    else:
        secrets = _credentials_dict(body.get("credentials"))
    problem = credential_problem(entry.credential_kind, secrets, service(store).scim_targets)
    if problem is None:
        return no_content()
    # The failure shape is undocumented (§3.4): we chose 400 CredentialValidationUnavailable with the
    # target-specific code in details (SRC-AGENT and AST-DOC, failure-vocabulary.md §3).
    raise GraphHttpError(400, "CredentialValidationUnavailable", problem.detail_message,
                         details=[{"code": problem.detail_code, "message": problem.message, "target": problem.target}])


def validate_job_credentials(request):
    root = _root(request)
    body = _checked_action(request, "validateCredentials", required=True, enum_status=500)
    with request.store.lock:
        job = _job(root, request)
        return _validate(root.state, job.entry, body, request.store)


def validate_credentials(request):
    """The collection-bound form (§1 row 9, E-XTS step 7): needs templateId."""
    root = _root(request)
    body = _checked_action(request, "validateCredentials", required=True, enum_status=500)
    template_id = body.get("templateId")
    if not template_id or (not body.get("useSavedCredentials") and body.get("credentials") is None):
        # SRC-AGENT: a body without templateId or credentials (failure-vocabulary.md §3).
        raise GraphHttpError(400, "RequestMissingRequiredParameter", "The request is missing a required parameter: templateId and credentials.")
    with request.store.lock:
        if template_id not in root.state.templates:
            raise GraphHttpError(400, "invalidRequest", "The templateId '%s' does not match any synchronization template of this application."
                                 % template_id)
        return _validate(root.state, root.state.templates[template_id], body, request.store)


def put_secrets(request):
    """PUT replaces the whole set; "" removes a key; keys are the synchronizationSecret enum (§3.4, §4.7)."""
    root = _root(request)
    body = _read_body(request)
    try:
        for name, value in body.items():
            if "@" in name:
                continue
            if name != "value":
                # Catches the docs' "credentials" parameter-table pitfall (§3.4).
                raise BodyError("The property '%s' does not exist on the secrets collection. The body is {\"value\": [{\"key\": ..., "
                                "\"value\": ...}]}." % name)
            check_value(value, ["synchronizationSecretKeyStringValuePair"], "value")
    except BodyError as exc:
        raise GraphHttpError(400, "BadRequest", exc.message) from None
    if not isinstance(body.get("value"), list):
        raise GraphHttpError(400, "BadRequest", "The value property is required: {\"value\": [{\"key\": ..., \"value\": ...}]}.")
    for index, pair in enumerate(body["value"]):
        if not pair.get("key"):
            raise GraphHttpError(400, "BadRequest", "value[%d].key is required." % index)
    secrets = {}
    for pair in body["value"]:
        if pair.get("value") in (None, ""):
            secrets.pop(pair["key"], None)
        else:
            secrets[pair["key"]] = pair["value"]
    store = request.store
    with store.lock:
        _advance_all(store, root.state, request.clock.now())
        root.state.secrets = secrets
    return no_content()


def get_secrets(request):
    root = _root(request)
    with request.store.lock:
        masked = root.state.masked_keys()
        value = [{"key": key, "value": MASK if key in masked else secret} for key, secret in root.state.secrets.items()]
    return json_response({"@odata.context": _context_url(request, root, "secrets"), "value": value})


def acquire_access_token(request):
    """204 (§1 row 21). Docs are silent on its effect: we chose to check the body and change nothing."""
    _root(request)
    _checked_action(request, "acquireAccessToken")
    return no_content()


# ---------------------------------------------------------------------------------------------
# provisionOnDemand (§2.11)
# ---------------------------------------------------------------------------------------------

def _throttled(request):
    """None, or the 429 for the sixth call in 10 s (D1:provisionondemand), with the documented throttling
    body (§7.3); counted per calling app and tenant (docs are silent on the scope)."""
    sync_service = service(request.store)
    settings = sync_service.settings
    claims = request.claims or {}
    key = (claims.get("tid"), claims.get("appid") or claims.get("azp"))
    now = sync_service.monotonic()
    calls = [moment for moment in sync_service.provision_on_demand_calls.get(key, []) if now - moment < settings.provision_on_demand_window_seconds]
    if len(calls) >= settings.provision_on_demand_limit:
        retry_after = max(settings.provision_on_demand_window_seconds - (now - calls[0]), 0.001)
        sync_service.provision_on_demand_calls[key] = calls
        # Fractional seconds are allowed (C:throttling: "Retry-After: 2.128").
        return Response(429, throttled_body(request.context), {"Retry-After": ("%.3f" % retry_after).rstrip("0").rstrip(".")})
    calls.append(now)
    sync_service.provision_on_demand_calls[key] = calls
    return None


def provision_on_demand(request):
    root = _root(request)
    body = _checked_action(request, "provisionOnDemand", required=True)
    parameters = body.get("parameters") or []
    if not parameters or not (parameters[0].get("subjects") or []):
        raise GraphHttpError(400, "BadRequest", "parameters must hold one rule with at least one subject (§2.11).")
    store = request.store
    with store.lock:
        job = _job(root, request)
        throttled = _throttled(request)
        if throttled is not None:
            return throttled
        now = request.clock.now()
        _advance(store, root.state, job, now)
        rule = _find_rule(job.current_schema(), parameters[0].get("ruleId"))
        subject = parameters[0]["subjects"][0]
        if not subject.get("objectId"):
            raise GraphHttpError(400, "BadRequest", "parameters[0].subjects[0].objectId is required.")
        problem = credential_problem(job.entry.credential_kind, root.state.secrets, service(store).scim_targets)
        key, value = _provisioning_result(job, rule, subject, problem, now)
    return json_response({"@odata.context": "%s/$metadata#microsoft.graph.stringKeyStringValuePair" % request.base_url,
                          "key": json.dumps(key, separators=(",", ":")), "value": json.dumps(value, separators=(",", ":"))})


def _find_rule(schema, rule_id):
    rules = schema.get("synchronizationRules") or []
    for rule in rules:
        if rule.get("id") == rule_id:
            return rule
    if rules:
        raise GraphHttpError(400, "BadRequest", "The ruleId '%s' does not match any synchronization rule of the job's schema." % rule_id)
    # Docs are silent; templates printed with an empty schema accept any ruleId (our choice).
    return {}


def _provisioning_result(job, rule, subject, problem, now):
    """The key/value documents of §2.11 (job-provisionondemand.response.decoded.json shapes)."""
    object_id = subject["objectId"]
    type_name = subject.get("objectTypeName") or "User"
    source_system = rule.get("sourceDirectoryName") or "Azure Active Directory"
    target_system = rule.get("targetDirectoryName") or job.template_id
    target_type = type_name
    for mapping in rule.get("objectMappings") or []:
        if str(mapping.get("sourceObjectName") or "").lower() == type_name.lower() and mapping.get("enabled"):
            target_type = mapping.get("targetObjectName") or type_name
            break
    stamp = simulation.format_time(now)
    steps = [{"name": "EntryImport", "type": "Import", "status": "Success", "timestamp": stamp,
              "description": "Retrieved %s '%s' from %s" % (type_name, object_id, source_system), "details": {"objectId": object_id}}]
    subject_key = (type_name.lower(), object_id)
    if problem is not None:
        result = {"result": "Failure", "details": {"errorCode": problem.code, "errorMessage": problem.message}}
        steps.append({"name": "EntryExportAdd", "type": "Export", "status": "Failure", "timestamp": stamp, "description": problem.message,
                      "details": {"ErrorCode": problem.code}})
        action, status, target_id = "Other", "Failure", None
    elif subject_key in job.provisioned_subjects:
        # The documented Skipped/RedundantExport answer for a subject already in the target.
        message = "The state of the user in both the source and target systems already match."
        result = {"result": "Skipped", "details": {"errorCode": "RedundantExport", "errorMessage": message}}
        steps.append({"name": "EntrySynchronizationSkip", "type": "Export", "status": "Skipped", "timestamp": stamp,
                      "description": "%s No change to the %s '%s' currently needs to be made." % (message, type_name, object_id),
                      "details": {"SkipReason": "RedundantExport"}})
        action, status, target_id = "Other", "Skipped", str(uuid.uuid5(uuid.NAMESPACE_URL, job.id + "/" + object_id))
    else:
        result = {"result": "Success", "details": {}}
        steps.append({"name": "EntryImportAdd", "type": "Matching", "status": "Success", "timestamp": stamp,
                      "description": "%s '%s' will be created in %s (%s is not present in %s)" % (type_name, object_id, target_system,
                                                                                                  type_name, target_system), "details": {}})
        steps.append({"name": "EntrySynchronizationScoping", "type": "Scoping", "status": "Success", "timestamp": stamp,
                      "description": "Determine if %s in scope by evaluating against each scoping filter" % type_name,
                      "details": {"Assigned": "True", "IsActive": "True", "ScopeEvaluationResult": "{}"}})
        steps.append({"name": "EntryExportAdd", "type": "Export", "status": "Success", "timestamp": stamp,
                      "description": "%s '%s' was created in %s" % (type_name, object_id, target_system), "details": {}})
        job.provisioned_subjects.add(subject_key)
        action, status, target_id = "Create", "Success", str(uuid.uuid5(uuid.NAMESPACE_URL, job.id + "/" + object_id))
    value = {
        "action": action,
        "changeId": str(uuid.uuid4()),
        "endTime": stamp,
        "modifiedProperties": [{"displayName": "objectId", "oldValue": None, "newValue": object_id}],
        "provisioningSteps": steps,
        "reportableIdentifier": object_id,
        "startTime": stamp,
        "statusInfo": {"status": status, "errorCode": problem.code if problem else None, "reason": problem.message if problem else None,
                       "additionalDetails": None, "errorCategory": "NonServiceFailure" if problem else None, "recommendedAction": None},
        "sourceIdentity": {"id": object_id, "type": type_name, "displayName": None, "details": None},
        "sourceSystem": {"id": None, "name": source_system, "details": None},
        "targetIdentity": {"id": target_id, "type": target_type, "displayName": None, "details": None},
        "targetSystem": {"id": None, "name": target_system, "details": None},
    }
    return result, value


# ---------------------------------------------------------------------------------------------
# Templates (§3.5)
# ---------------------------------------------------------------------------------------------

def _metadata_for_version(metadata, api_version):
    """synchronizationMetadata keys: PascalCase in v1.0, lower camel in beta (§6)."""
    if api_version != "beta":
        return metadata
    result = []
    for entry in metadata:
        key = entry.get("key") or ""
        if key.lower() in _METADATA_KEYS_BY_LOWER:
            key = key[:1].lower() + key[1:]
        result.append({"key": key, "value": entry.get("value")})
    return result


def render_schema(schema_id, version, schema, context_url=None):
    body = {"@odata.context": context_url} if context_url else {}
    body.update({"id": schema_id, "version": version, "synchronizationRules": schema.get("synchronizationRules") or [],
                 "directories": schema.get("directories") or []})
    return body


def render_template(entry, api_version):
    body = dict(entry.template)
    body["metadata"] = _metadata_for_version(entry.template.get("metadata") or [], api_version)
    # "The template list includes the template's schema" (§3.5).
    body["schema"] = render_schema(entry.template_id + TEMPLATE_SCHEMA_ID_SUFFIX, entry.schema.get("version"), entry.schema)
    return body


def list_templates(request):
    root = _root(request)
    with request.store.lock:
        templates = [render_template(entry, request.api_version) for entry in root.state.templates.values()]
    return json_response(_paged(request, templates, _context_url(request, root, "templates")))


def get_template(request):
    root = _root(request)
    with request.store.lock:
        entry = _template(root, request.params["template_id"])
        body = {"@odata.context": _context_url(request, root, "templates/$entity")}
        body.update(render_template(entry, request.api_version))
    return json_response(body)


def update_template(request):
    """PUT/PATCH on the application's template: "Missing properties will be erased" (§1 row 15, D1:template-update)."""
    root = _root(request)
    body = _checked_entity(request, "synchronizationTemplate")
    template_id = request.params["template_id"]
    with request.store.lock:
        entry = _template(root, template_id)
        template = {"id": template_id, "applicationId": body.get("applicationId"), "default": bool(body.get("default", False)),
                    "description": body.get("description"), "discoverable": bool(body.get("discoverable", False)),
                    "factoryTag": body.get("factoryTag"), "metadata": list(body.get("metadata") or [])}
        # Docs are silent on the schema navigation property in this body: we chose to replace the
        # schema only when one is sent.
        schema = _schema_from_body(body["schema"]) if isinstance(body.get("schema"), dict) else None
        root.state.templates[template_id] = entry.replace(template=template, schema=schema)
    return no_content()


def create_template(request):
    """POST {app}/synchronization/templates (§1 row 16, metadata only; an old beta example)."""
    root = _root(request)
    body = _checked_entity(request, "synchronizationTemplate")
    template_id = body.get("id")
    if not template_id:
        raise GraphHttpError(400, "BadRequest", "The id property is required to create a synchronization template.")
    with request.store.lock:
        if template_id in root.state.templates:
            # Docs are silent: we chose 409 Conflict.
            raise GraphHttpError(409, "Conflict", "A synchronization template with id '%s' already exists." % template_id)
        factory_tag = body.get("factoryTag") or template_id
        # Docs are silent on the schema of a new template: the one sent, else the SCIM schema for a
        # CustomSCIM factory (the old beta example creates {"id": "SCIM-Test1", "factoryTag": "CustomSCIM"}), else empty.
        if isinstance(body.get("schema"), dict):
            schema = _schema_from_body(body["schema"])
        else:
            schema = catalog().schemas["scim" if factory_tag.lower() == "customscim" else "empty"]
        application_id = body.get("applicationId") or root.service_principal.get("appId")
        entry = generic_template_entry(template_id, application_id, schema, factory_tag)
        template = dict(entry.template)
        template.update({key: body[key] for key in ("default", "description", "discoverable", "metadata") if key in body})
        entry = entry.replace(template=template)
        root.state.templates[template_id] = entry
        result = {"@odata.context": _context_url(request, root, "templates/$entity")}
        result.update(render_template(entry, request.api_version))
    return json_response(result, status=201)


# ---------------------------------------------------------------------------------------------
# Schema (§2.8, §3.5)
# ---------------------------------------------------------------------------------------------

def _schema_from_body(body):
    # "PUT replaces the whole schema" (§2.8): properties not sent are erased.
    return {"version": body.get("version"), "synchronizationRules": body.get("synchronizationRules") or [],
            "directories": body.get("directories") or []}


def _new_schema_version(now):
    """"updated automatically with every schema change" (§2.8). Docs are silent on the form of a new
    version: we chose the Date/ActivityId form seen on directories (ISS-PS2643, scim-template-notes.md)."""
    return "Date:%s, ActivityId:%s" % (simulation.format_time(now), uuid.uuid4())


def _schema_target(request):
    """(root, job or None, template id or None) for the schema routes."""
    root = _root(request)
    if "job_id" in request.params:
        return root, _job(root, request), None
    template_id = request.params["template_id"]
    _template(root, template_id)
    return root, None, template_id


def get_schema(request):
    with request.store.lock:
        root, job, template_id = _schema_target(request)
        if job is not None:
            return json_response(render_schema(job.id, job.schema_version, job.current_schema(),
                                               _context_url(request, root, "jobs('%s')/schema/$entity" % job.id)))
        entry = root.state.templates[template_id]
        return json_response(render_schema(template_id + TEMPLATE_SCHEMA_ID_SUFFIX, entry.schema.get("version"), entry.schema,
                                           _context_url(request, root, "templates('%s')/schema/$entity" % template_id)))


def put_schema(request):
    if request.method == "PATCH" and service(request.store).settings.schema_patch == "reject":
        # What the service was observed to answer (ISS-PY820 and others, failure-vocabulary.md §3).
        raise GraphHttpError(404, "UnknownError", json.dumps({"Message": "No HTTP resource was found that matches the request URI "
                                                              "'https://syncfabric.windowsazure.com/api%s?api-version=2.0'." % request.path}))
    body = _checked_entity(request, "synchronizationSchema")
    store = request.store
    with store.lock:
        root, job, template_id = _schema_target(request)
        now = request.clock.now()
        schema = _schema_from_body(body)
        if job is not None:
            _advance(store, root.state, job, now)
            job.schema = schema
            job.schema_version = _new_schema_version(now)
        else:
            schema["version"] = _new_schema_version(now)
            root.state.templates[template_id] = root.state.templates[template_id].replace(schema=schema)
    return no_content()


def delete_schema(request):
    """DELETE resets the schema to the template's default (§2.8, D1:schema-delete); 204."""
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
                          "value": catalog().functions})


def parse_expression_action(request):
    """schema/parseExpression (§1 row 20; schema-parseexpression.*.json)."""
    with request.store.lock:
        _schema_target(request)
    body = _checked_action(request, "parseExpression", required=True)
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
    raise _not_found(directory_id)


def get_directory(request):
    with request.store.lock:
        directories = _directories(request)
        return json_response(_directory(directories, request.params["directory_id"]))


def discover_directory(request):
    """directories/{id}/discover (metadata only): the directory with a fresh discoveryDateTime.
    Docs are silent on discovery itself: we chose to return the known definition unchanged otherwise."""
    _checked_action(request, "discover")
    with request.store.lock:
        directories = _directories(request)
        directory = dict(_directory(directories, request.params["directory_id"]))
    directory["discoveryDateTime"] = simulation.format_time(request.clock.now())
    return json_response(directory)


# ---------------------------------------------------------------------------------------------
# Hooks the core calls
# ---------------------------------------------------------------------------------------------

def _new_state(service_principal, application_template):
    state = ServicePrincipalSynchronization(service_principal["id"])
    if application_template:
        application_id = application_template.get("id")
        for template_id in catalog().template_ids_for(application_template):
            state.templates[template_id] = catalog().entry(template_id, application_id)
    return state


def on_service_principal_created(store, service_principal, application_template):
    """Seed the SP's synchronization templates from its application template.

    Gallery templates map to their documented sync templates (data/templates.json); the
    non-gallery template gives ``scim`` (default) plus the legacy ``customappsso`` templates
    (scim-template-notes.md); an application template without "sync" in
    supportedProvisioningTypes gives none.
    """
    with store.lock:
        store.synchronization[service_principal["id"]] = _new_state(service_principal, application_template)


def on_service_principal_deleted(store, sp_id):
    with store.lock:
        state = store.synchronization.pop(sp_id, None)
        if state is not None:
            for job_id in state.jobs:
                store.created_at.pop(job_id, None)


def on_reset(store):
    """Forget this module's store-wide state (settings, SCIM targets, rate-limit counters).

    The emulator's reset clears ``store.synchronization``; this clears the rest.
    """
    with store.lock:
        store.synchronization_service = SynchronizationService()


def _seed_secrets(kind):
    """Valid credentials for the simulated target of ``kind`` (seeded jobs that run)."""
    return {
        "scim": {"BaseAddress": "https://scim.emulator.test/scim/v2", "SecretToken": "seeded-secret-token"},
        "salesforce": {"UserName": "admin@contoso.example", "Password": "seeded-password", "SecretToken": "seeded-security-token"},
        "box": {"SecretToken": "seeded-secret-token"},
        "aws": {"ClientSecret": "seeded-access-key", "SecretToken": "seeded-secret-key"},
        "azure2azure": {"CompanyId": "00000000-0000-4000-8000-000000000001", "AuthenticationType": "SyncPolicy"},
    }.get(kind, {"BaseAddress": "https://scim.emulator.test/scim/v2", "SecretToken": "seeded-secret-token"})


def _default_template_id(state):
    for template_id, entry in state.templates.items():
        if entry.template.get("default"):
            return template_id
    return next(iter(state.templates), None)


def seed_job(store, sp_id, template_id, state):
    """Create a job on ``sp_id`` whose history ends in ``state`` (simulation.SEED_STATES); returns its id.

    ``template_id`` None means the SP's default template. States other than ``not_configured``
    save valid credentials on the SP when it has none; ``quarantine`` shows the template's
    credential error and keeps failing until started or restarted. Cheap: no schema copies.
    """
    if state not in simulation.SEED_STATES:
        raise ValueError("unknown job state %r; expected one of %s" % (state, ", ".join(simulation.SEED_STATES)))
    with store.lock:
        service_principal = store.service_principals.get(sp_id)
        if service_principal is None:
            raise ValueError("unknown service principal %s" % sp_id)
        sync_state = state_for(store, service_principal)
        template_id = template_id or _default_template_id(sync_state) or "scim"
        if template_id not in sync_state.templates:
            application_id = service_principal.get("applicationTemplateId") or service_principal.get("appId")
            sync_state.templates[template_id] = catalog().entry(template_id, application_id)
        job = create_job_in_state(store, sync_state, template_id)
        # Seeded jobs exist already: no replication window.
        store.created_at.pop(job.id, None)
        kind = job.entry.credential_kind
        if state != "not_configured" and not sync_state.secrets:
            sync_state.secrets = _seed_secrets(kind)
        environment = simulation.CycleEnvironment(store.settings.cycle_seconds)
        # A seeded quarantine shows the error the template's target gives for missing credentials.
        problem = credential_problem(kind, {}, {}) or CredentialProblem(SCIM_INVALID_CREDENTIALS, "Please provide a valid tenant URL for your application.")
        simulation.seed_runtime(job.runtime, state, store.clock.now(), environment, failure=_cycle_failure(problem))
        return job.id


# ---------------------------------------------------------------------------------------------
# Control API (/_emulator/synchronization/...)
# ---------------------------------------------------------------------------------------------

def _control_body(request):
    """The body as a dict with snake_case keys, like the core's control API (camelCase is accepted too)."""
    body = request.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise GraphHttpError(400, "BadRequest", "The body must be a JSON object.")
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in body.items()}


def control_get_settings(request):
    return json_response(service(request.store).settings.to_dict())


def control_patch_settings(request):
    body = _control_body(request)
    settings = service(request.store).settings
    if "page_size" in body:
        size = body["page_size"]
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise GraphHttpError(400, "BadRequest", "page_size must be a positive integer or null.")
        settings.page_size = size
    if "schema_patch" in body:
        if body["schema_patch"] not in ("accept", "reject"):
            raise GraphHttpError(400, "BadRequest", "schema_patch must be 'accept' or 'reject'.")
        settings.schema_patch = body["schema_patch"]
    for name in ("provision_on_demand_limit", "provision_on_demand_window_seconds"):
        if name in body:
            try:
                setattr(settings, name, type(getattr(settings, name))(body[name]))
            except (TypeError, ValueError):
                raise GraphHttpError(400, "BadRequest", "%s must be a number." % name) from None
    return json_response(settings.to_dict())


def _advance_store(store, now):
    for state in store.synchronization.values():
        _advance_all(store, state, now)


def control_list_scim_targets(request):
    targets = service(request.store).scim_targets
    return json_response({"value": [{"base_address": address, "secret_token_count": len(tokens)} for address, tokens in sorted(targets.items())]})


def control_add_scim_target(request):
    """Register a simulated SCIM endpoint: ``{"base_address": ..., "secret_token": ...}`` (or ``secret_tokens: [...]``;
    an empty list rejects every token)."""
    body = _control_body(request)
    address = normalise_base_address(body.get("base_address"))
    if not address.startswith("https://"):
        raise GraphHttpError(400, "BadRequest", "base_address must be an https URL.")
    tokens = body.get("secret_tokens")
    if tokens is None:
        tokens = [body["secret_token"]] if body.get("secret_token") else []
    if not isinstance(tokens, list) or not all(isinstance(token, str) and token for token in tokens):
        raise GraphHttpError(400, "BadRequest", "secret_tokens must be a list of non-empty strings.")
    store = request.store
    with store.lock:
        # Jobs already due run their cycles against the targets as they were.
        _advance_store(store, request.clock.now())
        service(store).scim_targets[address] = frozenset(tokens)
    return json_response({"base_address": address, "secret_token_count": len(tokens)}, status=201)


def control_clear_scim_targets(request):
    store = request.store
    with store.lock:
        _advance_store(store, request.clock.now())
        service(store).scim_targets.clear()
    return no_content()


def _control_job(request):
    store = request.store
    service_principal = store.service_principals.get(request.params["sp_id"])
    if service_principal is None:
        raise _not_found(request.params["sp_id"])
    state = state_for(store, service_principal)
    job = state.jobs.get(request.params["job_id"])
    if job is None:
        raise _not_found(request.params["job_id"])
    return state, job


def control_quarantine_job(request):
    """Quarantine a job now (§9 "Quarantine injectable for tests"); body ``{reason?, code?, message?, tenant_actionable?}``.
    It keeps failing until start, or restart with QuarantineState, lifts it."""
    body = _control_body(request)
    reason = body.get("reason", "QuarantinedOnDemand")
    if reason not in _ENUMS["quarantineReason"]:
        raise GraphHttpError(400, "BadRequest", "reason must be one of %s." % ", ".join(sorted(_ENUMS["quarantineReason"])))
    failure = simulation.CycleFailure(reason, body.get("code", "QuarantinedOnDemand"),
                                      body.get("message", "We've detected an issue with your application and have manually set it to quarantine."),
                                      bool(body.get("tenant_actionable", True)))
    store = request.store
    with store.lock:
        state, job = _control_job(request)
        now = request.clock.now()
        _advance(store, state, job, now)
        job.runtime.force_quarantine(now, failure, _environment(store, state, job))
    return no_content()


def control_set_escrows(request):
    """Make ``{"count": N}`` entries fail in every later cycle (EntryLevelErrors) until restart with Escrows."""
    body = _control_body(request)
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise GraphHttpError(400, "BadRequest", "count must be a non-negative integer.")
    store = request.store
    with store.lock:
        state, job = _control_job(request)
        _advance(store, state, job, request.clock.now())
        job.runtime.escrowed = count
    return no_content()


def control_seed_job(request):
    """``{"template_id"?: ..., "state": ...}`` -> 201 with the job as Graph shows it."""
    body = _control_body(request)
    store = request.store
    try:
        job_id = seed_job(store, request.params["sp_id"], body.get("template_id"), body.get("state", "active"))
    except ValueError as exc:
        raise GraphHttpError(400, "BadRequest", str(exc)) from None
    with store.lock:
        state = store.synchronization[request.params["sp_id"]]
        return json_response(render_job(store, state, state.jobs[job_id], request.clock.now()), status=201)


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------

_SP_ROOT = "/servicePrincipals/{sp_id}/synchronization"
_APP_ROOT = "/applications/{app_id}/synchronization"


def _schema_routes(schema_path, writable):
    routes = [
        ("GET", schema_path, get_schema, SYNC_READ),
        ("GET", schema_path + "/filterOperators()", get_filter_operators, SYNC_READ),
        ("GET", schema_path + "/filterOperators", get_filter_operators, SYNC_READ),
        ("GET", schema_path + "/functions()", get_functions, SYNC_READ),
        ("GET", schema_path + "/functions", get_functions, SYNC_READ),
        ("POST", schema_path + "/parseExpression", parse_expression_action, SYNC_READ),
        ("GET", schema_path + "/directories", list_directories, SYNC_READ),
        ("GET", schema_path + "/directories/{directory_id}", get_directory, SYNC_READ),
        ("POST", schema_path + "/directories/{directory_id}/discover", discover_directory, SCHEMA_WRITE),
    ]
    if writable:
        routes += [
            ("PUT", schema_path, put_schema, SCHEMA_WRITE),
            # The docs use PUT; SDKs generate PATCH (§3.5): accepted unless schemaPatch is "reject".
            ("PATCH", schema_path, put_schema, SCHEMA_WRITE),
            ("DELETE", schema_path, delete_schema, SCHEMA_WRITE),
        ]
    return routes


def _routes():
    routes = []
    for root in (_SP_ROOT, _APP_ROOT):
        job = root + "/jobs/{job_id}"
        routes += [
            ("GET", root + "/jobs", list_jobs, SYNC_READ),
            ("GET", root + "/jobs/$count", count_jobs, SYNC_READ),
            ("POST", root + "/jobs", create_job, SYNC_WRITE),
            ("POST", root + "/jobs/validateCredentials", validate_credentials, VALIDATE_CREDENTIALS),
            ("GET", job, get_job, SYNC_READ),
            ("DELETE", job, delete_job, SYNC_WRITE),
            ("POST", job + "/start", start_job, SYNC_WRITE),
            ("POST", job + "/pause", pause_job, SYNC_WRITE),
            ("POST", job + "/restart", restart_job, SYNC_WRITE),
            ("POST", job + "/validateCredentials", validate_job_credentials, VALIDATE_CREDENTIALS),
            ("POST", job + "/provisionOnDemand", provision_on_demand, PROVISION_ON_DEMAND),
            ("GET", root + "/templates", list_templates, SYNC_READ),
            ("GET", root + "/templates/{template_id}", get_template, SYNC_READ),
            ("GET", root + "/secrets", get_secrets, SYNC_READ),
            ("PUT", root + "/secrets", put_secrets, SYNC_WRITE),
            ("POST", root + "/acquireAccessToken", acquire_access_token, SYNC_WRITE),
        ]
        routes += _schema_routes(job + "/schema", writable=True)
        # Template schemas are updated on the application only (§3.5, §8.12).
        routes += _schema_routes(root + "/templates/{template_id}/schema", writable=root == _APP_ROOT)
    routes += [
        ("POST", _APP_ROOT + "/templates", create_template, SYNC_WRITE),
        # The reference's request line says PATCH, its example PUT (§1 row 15): both.
        ("PUT", _APP_ROOT + "/templates/{template_id}", update_template, SYNC_WRITE),
        ("PATCH", _APP_ROOT + "/templates/{template_id}", update_template, SYNC_WRITE),
    ]
    return routes


ROUTES = _routes()

CONTROL_ROUTES = [
    ("GET", "/synchronization/settings", control_get_settings),
    ("PATCH", "/synchronization/settings", control_patch_settings),
    ("GET", "/synchronization/scimTargets", control_list_scim_targets),
    ("POST", "/synchronization/scimTargets", control_add_scim_target),
    ("DELETE", "/synchronization/scimTargets", control_clear_scim_targets),
    ("POST", "/synchronization/servicePrincipals/{sp_id}/jobs", control_seed_job),
    ("POST", "/synchronization/servicePrincipals/{sp_id}/jobs/{job_id}/quarantine", control_quarantine_job),
    ("POST", "/synchronization/servicePrincipals/{sp_id}/jobs/{job_id}/escrows", control_set_escrows),
]

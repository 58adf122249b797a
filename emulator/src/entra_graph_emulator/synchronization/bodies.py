"""Request bodies of the synchronization API, checked against their documented shapes [CSDL].

Unknown properties, wrong JSON kinds, malformed primitives and enum members outside the metadata
are rejected with the wording of Graph's OData reader.

Names in brackets, like [CSDL], are public pages listed in docs/synchronization.md#sources.
"""

import re

from ..framework import GraphHttpError
from .credentials import GUID_RE
from .credentials import SECRET_KEYS

_DURATION_RE = re.compile(r"^-?P([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+([.][0-9]+)?S)?)?$")
_DATETIME_RE = re.compile(r"^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?"
                          r"(Z|[+-][0-9][0-9]:[0-9][0-9])$")


_STRING = "Edm.String"
_BOOLEAN = "Edm.Boolean"
_INT32 = "Edm.Int32"
_INT64 = "Edm.Int64"
_DATETIME = "Edm.DateTimeOffset"
_DURATION = "Edm.Duration"
_GUID = "Edm.Guid"
_ANY = "any"

# Members of the enums request bodies use [CSDL].
ENUMS = {
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
# Enums parsed case-sensitively (secret keys, [CSDL]). The others accept any case: the
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

# Action parameters ([CSDL] request bodies).
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
    key is a 400 on PUT secrets and a 500 on validateCredentials, [observed errors]).
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
        _GUID: isinstance(value, str) and bool(GUID_RE.match(value)),
    }[edm_type]
    if not valid:
        # Values are not echoed: the property may hold a secret.
        raise BodyError("Cannot convert the %s given for property '%s' to the expected type '%s'." % (_json_type_name(value), where, edm_type))


def _check_enum(value, spec, where):
    kind, enum_name = spec
    if not isinstance(value, str):
        raise _node_error(value, "PrimitiveValue", where) if isinstance(value, (dict, list)) else BodyError(
            "Cannot convert the %s given for property '%s' to the expected type 'microsoft.graph.%s'." % (_json_type_name(value), where, enum_name))
    members = ENUMS[enum_name]
    strict = enum_name in _CASE_SENSITIVE_ENUMS
    lowered = {member.lower() for member in members}
    for member in value.split(",") if kind == "flags" else [value]:
        member = member.strip()
        if (member not in members) if strict else (member.lower() not in lowered):
            # The .NET enum parser's message [observed errors].
            raise BodyError("Requested value '%s' was not found. (property '%s', type 'microsoft.graph.%s')" % (member, where, enum_name), enum_name)


def read_body(request, required=True):
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


def checked_entity(request, type_name, required=True):
    body = read_body(request, required)
    try:
        check_object(body, type_name)
    except BodyError as exc:
        raise GraphHttpError(400, "BadRequest", exc.message) from None
    return body


def required_property(body, name, creating):
    """``body[name]``; 400 BadRequest naming the property when it is missing or empty (docs are silent on the message:
    our wording, for ``creating`` a job or a template)."""
    value = body.get(name)
    if not value:
        raise GraphHttpError(400, "BadRequest", "The %s property is required to create a %s." % (name, creating))
    return value


def checked_action(request, action, required=False, enum_status=None):
    """Action parameters; unknown parameters are rejected with OData's message."""
    body = read_body(request, required)
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
            # validateCredentials with a key outside the enum: 500 InternalError ([SCIM onboarding agent], [observed errors]).
            raise GraphHttpError(500, "InternalError", exc.message.split(" (property")[0]) from None
        raise GraphHttpError(400, "BadRequest", exc.message) from None
    return body

"""A JSON Schema for the SARIF 2.1.0 subset loadguard emits, built by the test suite.

Written from the OASIS SARIF 2.1.0 standard (sections 3.13-3.58): every
object lists the properties the standard defines for it and refuses others,
required properties and enumerations are the standard's. It does not cover
SARIF objects loadguard never writes (graphs, fixes, web requests ...);
those are rejected, so emitting one fails the tests until it is added here.
"""

from __future__ import annotations

from typing import Any

URI = {"type": "string", "minLength": 1}
LEVEL = {"enum": ["none", "note", "warning", "error"]}
PROPERTY_BAG = {
    "type": "object",
    "properties": {"tags": {"type": "array", "uniqueItems": True, "items": {"type": "string"}}},
}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {**properties, "properties": {"$ref": "#/definitions/propertyBag"}},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


DEFINITIONS: dict[str, Any] = {
    "propertyBag": PROPERTY_BAG,
    "message": {
        **_object(
            {
                "text": {"type": "string"},
                "markdown": {"type": "string"},
                "id": {"type": "string"},
                "arguments": {"type": "array", "items": {"type": "string"}},
            }
        ),
        "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
    },
    "multiformatMessageString": _object(
        {"text": {"type": "string"}, "markdown": {"type": "string"}}, ("text",)
    ),
    "artifactLocation": _object(
        {
            "uri": URI,
            "uriBaseId": {"type": "string"},
            "index": {"type": "integer", "minimum": -1},
            "description": {"$ref": "#/definitions/message"},
        }
    ),
    "artifactContent": _object(
        {"text": {"type": "string"}, "binary": {"type": "string"}, "rendered": {}}
    ),
    "region": _object(
        {
            "startLine": {"type": "integer", "minimum": 1},
            "startColumn": {"type": "integer", "minimum": 1},
            "endLine": {"type": "integer", "minimum": 1},
            "endColumn": {"type": "integer", "minimum": 1},
            "charOffset": {"type": "integer", "minimum": -1},
            "charLength": {"type": "integer", "minimum": 0},
            "byteOffset": {"type": "integer", "minimum": -1},
            "byteLength": {"type": "integer", "minimum": 0},
            "snippet": {"$ref": "#/definitions/artifactContent"},
            "message": {"$ref": "#/definitions/message"},
            "sourceLanguage": {"type": "string"},
        }
    ),
    "physicalLocation": {
        **_object(
            {
                "address": {"type": "object"},
                "artifactLocation": {"$ref": "#/definitions/artifactLocation"},
                "region": {"$ref": "#/definitions/region"},
                "contextRegion": {"$ref": "#/definitions/region"},
            }
        ),
        "anyOf": [{"required": ["address"]}, {"required": ["artifactLocation"]}],
    },
    "logicalLocation": _object(
        {
            "name": {"type": "string"},
            "index": {"type": "integer", "minimum": -1},
            "fullyQualifiedName": {"type": "string"},
            "decoratedName": {"type": "string"},
            "parentIndex": {"type": "integer", "minimum": -1},
            "kind": {"type": "string"},
        }
    ),
    "location": _object(
        {
            "id": {"type": "integer", "minimum": -1},
            "physicalLocation": {"$ref": "#/definitions/physicalLocation"},
            "logicalLocations": {
                "type": "array",
                "items": {"$ref": "#/definitions/logicalLocation"},
            },
            "message": {"$ref": "#/definitions/message"},
            "annotations": {"type": "array", "items": {"$ref": "#/definitions/region"}},
        }
    ),
    "threadFlowLocation": _object(
        {
            "index": {"type": "integer", "minimum": -1},
            "location": {"$ref": "#/definitions/location"},
            "kinds": {"type": "array", "items": {"type": "string"}},
            "module": {"type": "string"},
            "nestingLevel": {"type": "integer", "minimum": 0},
            "executionOrder": {"type": "integer", "minimum": -1},
            "executionTimeUtc": {"type": "string"},
            "importance": {"enum": ["important", "essential", "unimportant"]},
        }
    ),
    "threadFlow": _object(
        {
            "id": {"type": "string"},
            "message": {"$ref": "#/definitions/message"},
            "locations": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/definitions/threadFlowLocation"},
            },
        },
        ("locations",),
    ),
    "codeFlow": _object(
        {
            "message": {"$ref": "#/definitions/message"},
            "threadFlows": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/definitions/threadFlow"},
            },
        },
        ("threadFlows",),
    ),
    "suppression": _object(
        {
            "guid": {"type": "string"},
            "kind": {"enum": ["inSource", "external"]},
            "status": {"enum": ["accepted", "underReview", "rejected"]},
            "justification": {"type": "string"},
            "location": {"$ref": "#/definitions/location"},
        },
        ("kind",),
    ),
    "reportingConfiguration": _object(
        {
            "enabled": {"type": "boolean"},
            "level": LEVEL,
            "rank": {"type": "number", "minimum": -1, "maximum": 100},
            "parameters": {"$ref": "#/definitions/propertyBag"},
        }
    ),
    "reportingDescriptorReference": _object(
        {
            "id": {"type": "string"},
            "index": {"type": "integer", "minimum": -1},
            "guid": {"type": "string"},
        }
    ),
    "reportingDescriptor": _object(
        {
            "id": {"type": "string"},
            "deprecatedIds": {"type": "array", "items": {"type": "string"}},
            "guid": {"type": "string"},
            "name": {"type": "string"},
            "shortDescription": {"$ref": "#/definitions/multiformatMessageString"},
            "fullDescription": {"$ref": "#/definitions/multiformatMessageString"},
            "messageStrings": {"type": "object"},
            "defaultConfiguration": {"$ref": "#/definitions/reportingConfiguration"},
            "helpUri": URI,
            "help": {"$ref": "#/definitions/multiformatMessageString"},
        },
        ("id",),
    ),
    "notification": _object(
        {
            "locations": {"type": "array", "items": {"$ref": "#/definitions/location"}},
            "message": {"$ref": "#/definitions/message"},
            "level": LEVEL,
            "threadId": {"type": "integer"},
            "timeUtc": {"type": "string"},
            "exception": {"type": "object"},
            "descriptor": {"$ref": "#/definitions/reportingDescriptorReference"},
            "associatedRule": {"$ref": "#/definitions/reportingDescriptorReference"},
        },
        ("message",),
    ),
    "invocation": _object(
        {
            "commandLine": {"type": "string"},
            "arguments": {"type": "array", "items": {"type": "string"}},
            "startTimeUtc": {"type": "string"},
            "endTimeUtc": {"type": "string"},
            "exitCode": {"type": "integer"},
            "executionSuccessful": {"type": "boolean"},
            "toolExecutionNotifications": {
                "type": "array",
                "items": {"$ref": "#/definitions/notification"},
            },
            "toolConfigurationNotifications": {
                "type": "array",
                "items": {"$ref": "#/definitions/notification"},
            },
            "workingDirectory": {"$ref": "#/definitions/artifactLocation"},
        },
        ("executionSuccessful",),
    ),
    "toolComponent": _object(
        {
            "guid": {"type": "string"},
            "name": {"type": "string"},
            "organization": {"type": "string"},
            "fullName": {"type": "string"},
            "version": {"type": "string"},
            "semanticVersion": {"type": "string"},
            "informationUri": URI,
            "downloadUri": URI,
            "rules": {
                "type": "array",
                "uniqueItems": True,
                "items": {"$ref": "#/definitions/reportingDescriptor"},
            },
            "notifications": {
                "type": "array",
                "items": {"$ref": "#/definitions/reportingDescriptor"},
            },
            "shortDescription": {"$ref": "#/definitions/multiformatMessageString"},
            "fullDescription": {"$ref": "#/definitions/multiformatMessageString"},
        },
        ("name",),
    ),
    "result": _object(
        {
            "ruleId": {"type": "string"},
            "ruleIndex": {"type": "integer", "minimum": -1},
            "rule": {"$ref": "#/definitions/reportingDescriptorReference"},
            "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
            "level": LEVEL,
            "message": {"$ref": "#/definitions/message"},
            "locations": {"type": "array", "items": {"$ref": "#/definitions/location"}},
            "guid": {"type": "string"},
            "correlationGuid": {"type": "string"},
            "occurrenceCount": {"type": "integer", "minimum": 1},
            "partialFingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
            "fingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
            "codeFlows": {"type": "array", "items": {"$ref": "#/definitions/codeFlow"}},
            "relatedLocations": {"type": "array", "items": {"$ref": "#/definitions/location"}},
            "suppressions": {"type": "array", "items": {"$ref": "#/definitions/suppression"}},
            "baselineState": {"enum": ["new", "unchanged", "updated", "absent"]},
            "rank": {"type": "number", "minimum": -1, "maximum": 100},
        },
        ("message",),
    ),
    "run": _object(
        {
            "tool": _object(
                {
                    "driver": {"$ref": "#/definitions/toolComponent"},
                    "extensions": {"type": "array"},
                },
                ("driver",),
            ),
            "invocations": {"type": "array", "items": {"$ref": "#/definitions/invocation"}},
            "results": {"type": "array", "items": {"$ref": "#/definitions/result"}},
            "automationDetails": _object(
                {
                    "id": {"type": "string"},
                    "guid": {"type": "string"},
                    "description": {"$ref": "#/definitions/message"},
                }
            ),
            "originalUriBaseIds": {
                "type": "object",
                "additionalProperties": {"$ref": "#/definitions/artifactLocation"},
            },
            "artifacts": {"type": "array"},
            "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
            "language": {"type": "string"},
        },
        ("tool",),
    ),
}

SARIF_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "SARIF 2.1.0 (subset emitted by loadguard)",
    **_object(
        {
            "$schema": URI,
            "version": {"enum": ["2.1.0"]},
            "runs": {"type": ["array", "null"], "items": {"$ref": "#/definitions/run"}},
        },
        ("version", "runs"),
    ),
    "definitions": DEFINITIONS,
}

"""The policy's JSON Schema, generated from the registered strategies' parameter models."""

from __future__ import annotations

from typing import Any

from maskme.policy.privacy import PrivacyTargets, QuasiIdentifierRule
from maskme.strategies import available_strategies

__all__ = ["policy_json_schema"]


def _strategy_schema(name: str, params_schema: dict[str, Any]) -> dict[str, Any]:
    properties = {"strategy": {"const": name}, **params_schema.get("properties", {})}
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"strategy {name}",
        "properties": properties,
        "required": ["strategy", *params_schema.get("required", [])],
        "additionalProperties": False,
    }
    if params_schema.get("description"):
        schema["description"] = params_schema["description"]
    return schema


def policy_json_schema() -> dict[str, Any]:
    """Return a JSON Schema (draft 2020-12) that editors can use to check and complete policies."""
    definitions: dict[str, Any] = {}
    strategies = []
    for entry in available_strategies():
        params_schema = entry.strategy.Params.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(params_schema.pop("$defs", {}))
        strategies.append(_strategy_schema(entry.name, params_schema))
    key_source = {
        "type": "object",
        "description": "Where the secret comes from; a policy never contains the key itself.",
        "oneOf": [
            {"properties": {"env": {"type": "string", "minLength": 1}}, "required": ["env"],
             "additionalProperties": False},
            {"properties": {"file": {"type": "string", "minLength": 1}}, "required": ["file"],
             "additionalProperties": False},
        ],
    }
    field_list = {"type": "array", "items": {"type": "string", "minLength": 1}}
    privacy_schema = PrivacyTargets.model_json_schema(ref_template="#/$defs/{model}")
    definitions.update(privacy_schema.pop("$defs", {}))
    rule_schema = QuasiIdentifierRule.model_json_schema(ref_template="#/$defs/{model}")
    definitions.update(rule_schema.pop("$defs", {}))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://maskme.dev/schema/policy-v1.json",
        "title": "MaskMe policy",
        "type": "object",
        "required": ["version", "default"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "default": {
                "enum": ["keep", "drop"],
                "description": "What happens to fields the policy does not list.",
            },
            "keys": {"type": "object", "additionalProperties": key_source},
            "fields": {
                "type": "object",
                "description": "Field path (a.b, a[*].b) to strategy and parameters.",
                "additionalProperties": {
                    "oneOf": [
                        *strategies,
                        {
                            "enum": [schema["properties"]["strategy"]["const"] for schema in strategies],
                            "description": "A strategy name alone, for strategies without parameters.",
                        },
                    ]
                },
            },
            "quasi_identifiers": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    field_list,
                    {"type": "object", "additionalProperties": {"anyOf": [rule_schema, {"type": "null"}]}},
                ]
            },
            "sensitive_attributes": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    field_list,
                    {
                        "type": "object",
                        "additionalProperties": {
                            "type": ["object", "null"],
                            "properties": {
                                "kind": {"enum": ["categorical", "ordered"]},
                                "hierarchy": {"type": "string"},
                            },
                            "additionalProperties": False,
                        },
                    },
                ]
            },
            "privacy": privacy_schema,
            "missing_values": {
                "description": "Texts that mean a missing value (such as ? or N/A), besides "
                "null and the empty string.",
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                ],
            },
        },
        "$defs": definitions,
    }

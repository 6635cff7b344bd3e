"""JSON Schema for campaign and activity files, generated from the model (one source of truth).

Editors (VS Code YAML extension) read it through the `# yaml-language-server: $schema=` line.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from typing import Any, Literal, Union

from ..convert import SLUG_RE, field_shape, is_required
from ..model import Activity, Campaign, Slug, Url, When

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{1,2}-\d{1,2}$"}
WHEN = {
    "type": "string",
    "pattern": r"^\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{2}(:\d{2})?)?$",
    "description": "2022-09-15 09:30，或全天活动只写日期",
}


def type_schema(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return type_schema(args[0])
        return {"anyOf": [type_schema(a) for a in args]}
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin is list:
        return {"type": "array", "items": type_schema(typing.get_args(tp)[0])}
    if origin is dict:
        return {
            "type": "object",
            "propertyNames": {"pattern": SLUG_RE.pattern},
            "additionalProperties": type_schema(typing.get_args(tp)[1]),
        }
    if dataclasses.is_dataclass(tp):
        return object_schema(tp)
    return {
        str: {"type": "string", "minLength": 1},
        Slug: {"type": "string", "pattern": SLUG_RE.pattern},
        Url: {"type": "string", "format": "uri", "pattern": "^https?://"},
        int: {"type": "integer"},
        float: {"type": "number"},
        bool: {"type": "boolean"},
        date: DATE,
        When: WHEN,
    }[tp]


def object_schema(cls: Any) -> dict[str, Any]:
    hints, keys = field_shape(cls)
    props = {}
    required = []
    for key, fld in keys.items():
        prop = type_schema(hints[fld.name])
        prop["description"] = fld.metadata["doc"]
        props[key] = prop
        if is_required(fld):
            required.append(key)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    if cls.__name__ == "Text":  # theme: plain text or {text, tentative}
        return {"anyOf": [{"type": "string"}, out]}
    return out


def schema(kind: str) -> dict[str, Any]:
    cls = {"campaign": Campaign, "activity": Activity}[kind]
    body = object_schema(cls)
    title = "kepu-calendar 活动总文件 campaign.yml" if kind == "campaign" else "kepu-calendar 活动文件"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **body}

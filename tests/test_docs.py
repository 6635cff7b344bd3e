"""Every YAML field the model accepts is documented in the editing guide (content/guide.md),
so adding a field to generator/model.py without telling staff fails here."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

from generator.convert import field_shape
from generator.model import Activity, Brand, Campaign

GUIDE = Path(__file__).resolve().parent.parent / "content" / "guide.md"


def yaml_fields(cls: type, seen: set[type] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if cls in seen:
        return set()
    seen.add(cls)
    hints, keys = field_shape(cls)
    out = set(keys)
    for fld in keys.values():
        stack = [hints[fld.name]]
        while stack:  # walk Optional, list[...], dict[..., X] and unions down to dataclasses
            tp = stack.pop()
            if dataclasses.is_dataclass(tp):
                out |= yaml_fields(tp, seen)
            elif typing.get_origin(tp) in (list, dict, typing.Union, types.UnionType):
                stack.extend(typing.get_args(tp))
    return out


def test_every_yaml_field_is_in_the_editing_guide():
    guide = GUIDE.read_text(encoding="utf-8")
    fields = yaml_fields(Campaign) | yaml_fields(Activity) | yaml_fields(Brand)
    assert len(fields) > 60, sorted(fields)
    missing = sorted(f for f in fields if f"`{f}`" not in guide)
    assert not missing, f"fields not explained in content/guide.md: {missing}"

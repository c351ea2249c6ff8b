"""The order in which a template's resources are created: each after those it refers to."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambda_trace.local.intrinsics import TemplateError


def creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids with every resource after the ones it refers to (Ref, GetAtt, Sub, DependsOn)."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str, chain: tuple[str, ...]) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            cycle = " -> ".join((*chain, logical_id))
            raise TemplateError(f"circular dependency between resources: {cycle}")
        state[logical_id] = "visiting"
        for dependency in sorted(_dependencies(resources[logical_id]) & set(resources)):
            visit(dependency, (*chain, logical_id))
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in resources:
        if isinstance(resources[logical_id], Mapping):
            visit(logical_id, ())
    return order


def _dependencies(resource: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    depends = resource.get("DependsOn") or []
    found.update([depends] if isinstance(depends, str) else [str(d) for d in depends])

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            if "Ref" in value and isinstance(value["Ref"], str):
                found.add(value["Ref"])
            getatt = value.get("Fn::GetAtt")
            if isinstance(getatt, list) and getatt:
                found.add(str(getatt[0]))
            elif isinstance(getatt, str):
                found.add(getatt.split(".", 1)[0])
            sub = value.get("Fn::Sub")
            text = sub[0] if isinstance(sub, list) and sub else sub
            if isinstance(text, str):
                for name in _sub_names(text):
                    found.add(name.split(".", 1)[0])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(resource.get("Properties") or {})
    return found


def _sub_names(text: str) -> list[str]:
    return [m for m in re.findall(r"\$\{([^}!][^}]*)\}", text) if not m.startswith("AWS::")]

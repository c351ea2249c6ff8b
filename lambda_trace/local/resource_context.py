"""What every resource's create function shares: the clients, the resolver, the notes of what
was not created, and the conversions of CloudFormation property values into API values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Callable

from lambda_trace.local import return_values
from lambda_trace.local.intrinsics import Resolver

#: What a create function records: "Ref" and the Fn::GetAtt attributes.
Values = dict[str, str]


class Context:
    """The clients (one per service), the resolver, and the notes of what was not created."""

    def __init__(self, client: Callable[[str], Any], resolver: Resolver) -> None:
        self._client = client
        self._clients: dict[str, Any] = {}
        self.resolver = resolver
        self.notes: list[tuple[str, str, str]] = []

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client(service)
        return self._clients[service]

    @property
    def stack(self) -> str:
        return self.resolver.stack_name


def predicted(context: Context, logical_id: str) -> Values:
    """Ref and the documented attributes, computed from the name (for types named by us)."""
    resolver = context.resolver
    type_ = str(resolver.resources[logical_id].get("Type"))
    name = resolver.physical_name(logical_id)
    values = {"Ref": return_values.ref(type_, name, resolver.where)}
    for attribute in return_values.attributes(type_):
        value = return_values.get_att(type_, name, attribute, resolver.where)
        if value is not None:
            values[attribute] = value
    return values


def as_bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def as_text(value: Any) -> str:
    """An attribute value as the API wants it ("true"/"false" for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


#: A create function: (context, logical id, resolved properties, physical name) -> its values.
Creator = Callable[[Context, str, Mapping[str, Any], str], Values]

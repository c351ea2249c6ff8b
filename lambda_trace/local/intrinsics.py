"""Resolve CloudFormation intrinsic functions to local values.

Parameters take their overrides or defaults, checked against their Type and constraints;
pseudo parameters name a fixed local account and region; ``Ref`` and ``Fn::GetAtt`` of a
resource return what CloudFormation returns for its type (see ``return_values``): computed from
its Name property (``BucketName``, a secret's ``Name``...) or a deterministic local name, and
replaced by what the service answered once the runner has created it, so the values a function
reads from its environment are those of the resources the runner provisions.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, Optional

from lambda_trace.local import return_values
from lambda_trace.local.return_values import NAME_PROPERTY, Where, default_name

#: The account and region every local resource lives in (moto's default account).
LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "us-east-1"


class TemplateError(Exception):
    """The template cannot be read or resolved locally; the message says where."""


class _NoValue:
    """``AWS::NoValue``: the property is removed."""


NO_VALUE = _NoValue()

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsics against one template's parameters, conditions and resources."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        parameters: Optional[Mapping[str, str]] = None,
        stack_name: str = "lambda-trace",
        region: str = LOCAL_REGION,
        account: str = LOCAL_ACCOUNT,
        physical: Optional[Mapping[str, Mapping[str, str]]] = None,
    ) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.stack_name = stack_name
        self.region = region
        self.account = account
        self.where = Where(region, account)
        declared = template.get("Parameters") or {}
        #: AWS::SSM::Parameter::Value<...> parameters not given with -p: their Default is an
        #: SSM parameter's name, which CloudFormation reads at deploy time; locally it is not
        self._ssm_references = {
            name: str(spec.get("Type"))
            for name, spec in declared.items()
            if isinstance(spec, Mapping)
            and str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value<")
            and name not in (parameters or {})
        }
        self._parameters = {
            name: value
            for name, value in parameter_values(declared, parameters or {}).items()
            if name not in self._ssm_references
        }
        #: logical id -> {"Ref": ..., attribute: ...} as the service answered when the runner
        #: created the resource; these win over the predictions in ``return_values``
        self.physical: dict[str, dict[str, str]] = {k: dict(v) for k, v in (physical or {}).items()}
        self._names: dict[str, str] = {}
        self._resolving: set[str] = set()

    def resolve(self, value: Any, where: str = "") -> Any:
        """``value`` with every intrinsic evaluated; ``NO_VALUE`` for ``AWS::NoValue``."""
        if isinstance(value, Mapping):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                    return self._intrinsic(key, arg, where)
            out = {}
            for key, item in value.items():
                resolved = self.resolve(item, f"{where}.{key}" if where else str(key))
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = [self.resolve(item, f"{where}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not NO_VALUE]
        return value

    def resolve_str(self, value: Any, where: str) -> str:
        resolved = self.resolve(value, where)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, (str, int, float)):
            return str(resolved)
        raise TemplateError(f"{where}: expected a string, got {type(resolved).__name__}")

    def active(self, logical_id: str) -> bool:
        """False for a resource whose ``Condition`` is false (CloudFormation skips it)."""
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping) or "Condition" not in resource:
            return True
        return self.condition(str(resource["Condition"]), f"Resources.{logical_id}.Condition")

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: its Name property (``BucketName``, ``Name``...) or a local one."""
        if logical_id in self._names:
            return self._names[logical_id]
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping):
            raise TemplateError(f"Ref to unknown resource or parameter {logical_id!r}")
        if logical_id in self._resolving:
            raise TemplateError(f"circular reference through {logical_id!r}")
        self._resolving.add(logical_id)
        try:
            type_ = str(resource.get("Type", ""))
            props = resource.get("Properties") or {}
            explicit = props.get(NAME_PROPERTY.get(type_, ""))
            if explicit is not None:
                name = self.resolve_str(explicit, f"Resources.{logical_id}.Properties")
            else:
                fifo = props.get("FifoQueue", props.get("FifoTopic", False))
                fifo = self.resolve(fifo, f"Resources.{logical_id}.Properties")
                name = default_name(type_, self.stack_name, logical_id, str(fifo).lower() == "true")
        finally:
            self._resolving.discard(logical_id)
        self._names[logical_id] = name
        return name

    def ref(self, name: str, where: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._ssm_references:
            raise TemplateError(
                f"{where}: parameter {name} is an SSM parameter reference "
                f"({self._ssm_references[name]}); give its value with -p {name}=VALUE"
            )
        if name in (self.template.get("Parameters") or {}):
            raise TemplateError(f"template parameter {name} has no default: give it a value")
        resource = self._resource(name, where, "Ref")
        if "Ref" in self.physical.get(name, {}):
            return self.physical[name]["Ref"]
        return return_values.ref(str(resource.get("Type")), self.physical_name(name), self.where)

    def get_att(self, logical_id: str, attribute: str, where: str) -> Any:
        resource = self._resource(logical_id, where, "Fn::GetAtt")
        type_ = str(resource.get("Type"))
        if attribute in self.physical.get(logical_id, {}):
            return self.physical[logical_id][attribute]
        value = return_values.get_att(type_, self.physical_name(logical_id), attribute, self.where)
        if value is not None:
            return value
        # Registry resource types also return their own properties (SSM Parameter's Value/Type).
        props = resource.get("Properties") or {}
        if attribute in props:
            return self.resolve(props[attribute], f"Resources.{logical_id}.Properties.{attribute}")
        raise TemplateError(
            f"{where}: cannot resolve Fn::GetAtt {logical_id}.{attribute} ({type_}) locally"
        )

    def _resource(self, logical_id: str, where: str, function: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping):
            what = "resource or parameter" if function == "Ref" else "resource"
            raise TemplateError(f"{where}: {function} to unknown {what} {logical_id!r}")
        if not self.active(logical_id):
            raise TemplateError(
                f"{where}: {function} to {logical_id}, which is not created "
                f"(its condition {resource['Condition']} is false)"
            )
        return resource

    def condition(self, name: str, where: str) -> bool:
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"{where}: unknown condition {name!r}")
        return bool(self.resolve(conditions[name], f"Conditions.{name}"))

    # -- the functions -------------------------------------------------------------------------

    def _intrinsic(self, key: str, arg: Any, where: str) -> Any:
        if key == "Ref":
            return self.ref(str(arg), where)
        if key == "Condition":
            return self.condition(str(arg), where)
        handler = getattr(self, "_fn_" + key[len("Fn::") :].lower(), None)
        if handler is None:
            raise TemplateError(f"{where}: {key} cannot be resolved locally")
        return handler(arg, where)

    def _fn_getatt(self, arg: Any, where: str) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError(f"{where}: malformed Fn::GetAtt {arg!r}")
        return self.get_att(str(arg[0]), str(self.resolve(arg[1], where)), where)

    def _fn_sub(self, arg: Any, where: str) -> str:
        variables: Mapping[str, Any] = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], Mapping):
                raise TemplateError(f"{where}: malformed Fn::Sub")
            text, variables = arg[0], arg[1]
        else:
            text = arg
        if not isinstance(text, str):
            raise TemplateError(f"{where}: Fn::Sub needs a string")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is written as ${Literal}
            if name in variables:
                return self.resolve_str(variables[name], where)
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute, where))
            value = self.ref(name, where)
            return "" if value is NO_VALUE else str(value)

        return _SUB_VAR.sub(substitute, text)

    def _fn_join(self, arg: Any, where: str) -> str:
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError(f"{where}: malformed Fn::Join")
        items = self.resolve(arg[1], where)
        if not isinstance(items, list):
            raise TemplateError(f"{where}: Fn::Join needs a list")
        return str(arg[0]).join(str(item) for item in items)

    def _fn_select(self, arg: Any, where: str) -> Any:
        index, items = (self.resolve(part, where) for part in arg)
        try:
            return items[int(index)]
        except (TypeError, ValueError, IndexError) as exc:
            raise TemplateError(f"{where}: Fn::Select {index!r} out of range") from exc

    def _fn_split(self, arg: Any, where: str) -> list[str]:
        delimiter, text = arg[0], self.resolve_str(arg[1], where)
        return text.split(str(delimiter))

    def _fn_if(self, arg: Any, where: str) -> Any:
        name, then, otherwise = arg
        return self.resolve(then if self.condition(str(name), where) else otherwise, where)

    def _fn_equals(self, arg: Any, where: str) -> bool:
        left, right = (self.resolve(part, where) for part in arg)
        return str(left) == str(right)

    def _fn_not(self, arg: Any, where: str) -> bool:
        return not self.resolve(arg[0], where)

    def _fn_and(self, arg: Any, where: str) -> bool:
        return all(self.resolve(part, where) for part in arg)

    def _fn_or(self, arg: Any, where: str) -> bool:
        return any(self.resolve(part, where) for part in arg)

    def _fn_findinmap(self, arg: Any, where: str) -> Any:
        mapping, top, second = (self.resolve_str(part, where) for part in arg[:3])
        try:
            return self.template["Mappings"][mapping][top][second]
        except (KeyError, TypeError) as exc:
            raise TemplateError(
                f"{where}: Fn::FindInMap {mapping}/{top}/{second} not found"
            ) from exc

    def _fn_base64(self, arg: Any, where: str) -> str:
        return base64.b64encode(self.resolve_str(arg, where).encode()).decode()

    def _fn_getazs(self, arg: Any, where: str) -> list[str]:
        return [f"{self.region}{zone}" for zone in "abc"]


#: Parameter types whose value is a list (``Ref`` gives a list).
_LIST_TYPES = ("CommaDelimitedList", "List<")


def parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Each parameter's value (override, else Default), checked as CloudFormation checks it.

    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
    ``Type`` (String, Number, List<Number>, CommaDelimitedList, AWS-specific types),
    ``AllowedValues``, ``AllowedPattern``, ``MinLength``/``MaxLength``, ``MinValue``/``MaxValue``;
    a value that fails says why, with the parameter's ``ConstraintDescription`` when it has one.
    """
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, Mapping) else {}
        if name in overrides:
            value: Any = overrides[name]
            origin = "-p"
        elif "Default" in spec:
            value = spec["Default"]
            origin = "default"
        else:
            continue  # an error only if something uses it (see ``Resolver.ref``)
        values[name] = _checked(name, spec, value, origin)
    return values


def _checked(name: str, spec: Mapping[str, Any], value: Any, origin: str) -> Any:
    type_ = str(spec.get("Type", "String"))
    is_list = type_.startswith(_LIST_TYPES)
    if is_list:
        items = [str(v).strip() for v in value] if isinstance(value, list) else None
        items = items if items is not None else [v.strip() for v in str(value).split(",")]
    else:
        items = ["true" if value is True else "false" if value is False else str(value)]
    numeric = type_ in ("Number", "List<Number>")
    for item in items:
        problem = _problem(spec, item, numeric)
        if problem:
            hint = spec.get("ConstraintDescription")
            raise TemplateError(
                f"parameter {name} ({origin}): {item!r} {problem}" + (f" ({hint})" if hint else "")
            )
    return items if is_list else items[0]


def _problem(spec: Mapping[str, Any], item: str, numeric: bool) -> Optional[str]:
    """Why ``item`` is not a valid value for this parameter, or None."""
    if numeric:
        try:
            number = float(item)
        except ValueError:
            return "is not a Number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"is less than MinValue {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"is more than MaxValue {spec['MaxValue']}"
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and item not in [str(a) for a in allowed]:
        return f"is not one of the AllowedValues ({', '.join(str(a) for a in allowed)})"
    pattern = spec.get("AllowedPattern")
    if isinstance(pattern, str) and re.fullmatch(pattern, item) is None:
        return f"does not match AllowedPattern {pattern}"
    if "MinLength" in spec and len(item) < int(spec["MinLength"]):
        return f"is shorter than MinLength {spec['MinLength']}"
    if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
        return f"is longer than MaxLength {spec['MaxLength']}"
    return None

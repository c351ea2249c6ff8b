"""Resolve CloudFormation intrinsic functions to local values.

Parameters take their overrides or defaults; pseudo parameters name a fixed local account and
region; a resource's ``Ref`` becomes a deterministic local name (an explicit ``BucketName`` /
``TableName`` / ``FunctionName`` when the template gives one), so the names a function reads
from its environment are the names the runner provisions in moto.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, Optional

#: The account and region every local resource lives in (moto's default account).
LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "us-east-1"


class TemplateError(Exception):
    """The template cannot be read or resolved locally; the message says where."""


class _NoValue:
    """``AWS::NoValue``: the property is removed."""


NO_VALUE = _NoValue()

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")

#: resource type -> the property that names it explicitly
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


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
    ) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.stack_name = stack_name
        self.region = region
        self.account = account
        self._parameters = self._parameter_values(parameters or {})
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

    def physical_name(self, logical_id: str) -> str:
        """What ``Ref`` returns for a named resource, locally."""
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
            explicit = props.get(_NAME_PROPERTY.get(type_, ""))
            if explicit is not None:
                name = self.resolve_str(explicit, f"{logical_id}.Properties")
            else:
                name = f"{self.stack_name}-{logical_id}"
                if type_ == "AWS::S3::Bucket":
                    name = name.lower()  # bucket names are lowercase only
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
        if name in (self.template.get("Parameters") or {}):
            raise TemplateError(f"template parameter {name} has no default: give it a value")
        resource = self.resources.get(name)
        if not isinstance(resource, Mapping):
            raise TemplateError(f"{where}: Ref to unknown resource or parameter {name!r}")
        type_ = resource.get("Type")
        physical = self.physical_name(name)
        if type_ == "AWS::Lambda::LayerVersion":
            return f"arn:aws:lambda:{self.region}:{self.account}:layer:{physical}:1"
        if type_ == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{physical}"
        if type_ == "AWS::SNS::Topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{physical}"
        return physical

    def get_att(self, logical_id: str, attribute: str, where: str) -> str:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping):
            raise TemplateError(f"{where}: Fn::GetAtt of unknown resource {logical_id!r}")
        type_ = resource.get("Type")
        name = self.physical_name(logical_id)
        arns = {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}",
            "AWS::Lambda::Function": (
                f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
            ),
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{self.region}:{self.account}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{self.region}:{self.account}:{name}",
        }
        if attribute == "Arn" and type_ in arns:
            return arns[str(type_)]
        if attribute in ("Name", "TableName", "BucketName", "QueueName", "RoleName"):
            return name
        raise TemplateError(
            f"{where}: cannot resolve Fn::GetAtt {logical_id}.{attribute} ({type_}) locally"
        )

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

    def _fn_getatt(self, arg: Any, where: str) -> str:
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
                return self.get_att(logical_id, attribute, where)
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

    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        declared = self.template.get("Parameters") or {}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in overrides:
                value: Any = overrides[name]
            elif isinstance(spec, Mapping) and "Default" in spec:
                value = spec["Default"]
            else:
                continue  # an error only if something uses it (see ``ref``)
            if (isinstance(spec, Mapping) and str(spec.get("Type", "")).startswith("List<")) or (
                isinstance(spec, Mapping) and spec.get("Type") == "CommaDelimitedList"
            ):
                value = value if isinstance(value, list) else str(value).split(",")
            values[name] = value
        return values

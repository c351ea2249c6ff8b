"""Read a SAM template.yaml into what the local runner needs for each function.

The template goes through the real SAM transform (aws-sam-translator, offline), so Globals,
policy templates (``S3ReadPolicy``...) and defaults mean exactly what they mean on deploy; the
resulting CloudFormation is then resolved locally (see ``intrinsics``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lambda_trace.local.intrinsics import (
    LOCAL_ACCOUNT,
    LOCAL_REGION,
    Resolver,
    TemplateError,
    parameter_values,
)
from lambda_trace.local.resource_storage import table_params

__all__ = ["FunctionSpec", "RoleSpec", "Template", "TemplateError", "load", "sam_transform"]

#: Lambda's defaults when the template says nothing.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
#: Where CodeUri/ContentUri point during the transform (the translator wants S3 locations).
_PLACEHOLDER_BUCKET = "lambda-trace-local-code"


@dataclass(frozen=True)
class RoleSpec:
    """A function's execution role as deployed: trust policy, managed and inline policies."""

    logical_id: str
    name: str
    assume_role_policy: dict[str, Any]
    managed_policy_arns: tuple[str, ...] = ()
    #: (policy name, policy document) with intrinsics resolved
    inline_policies: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    """One function's settings, as Lambda would run it."""

    logical_id: str
    name: str
    handler: str
    code_dir: Path
    runtime: str
    memory_mb: int
    timeout_s: float
    environment: dict[str, str] = field(default_factory=dict)
    log_format: str = "Text"
    application_log_level: Optional[str] = None
    system_log_level: str = "INFO"
    log_group: str = ""
    tracing_active: bool = False
    role: Optional[RoleSpec] = None
    version: str = "$LATEST"
    region: str = LOCAL_REGION
    account: str = LOCAL_ACCOUNT

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def handler_module(self) -> Path:
        """The file that must define the handler function."""
        module = self.handler.rsplit(".", 1)[0]
        return self.code_dir / (module.replace(".", "/") + ".py")


@dataclass(frozen=True)
class Template:
    """A resolved template: functions plus the storage resources they use."""

    path: Path
    functions: dict[str, FunctionSpec]
    #: logical id -> bucket name
    buckets: dict[str, str]
    #: logical id -> CreateTable parameters (CloudFormation's property names are the API's)
    tables: dict[str, dict[str, Any]]
    #: the transformed (CloudFormation) template, unresolved
    cloudformation: dict[str, Any]
    #: the template as written (before the SAM transform)
    source: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    stack_name: str = "lambda-trace"
    #: logical id -> {"Ref": ..., attribute: ...} of resources the runner created
    physical: dict[str, dict[str, str]] = field(default_factory=dict)

    def function(self, name: str) -> FunctionSpec:
        """The function with this logical id or function name."""
        if name in self.functions:
            return self.functions[name]
        for spec in self.functions.values():
            if spec.name == name:
                return spec
        known = ", ".join(sorted(self.functions)) or "none"
        raise TemplateError(f"no function {name!r} in {self.path} (functions: {known})")

    def resolver(self, physical: Optional[Mapping[str, Mapping[str, str]]] = None) -> Resolver:
        """A resolver over the transformed template, with the given created resources."""
        return Resolver(
            self.cloudformation,
            parameters=self.parameters,
            stack_name=self.stack_name,
            physical=physical if physical is not None else self.physical,
        )

    def rebind(self, physical: Mapping[str, Mapping[str, str]]) -> Template:
        """The same template with Ref/GetAtt answered by the resources the runner created."""
        return _resolve(
            self.path, self.source, self.cloudformation, self.parameters, self.stack_name, physical
        )


def read_yaml(path: Path) -> dict[str, Any]:
    """A CloudFormation/SAM YAML (or JSON) file, short-form tags (``!Ref``) included."""
    from cfn_tools import load_yaml  # cfn-flip: understands !Ref, !Sub, !GetAtt...

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror or exc}") from exc
    try:
        data = load_yaml(text)
    except Exception as exc:
        raise TemplateError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("Resources"), Mapping):
        raise TemplateError(f"{path} has no Resources section")
    plain: dict[str, Any] = json.loads(json.dumps(data))  # plain dicts, no OrderedDict subclasses
    return plain


def sam_transform(
    template: Mapping[str, Any],
    *,
    parameters: Optional[Mapping[str, str]] = None,
    region: str = LOCAL_REGION,
) -> dict[str, Any]:
    """The CloudFormation that ``sam deploy`` would create, computed offline.

    Local CodeUri/ContentUri paths become ``s3://`` placeholders (the translator only accepts S3
    locations) and the managed-policy lookup knows no names (it would need an account), so
    ``Policies`` may name SAM policy templates and full ARNs but not bare managed-policy names.
    """
    doc: dict[str, Any] = copy.deepcopy(dict(template))
    if "AWS::Serverless-2016-10-31" not in _transforms(doc):
        return doc
    import boto3
    from samtranslator.metrics.metrics import Metrics
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    for logical_id, resource in doc["Resources"].items():
        props = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(props, dict):
            continue
        key = {
            "AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri",
        }.get(resource.get("Type", ""))
        if key and isinstance(props.get(key), str) and not props[key].startswith("s3://"):
            props[key] = f"s3://{_PLACEHOLDER_BUCKET}/{logical_id}.zip"

    # The translator asks a boto3 session for the region (no network) and keeps it class-wide.
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    values: dict[str, Any] = {"AWS::AccountId": LOCAL_ACCOUNT, **(parameters or {})}
    metrics = Metrics()  # published to nowhere; unpublished ones warn at exit
    translator = Translator(
        None, Parser(), boto_session=boto3.session.Session(region_name=region), metrics=metrics
    )
    try:
        translated: dict[str, Any] = translator.translate(doc, values, get_managed_policy_map=dict)
        return translated
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes) or str(exc)
        raise TemplateError(f"SAM transform failed: {causes}") from exc
    finally:
        metrics.publish()


def load(
    path: Path,
    *,
    parameters: Optional[Mapping[str, str]] = None,
    stack_name: str = "lambda-trace",
    physical: Optional[Mapping[str, Mapping[str, str]]] = None,
) -> Template:
    """Read, transform and resolve ``path``; CodeUri paths are relative to its directory."""
    path = Path(path)
    source = read_yaml(path)
    parameters = dict(parameters or {})
    # Checked before the transform, which would otherwise trip over a bad value first.
    parameter_values(source.get("Parameters") or {}, parameters)
    cloudformation = sam_transform(source, parameters=parameters)
    return _resolve(path, source, cloudformation, parameters, stack_name, physical or {})


def _resolve(
    path: Path,
    source: dict[str, Any],
    cloudformation: dict[str, Any],
    parameters: dict[str, str],
    stack_name: str,
    physical: Mapping[str, Mapping[str, str]],
) -> Template:
    resolver = Resolver(
        cloudformation, parameters=parameters, stack_name=stack_name, physical=physical
    )
    base = path.resolve().parent
    functions: dict[str, FunctionSpec] = {}
    buckets: dict[str, str] = {}
    tables: dict[str, dict[str, Any]] = {}
    for logical_id, resource in cloudformation["Resources"].items():
        type_ = resource.get("Type") if isinstance(resource, dict) else None
        if not resolver.active(logical_id):
            continue
        if type_ == "AWS::Lambda::Function":
            code_uri = _code_uri(source, logical_id)
            functions[logical_id] = _function(logical_id, resource, code_uri, base, resolver)
        elif type_ == "AWS::S3::Bucket":
            buckets[logical_id] = resolver.physical_name(logical_id)
        elif type_ == "AWS::DynamoDB::Table":
            props = resolver.resolve(resource.get("Properties") or {}, f"Resources.{logical_id}")
            tables[logical_id] = table_params(props, resolver.physical_name(logical_id))
    return Template(
        path,
        functions,
        buckets,
        tables,
        cloudformation,
        source=source,
        parameters=dict(parameters),
        stack_name=stack_name,
        physical={k: dict(v) for k, v in physical.items()},
    )


def _function(
    logical_id: str, resource: dict[str, Any], code_uri: Any, base: Path, resolver: Resolver
) -> FunctionSpec:
    where = f"Resources.{logical_id}"
    props = resource.get("Properties") or {}
    handler = props.get("Handler")
    runtime = str(props.get("Runtime", ""))
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{where}: Handler must look like module.function, not {handler!r}")
    if not runtime.startswith("python"):
        raise TemplateError(f"{where}: only Python runtimes run locally, not {runtime or 'none'!r}")
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise TemplateError(f"{where}: CodeUri must be a local directory to run it locally")
    name = resolver.physical_name(logical_id)
    env = props.get("Environment", {}).get("Variables") or {}
    environment = {
        str(key): resolver.resolve_str(value, f"{where}.Environment.Variables.{key}")
        for key, value in resolver.resolve(env, where).items()
    }
    logging = resolver.resolve(props.get("LoggingConfig") or {}, f"{where}.LoggingConfig")
    log_format = str(logging.get("LogFormat", "Text"))
    if log_format not in ("Text", "JSON"):
        raise TemplateError(f"{where}: LoggingConfig.LogFormat must be Text or JSON")
    is_json = log_format == "JSON"
    tracing = resolver.resolve(props.get("TracingConfig") or {}, where).get("Mode")
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        handler=handler,
        code_dir=(base / code_uri).resolve(),
        runtime=runtime,
        memory_mb=int(_number(resolver, props, "MemorySize", DEFAULT_MEMORY_MB, where)),
        timeout_s=_number(resolver, props, "Timeout", DEFAULT_TIMEOUT_S, where),
        environment=environment,
        log_format=log_format,
        # Log levels apply to JSON format only (Lambda rejects them with Text).
        application_log_level=str(logging.get("ApplicationLogLevel", "INFO")) if is_json else None,
        system_log_level=str(logging.get("SystemLogLevel", "INFO")) if is_json else "INFO",
        log_group=str(logging.get("LogGroup") or f"/aws/lambda/{name}"),
        tracing_active=tracing == "Active",
        role=_role(props.get("Role"), resolver, where),
        region=resolver.region,
        account=resolver.account,
    )


def _number(
    resolver: Resolver, props: Mapping[str, Any], key: str, default: float, where: str
) -> float:
    value = resolver.resolve(props.get(key, default), f"{where}.{key}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0 or (key == "MemorySize" and not number.is_integer()):
        raise TemplateError(f"{where}: {key} must be a positive number, not {value!r}")
    return number


def _role(role: Any, resolver: Resolver, where: str) -> Optional[RoleSpec]:
    # SAM writes Role as {"Fn::GetAtt": [<RoleLogicalId>, "Arn"]} for the role it generates;
    # a literal ARN is a role managed elsewhere, which the runner cannot reproduce.
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        return None
    logical_id = role["Fn::GetAtt"][0]
    resource = resolver.resources.get(logical_id) or {}
    if resource.get("Type") != "AWS::IAM::Role":
        return None
    props = resolver.resolve(resource.get("Properties") or {}, f"Resources.{logical_id}")
    inline = tuple(
        (str(p.get("PolicyName")), dict(p.get("PolicyDocument") or {}))
        for p in props.get("Policies") or []
    )
    return RoleSpec(
        logical_id=logical_id,
        name=resolver.physical_name(logical_id),
        assume_role_policy=dict(props.get("AssumeRolePolicyDocument") or {}),
        managed_policy_arns=tuple(str(arn) for arn in props.get("ManagedPolicyArns") or []),
        inline_policies=inline,
    )


def _code_uri(source: Mapping[str, Any], logical_id: str) -> Any:
    """The function's CodeUri as written (before the transform), Globals included."""
    resource = source["Resources"].get(logical_id) or {}
    props = resource.get("Properties") or {}
    if "CodeUri" in props:
        return props["CodeUri"]
    globals_ = ((source.get("Globals") or {}).get("Function")) or {}
    return globals_.get("CodeUri", props.get("Code"))


def _transforms(template: Mapping[str, Any]) -> list[str]:
    value = template.get("Transform")
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []

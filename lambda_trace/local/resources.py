"""Create the resources a template declares, in dependency order, the way CloudFormation would.

Each supported type maps its CloudFormation properties onto the service's create call (the
property names mostly are the API's) and records what the service answered: ``Ref`` and the
``Fn::GetAtt`` attributes (a queue's URL and ARN, a secret's ARN with its random suffix, a KMS
key's id, a table's stream ARN). Those answers are resolved into the resources created after
them (a queue's ``RedrivePolicy`` naming its DLQ's ARN, a subscription naming a topic) and into
the functions' environment. Creating twice is harmless: an existing resource is looked up.

Types the runner does not create are reported by name, once, instead of failing at first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from lambda_trace.local import resource_messaging as messaging
from lambda_trace.local import resource_secrets as secrets
from lambda_trace.local import resource_storage as storage
from lambda_trace.local.intrinsics import Resolver, TemplateError
from lambda_trace.local.resource_context import Context, Creator, Values
from lambda_trace.local.resource_order import creation_order

__all__ = ["HANDLED_LOCALLY", "SUPPORTED", "Provisioned", "Values", "discover", "provision"]


#: Types the runner itself stands in for: nothing to create.
HANDLED_LOCALLY = frozenset(
    {
        "AWS::Lambda::Function",  # runs in the local runtime
        "AWS::IAM::Role",  # created when a function's credentials are issued
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::LayerVersion",  # the local runtime imports from your environment
    }
)


@dataclass
class Provisioned:
    """What ``provision`` did."""

    #: logical id -> {"Ref": ..., attribute: ...}
    physical: dict[str, Values] = field(default_factory=dict)
    #: logical ids created (or found already there), in creation order
    created: list[str] = field(default_factory=list)
    #: (logical id, type, why) of resources not created
    skipped: list[tuple[str, str, str]] = field(default_factory=list)

    def skipped_line(self) -> str:
        """One line naming what was not provisioned (empty when everything was)."""
        if not self.skipped:
            return ""
        parts = [f"{logical_id} ({type_}{': ' + why if why else ''})"
                 for logical_id, type_, why in self.skipped]  # fmt: skip
        return "not provisioned locally: " + ", ".join(parts)


def provision(client: Callable[[str], Any], resolver: Resolver) -> Provisioned:
    """Create every supported resource of ``resolver``'s template; ``client(service)`` is boto3's.

    The resolver's ``physical`` map fills as resources are created, so later properties resolve
    to the real values.
    """
    out = Provisioned()
    context = Context(client, resolver)
    resources = resolver.resources
    for logical_id in creation_order(resources):
        resource = resources[logical_id]
        type_ = str(resource.get("Type", ""))
        if type_ in HANDLED_LOCALLY or not resolver.active(logical_id):
            continue
        create = _CREATORS.get(type_)
        if create is None:
            out.skipped.append((logical_id, type_, ""))
            continue
        where = f"Resources.{logical_id}.Properties"
        props = resolver.resolve(resource.get("Properties") or {}, where)
        name = resolver.physical_name(logical_id)
        try:
            values = create(context, logical_id, props, name)
        except TemplateError:
            raise
        except Exception as exc:  # a service refusal: say which resource, in one line
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TemplateError(f"cannot create {logical_id} ({type_}): {message}") from exc
        resolver.physical[logical_id] = values
        out.physical[logical_id] = values
        out.created.append(logical_id)
    out.skipped.extend(context.notes)
    return out


def discover(client: Callable[[str], Any], resolver: Resolver) -> dict[str, Values]:
    """The values of resources that already exist at the endpoint (``--endpoint-url`` without
    ``--provision``): what names cannot predict, a secret's full ARN, a KMS key's id (of a key
    this runner created, found by its tag), a table's stream ARN. Missing ones are skipped."""
    from botocore.exceptions import BotoCoreError, ClientError

    context = Context(client, resolver)
    found: dict[str, Values] = {}
    lookups: dict[str, Callable[[Context, str, str], Values | None]] = {
        "AWS::SecretsManager::Secret": secrets.find_secret,
        "AWS::KMS::Key": secrets.find_key,
        "AWS::DynamoDB::Table": storage.find_table,
        "AWS::SQS::Queue": messaging.find_queue,
    }
    for logical_id, resource in resolver.resources.items():
        lookup = lookups.get(str(resource.get("Type"))) if isinstance(resource, Mapping) else None
        if lookup is None or not resolver.active(logical_id):
            continue
        try:
            values = lookup(context, logical_id, resolver.physical_name(logical_id))
        except (BotoCoreError, ClientError):
            continue
        if values:
            found[logical_id] = values
    return found


_CREATORS: dict[str, Creator] = {
    "AWS::S3::Bucket": storage.create_bucket,
    "AWS::DynamoDB::Table": storage.create_table,
    "AWS::SQS::Queue": messaging.create_queue,
    "AWS::SNS::Topic": messaging.create_topic,
    "AWS::SNS::Subscription": messaging.create_subscription,
    "AWS::SecretsManager::Secret": secrets.create_secret,
    "AWS::SSM::Parameter": secrets.create_parameter,
    "AWS::KMS::Key": secrets.create_key,
    "AWS::KMS::Alias": secrets.create_alias,
    "AWS::Events::EventBus": messaging.create_event_bus,
    "AWS::Events::Rule": messaging.create_rule,
    "AWS::Logs::LogGroup": storage.create_log_group,
}

#: The types ``provision`` creates.
SUPPORTED = frozenset(_CREATORS)

"""Provisioning a template's resources at the test moto server, for the resource tests."""

from __future__ import annotations

from typing import Any

from lambda_trace.local.intrinsics import Resolver
from lambda_trace.local.provision import Account
from lambda_trace.local.resources import Provisioned, provision


def provision_in(
    moto: Any, resources: dict[str, Any], **kwargs: Any
) -> tuple[Account, Resolver, Provisioned]:
    """Provision ``resources`` (a template's Resources, stack \"t\") in ``moto``."""
    account = Account(moto.endpoint)
    resolver = Resolver({"Resources": resources}, stack_name="t", **kwargs)
    return account, resolver, provision(account.client, resolver)

"""A local AWS account: create a template's resources, give each function its role's credentials.

With IAM enforced (moto's ``/moto-api/reset-auth``), every request must be signed by a known
principal and is checked against its policies, so a function runs with exactly the permissions
its template grants, and a missing action comes back as a real AccessDenied over HTTP. The
runner's own calls (log delivery, seeding) use a separate local administrator.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional

from lambda_trace.local.resources import Provisioned, provision
from lambda_trace.local.template import FunctionSpec, RoleSpec, Template

ADMIN_USER = "lambda-trace-local-admin"
#: Services for which moto checks a policy's Resource against the request's resource. For the
#: others it compares with "*", which no resource-scoped statement matches.
_RESOURCE_AWARE = frozenset({"s3", "sqs", "iam", "sts"})
_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class Credentials:
    """An access key (and session token for a role) to sign requests with."""

    access_key_id: str
    secret_access_key: str
    session_token: Optional[str] = None

    def env(self) -> dict[str, str]:
        """As the environment variables Lambda sets for a function's role."""
        out = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            out["AWS_SESSION_TOKEN"] = self.session_token
        return out

    def client_kwargs(self) -> dict[str, str]:
        out = {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }
        if self.session_token:
            out["aws_session_token"] = self.session_token
        return out


#: moto accepts any key while IAM is not enforced; these are never valid anywhere else.
FAKE_CREDENTIALS = Credentials("testing", "testing", "testing")


class Account:
    """One local AWS account at ``endpoint_url`` (a moto server), seen by its administrator."""

    def __init__(self, endpoint_url: str, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.admin = FAKE_CREDENTIALS
        self.iam_enforced = False

    def client(self, service: str, credentials: Optional[Credentials] = None) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            **(credentials or self.admin).client_kwargs(),
        )

    def create_admin(self) -> Credentials:
        """An IAM user allowed everything: the runner's own identity once IAM is enforced."""
        iam = self.client("iam")
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER, PolicyName="allow-all", PolicyDocument=json.dumps(_ALLOW_ALL)
        )
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self.admin = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        return self.admin

    def create_resources(self, template: Template) -> Provisioned:
        """The template's resources (existing ones are kept); see ``resources``."""
        return provision(self.client, template.resolver())

    def create_role(self, role: RoleSpec) -> str:
        """The role with its trust policy and inline policies; returns its ARN."""
        iam = self.client("iam")
        try:
            arn = iam.create_role(
                RoleName=role.name, AssumeRolePolicyDocument=json.dumps(role.assume_role_policy)
            )["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = iam.get_role(RoleName=role.name)["Role"]["Arn"]
        for name, document in role.inline_policies:
            # SAM's policy templates carry no Version; IAM then assumes 2008-10-17, moto refuses.
            document = {"Version": "2012-10-17", **_for_moto(document)}
            iam.put_role_policy(
                RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document)
            )
        # The managed policies SAM adds (logs, X-Ray) cover calls these functions never make
        # locally; moto may not know them, so they are not attached.
        return str(arn)

    def role_credentials(self, function: FunctionSpec) -> Credentials:
        """Temporary credentials of the function's execution role (what Lambda gives it).

        Called before IAM is enforced: the trust policy names lambda.amazonaws.com, which the
        local administrator is not.
        """
        if function.role is None:
            return self.admin
        arn = self.create_role(function.role)
        sts = self.client("sts")
        creds = sts.assume_role(RoleArn=arn, RoleSessionName=function.name[:64])["Credentials"]
        return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def reset(self) -> None:
        """Forget every resource (moto's ``/moto-api/reset``)."""
        self._moto_api("reset", b"")

    def enforce_iam(self, enforced: bool = True) -> None:
        """Turn moto's IAM checks on (every later request is authenticated) or off."""
        self._moto_api("reset-auth", b"0" if enforced else b"inf")
        self.iam_enforced = enforced

    def _moto_api(self, action: str, body: bytes) -> None:
        # A form content type (urllib's default) would hide the body from moto's request.data.
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/{action}",
            data=body,
            method="POST",
            headers={"Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


def _for_moto(document: dict[str, Any]) -> dict[str, Any]:
    """The policy with Resource widened to "*" where moto cannot check resources.

    Actions stay exactly as the template grants them (that is what the permission sample
    needs); resource scoping is kept for the services moto does check (S3 among them).
    """
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    out: list[dict[str, Any]] = []
    for statement in statements:
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else list(actions)
        aware = [a for a in actions if a.split(":", 1)[0].lower() in _RESOURCE_AWARE]
        blind = [a for a in actions if a not in aware]
        if aware or not blind:
            out.append({**statement, "Action": aware or actions})
        if blind:
            out.append({**statement, "Action": blind, "Resource": "*"})
    return {**document, "Statement": out}

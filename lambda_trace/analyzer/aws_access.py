"""AWS clients for the metrics and configuration checks, and the rule for a call that fails.

The log reader turns every failure into a fatal ``CliError``; these checks are extras around
the logs, so a call the caller may not make (``AccessDenied``) or that the endpoint does not
implement skips that one check with one line saying why, and the report goes on. Only an
unusable session (no credentials, no region, an unreachable endpoint) is fatal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer.cloudwatch import (
    _BAD_CREDENTIALS,
    _DENIED,
    _EXPIRED,
    AWS_EXIT_CODE,
    SDK_MAX_ATTEMPTS,
    _code_and_message,
)
from lambda_trace.analyzer.errors import CliError

#: Codes that mean "there is none" rather than "you may not look" (GetPolicy answers 404 when a
#: function has no resource policy; S3 answers NoSuchBucket).
NOT_FOUND = frozenset({
    "ResourceNotFoundException", "NoSuchEntity", "NoSuchBucket", "NotFoundException",
    "NoSuchEntityException", "404",
})


class CheckSkipped(Exception):
    """A call was refused or is not available: the check that needed it is skipped."""

    def __init__(self, action: str, code: str, message: str) -> None:
        super().__init__(f"{action} failed ({code}): {message}")
        self.action, self.code, self.message = action, code, message


class NotFound(Exception):
    """The resource does not exist (a function without a resource policy, say)."""


@dataclass
class AwsAccess:
    """One session's clients, and a count of the calls made (the report says what it cost)."""

    region: Optional[str] = None
    profile: Optional[str] = None
    endpoint_url: Optional[str] = None
    requests: int = 0
    _session: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            if self._session is None:
                self._session = boto3.session.Session(
                    profile_name=self.profile, region_name=self.region
                )
            region = self._session.region_name or os.environ.get("AWS_REGION") or None
            self._clients[service] = self._session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": SDK_MAX_ATTEMPTS},
                    connect_timeout=10,
                    read_timeout=60,
                    user_agent_extra="lambda-trace",
                ),
            )
        return self._clients[service]

    @property
    def region_name(self) -> str:
        for client in self._clients.values():
            return str(client.meta.region_name)
        return self.region or os.environ.get("AWS_REGION") or "us-east-1"

    def call(self, service: str, operation: str, action: str, **params: Any) -> dict[str, Any]:
        """``client.operation(**params)``; ``action`` is the IAM action, for the skip line.

        Raises ``NotFound`` for a missing resource, ``CheckSkipped`` for a refused or
        unsupported call, ``CliError`` (exit 3) when AWS cannot be used at all.
        """
        from botocore import exceptions as bx

        try:
            client = self.client(service)
            self.requests += 1
            return dict(getattr(client, operation)(**params))
        except bx.ClientError as exc:
            err = exc.response.get("Error", {})
            code, message = _code_and_message(
                str(err.get("Code", "")), str(err.get("Message", "") or exc)
            )
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in NOT_FOUND or (status == 404 and code not in _DENIED):
                raise NotFound(f"{code}: {message}") from None
            if code in _EXPIRED:
                raise CliError(
                    f"the AWS credentials have expired ({code}): refresh them and try again",
                    AWS_EXIT_CODE,
                ) from None
            if code in _BAD_CREDENTIALS:
                raise CliError(
                    f"AWS did not accept the credentials ({code}): {message}", AWS_EXIT_CODE
                ) from None
            short = " ".join(message.split())[:160]
            if code in _DENIED or status == 403:
                raise CheckSkipped(action, code or "AccessDenied", f"denied: {short}") from None
            raise CheckSkipped(action, code or str(status), short) from None
        except bx.NoCredentialsError:
            raise CliError(
                "no AWS credentials found: pass --profile, or set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", AWS_EXIT_CODE,
            ) from None
        except bx.NoRegionError:
            raise CliError(
                "no AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION)",
                AWS_EXIT_CODE,
            ) from None
        except bx.ProfileNotFound:
            raise CliError(f"AWS profile {self.profile!r} is not configured", AWS_EXIT_CODE) \
                from None
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as exc:
            raise CliError(f"cannot reach AWS: {exc}", AWS_EXIT_CODE) from None
        except bx.BotoCoreError as exc:
            # e.g. an operation this botocore does not know, or a response it cannot parse
            raise CheckSkipped(action, type(exc).__name__, str(exc)[:160]) from None

"""Everything a template's functions need on a laptop: AWS (moto), data, credentials, services.

``LocalWorld`` starts an embedded moto server (or uses a given endpoint), creates the resources
the template declares (``resources``) and resolves the functions' environment against them,
seeds the sample data (sample template only) and the user's ``--seed`` file, gives each
function its role's credentials and turns on IAM checks, and starts the loopback price service
when the template asks for a ``PriceApiUrl``. Then ``runner(name)`` hands out a ``Runner``
wired to all of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from lambda_trace.local import seed as seed_module
from lambda_trace.local import user_seed
from lambda_trace.local.logsink import LogSink
from lambda_trace.local.price_service import PriceService
from lambda_trace.local.provision import FAKE_CREDENTIALS, Account, Credentials
from lambda_trace.local.resources import Provisioned, discover
from lambda_trace.local.runner import Runner
from lambda_trace.local.template import Template, load, read_yaml

#: The template parameter that names PriceQuote's external service.
PRICE_API_PARAMETER = "PriceApiUrl"


class LocalWorld:
    """A local account for one template; use as a context manager."""

    def __init__(
        self,
        template_path: Path,
        *,
        parameters: Optional[Mapping[str, str]] = None,
        endpoint_url: Optional[str] = None,
        provision: Optional[bool] = None,
        enforce_iam: Optional[bool] = None,
        seed_file: Optional[Path] = None,
    ) -> None:
        self.template_path = Path(template_path)
        self.parameters = dict(parameters or {})
        self.external_endpoint = endpoint_url
        #: create resources, seed data and roles (default: only in an embedded moto)
        self.provision = endpoint_url is None if provision is None else provision
        self.enforce_iam = self.provision if enforce_iam is None else enforce_iam
        self.template: Optional[Template] = None
        self.account: Optional[Account] = None
        self.price_service: Optional[PriceService] = None
        self.seeded: dict[str, int] = {}
        #: a ``seed(session)`` script run against the endpoint before any invocation
        self.seed_file = seed_file
        #: what provisioning created and what it could not (None when not provisioning)
        self.provisioned: Optional[Provisioned] = None
        self._moto: Any = None
        self._credentials: dict[str, Credentials] = {}

    @property
    def endpoint_url(self) -> str:
        assert self.account is not None, "use LocalWorld as a context manager"
        return self.account.endpoint_url

    def __enter__(self) -> LocalWorld:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        declared = read_yaml(self.template_path).get("Parameters") or {}
        if PRICE_API_PARAMETER in declared and PRICE_API_PARAMETER not in self.parameters:
            self.price_service = PriceService()
            self.parameters[PRICE_API_PARAMETER] = self.price_service.url
        self.template = source = load(self.template_path, parameters=self.parameters)
        endpoint = self.external_endpoint or self._start_moto()
        self.account = account = Account(endpoint)
        if self.provision:
            if self.enforce_iam:
                account.create_admin()
            self.provisioned = account.create_resources(source)
            # Ref/GetAtt now give what the services answered (a secret's full ARN, a key id).
            self.template = source = source.rebind(self.provisioned.physical)
            if seed_module.applies_to(source):
                self.seeded = seed_module.seed(account, source)
        elif self.external_endpoint:
            # Resources made earlier (by --provision, or by you): their real ARNs and ids.
            self.template = source = source.rebind(discover(account.client, source.resolver()))
        if self.seed_file is not None:
            user_seed.run(self.seed_file, account)
        if self.provision and self.enforce_iam:
            # Roles are assumed before IAM is on: their trust policy names Lambda, not us.
            for logical_id, spec in source.functions.items():
                self._credentials[logical_id] = account.role_credentials(spec)
            account.enforce_iam()

    def _start_moto(self) -> str:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on our output
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        return f"http://{host}:{port}"

    def credentials(self, function: str) -> Credentials:
        """The function's role credentials (or the fake ones when IAM is not enforced)."""
        assert self.template is not None
        spec = self.template.function(function)
        return self._credentials.get(spec.logical_id, FAKE_CREDENTIALS)

    def runner(self, function: str, sinks: Sequence[LogSink] = (), **options: Any) -> Runner:
        """A runner for ``function`` (logical id or name) with its AWS endpoint and credentials."""
        assert self.template is not None and self.account is not None
        spec = self.template.function(function)
        return Runner(
            spec,
            sinks=sinks,
            endpoint_url=self.account.endpoint_url,
            credentials=self.credentials(spec.logical_id).env(),
            **options,
        )

    def client(self, service: str) -> Any:
        """A boto3 client of the local administrator (allowed everything)."""
        assert self.account is not None
        return self.account.client(service)

    def close(self) -> None:
        # moto keeps its state and its IAM switch per Python process, not per server: leave
        # them as we found them, or another server in this process inherits them.
        if self.account is not None and self.account.iam_enforced:
            self.account.enforce_iam(False)
        if self._moto is not None:
            if self.account is not None:
                self.account.reset()
            self._moto.stop()
            self._moto = None
        if self.price_service is not None:
            self.price_service.close()
            self.price_service = None

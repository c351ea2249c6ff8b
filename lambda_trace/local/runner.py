"""Run one function the way Lambda does: a real runtime process, its limits, and its log lines.

An *execution environment* is one ``python -m awslambdaric <handler>`` process, talking to its
own ``RuntimeAPIServer``, writing to its own log stream. It is kept warm between invocations
(frozen with SIGSTOP while idle, as Lambda freezes it) and thrown away after a timeout, an
out-of-memory kill or a crash, so the next invocation is a cold start in a fresh process.

Limits: the timeout is a SIGKILL at the deadline. The memory size is enforced by polling the
process tree's resident memory every few milliseconds and SIGKILLing it over the limit (there is
no cgroup here; ``RLIMIT_AS`` would fail allocations instead of killing, which is not what Lambda
does). Platform lines follow docs/formats.md; see ``platform_log``.

Here are the phases (init, invoke, the suppressed init) and the log events they write; the
process and its pipes are ``execution_environment``, the variables it starts with
``runtime_variables``, and what an invocation returns ``invoke_result``.
"""

from __future__ import annotations

import json
import signal
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

from lambda_trace.local import memory
from lambda_trace.local.execution_environment import Environment, new_log_stream, spawn
from lambda_trace.local.invoke_result import OUTCOMES, InvokeResult
from lambda_trace.local.invoke_result import exit_reason as exit_reason_of
from lambda_trace.local.logsink import LogSink
from lambda_trace.local.platform_log import PlatformLog, Report, XRay
from lambda_trace.local.runtime_api import Invocation, RuntimeAPIServer, RuntimeMessage
from lambda_trace.local.runtime_variables import (
    RUNTIME_VERSION,
    environment_variables,
    runtime_version_arn,
)
from lambda_trace.local.template import FunctionSpec
from lambda_trace.logevent import LogEvent

__all__ = ["INIT_TIMEOUT_S", "MAX_EVENT_CHARS", "OUTCOMES", "InvokeResult", "Runner"]

#: Lambda's limit on the init phase (docs/formats.md §1.5).
INIT_TIMEOUT_S = 10.0
#: Lambda splits longer lines into several events of this size (docs/formats.md §8, observed).
MAX_EVENT_CHARS = 262_119

@dataclass(frozen=True)
class _Request:
    """One invocation's input, as the Runtime API will hand it over."""

    request_id: str
    payload: bytes
    client_context: Optional[str] = None  # JSON text
    cognito_identity: Optional[str] = None  # JSON text


@dataclass
class _InitOutcome:
    ok: bool
    duration_ms: float
    status: Optional[str] = None  # "error" | "timeout" when not ok
    error_type: Optional[str] = None


class Runner:
    """Invokes one function's handler in local execution environments, one at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        sinks: Sequence[LogSink] = (),
        endpoint_url: Optional[str] = None,
        credentials: Optional[Mapping[str, str]] = None,
        extra_env: Optional[Mapping[str, str]] = None,
        python: Optional[str] = None,
        poll_interval_s: float = 0.005,
        init_timeout_s: float = INIT_TIMEOUT_S,
        freeze: bool = True,
    ) -> None:
        self.spec = spec
        self.sinks = list(sinks)
        self.endpoint_url = endpoint_url
        self.credentials = dict(credentials or {})
        self.extra_env = dict(extra_env or {})
        self.python = python or sys.executable
        self.poll_interval_s = poll_interval_s
        self.init_timeout_s = init_timeout_s
        self.freeze = freeze and hasattr(signal, "SIGSTOP")
        self.platform = PlatformLog(spec.log_format, spec.system_log_level)
        self._env: Optional[Environment] = None
        self._last_ts: dict[str, int] = {}
        self._collected: list[LogEvent] = []
        self._memory_limit = spec.memory_mb * memory.MIB
        self._measure_memory = memory.available()

    # -- public ---------------------------------------------------------------------------------

    def invoke(
        self,
        event: Any,
        *,
        client_context: Optional[Mapping[str, Any]] = None,
        cognito_identity: Optional[Mapping[str, Any]] = None,
    ) -> InvokeResult:
        """Run one invocation (cold or warm) and return its outcome; logs go to the sinks."""
        request = _Request(
            request_id=str(uuid.uuid4()),
            payload=event if isinstance(event, bytes) else json.dumps(event).encode(),
            client_context=json.dumps(client_context) if client_context else None,
            cognito_identity=json.dumps(cognito_identity) if cognito_identity else None,
        )
        self._collected = []
        try:
            if self._env is None:
                env, init = self._init_environment(phase="init", limit_s=self.init_timeout_s)
                if not init.ok:
                    # Lambda re-runs a failed init inside the invocation ("suppressed init").
                    return self._retry_init(env.log_stream, request)
                return self._run(request, init.duration_ms, cold=True)
            return self._run(request, None, cold=False)
        finally:
            for sink in self.sinks:
                sink.flush()

    @property
    def warm(self) -> bool:
        """True while an execution environment is alive (the next invocation is warm)."""
        return self._env is not None

    def close(self) -> None:
        """Shut down the execution environment, if any (Lambda's SIGKILL at shutdown)."""
        if self._env is not None:
            self._discard(self._env)
            self._env = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the phases -----------------------------------------------------------------------------

    def _init_environment(
        self, *, phase: str, limit_s: float, stream: Optional[str] = None
    ) -> tuple[Environment, _InitOutcome]:
        stream = stream or new_log_stream(self.spec.version)
        env = self._spawn(stream)
        if phase == "init":
            self._emit(
                env,
                self.platform.init_start(
                    time.time(),
                    runtime_version=RUNTIME_VERSION,
                    runtime_version_arn=runtime_version_arn(self.spec.region),
                    function_name=self.spec.name,
                    function_version=self.spec.version,
                    instance_id=stream,
                    memory_size_mb=self.spec.memory_mb,
                ),
            )
        kind, message = self._wait(env, env.spawned_at + limit_s, ("next", "init_error"))
        duration_ms = ((message.at if message else time.monotonic()) - env.spawned_at) * 1000
        if kind == "next":
            self._emit(env, self.platform.init_runtime_done(time.time()))
            self._freeze(env)
            self._env = env
            return env, _InitOutcome(True, duration_ms)
        status, error_type = {
            "init_error": ("error", (message.error_type if message else None) or "Runtime.Unknown"),
            "deadline": ("timeout", None),
            "memory": ("error", "Runtime.OutOfMemory"),
        }.get(kind, ("error", "Runtime.ExitError"))
        if kind == "init_error":
            # The runtime exits by itself after reporting; give it a moment to flush its output.
            self._wait(env, time.monotonic() + 1.0, ())
        self._discard(env)
        self._emit(
            env,
            self.platform.init_report(
                time.time(),
                duration_ms=duration_ms,
                phase=phase,
                status=status,
                error_type=error_type,
            ),
        )
        return env, _InitOutcome(False, duration_ms, status, error_type)

    def _retry_init(self, stream: str, request: _Request) -> InvokeResult:
        env, init = self._init_environment(
            phase="invoke", limit_s=self.spec.timeout_s, stream=stream
        )
        if init.ok:
            return self._run(request, None, cold=True)
        request_id = request.request_id
        now = time.time()
        self._emit(
            env,
            self.platform.start(
                now,
                request_id=request_id,
                function_version=self.spec.version,
                function_arn=self.spec.arn,
            ),
        )
        self._emit(env, self.platform.end(now, request_id))
        report = Report(
            request_id=request_id,
            duration_ms=init.duration_ms,
            memory_size_mb=self.spec.memory_mb,
            max_memory_used_mb=min(env.memory.peak_mb, self.spec.memory_mb),
            status=init.status,
            error_type=init.error_type,
        )
        self._emit(env, self.platform.report(now, report))
        if init.status == "timeout":
            self._emit(env, self.platform.timed_out(now, request_id, init.duration_ms / 1000))
        return self._result(
            request_id,
            "timeout" if init.status == "timeout" else "init_error",
            b"",
            init.error_type,
            report,
            True,
            env,
        )

    def _run(self, request: _Request, init_ms: Optional[float], *, cold: bool) -> InvokeResult:
        env = self._env
        assert env is not None
        request_id = request.request_id
        xray = _new_xray(self.spec.tracing_active)
        started_wall = time.time()
        started = time.monotonic()
        deadline = started + self.spec.timeout_s
        self._emit(
            env,
            self.platform.start(
                started_wall,
                request_id=request_id,
                function_version=self.spec.version,
                function_arn=self.spec.arn,
                xray=xray if self.spec.tracing_active else None,
            ),
        )
        env.thaw()
        env.api.offer(
            Invocation(
                request_id=request_id,
                payload=request.payload,
                deadline_ms=int((started_wall + self.spec.timeout_s) * 1000),
                function_arn=self.spec.arn,
                trace_id=xray.header(),
                client_context=request.client_context,
                cognito_identity=request.cognito_identity,
            )
        )
        kind, answer = self._wait(env, deadline, ("response", "error"))
        if answer is not None:
            # The invocation ends when the runtime asks for the next one (or fails to).
            kind2, _ = self._wait(env, deadline, ("next",))
            kind = answer.kind if kind2 == "next" else kind2
        ended = time.monotonic()
        duration_ms = (ended - started) * 1000
        body = answer.body if answer is not None else b""
        error_type = answer.error_type if answer is not None and answer.kind == "error" else None
        status: Optional[str] = None
        outcome = {"response": "success", "error": "error"}.get(kind, kind)
        exit_reason: Optional[str] = None
        if kind in ("response", "error"):
            self._freeze(env)
        else:
            returncode = env.process.poll()
            self._discard(env)
            self._env = None
            if kind == "deadline":
                outcome, status = "timeout", "timeout"
                duration_ms = self.spec.timeout_s * 1000  # Lambda reports exactly the timeout
            elif kind == "memory":
                outcome, status, error_type = "out_of_memory", "error", "Runtime.OutOfMemory"
                exit_reason = "signal: killed"
            else:
                outcome, status, error_type = "crashed", "error", "Runtime.ExitError"
                exit_reason = exit_reason_of(returncode)
        now = time.time()
        self._emit(
            env,
            self.platform.runtime_done(
                now,
                request_id=request_id,
                status={"success": "success", "error": "error", "timeout": "timeout"}.get(
                    outcome, "failure"
                ),
                error_type=error_type,
                duration_ms=duration_ms,
                produced_bytes=len(body),
            ),
        )
        self._emit(env, self.platform.end(now, request_id))
        peak = env.memory.peak_mb if self._measure_memory else 0
        report = Report(
            request_id=request_id,
            duration_ms=duration_ms,
            memory_size_mb=self.spec.memory_mb,
            # A cgroup never lets usage pass the limit, so Lambda's figure stops at Memory Size.
            max_memory_used_mb=self.spec.memory_mb
            if kind == "memory"
            else min(peak, self.spec.memory_mb),
            init_duration_ms=init_ms,
            status=status,
            error_type=error_type if status else None,
            xray=xray if self.spec.tracing_active else None,
        )
        self._emit(env, self.platform.report(now, report))
        if outcome == "timeout":
            self._emit(env, self.platform.timed_out(now, request_id, ended - started))
        if exit_reason:
            self._emit(env, self.platform.runtime_exited(now, request_id, exit_reason))
        return self._result(request_id, outcome, body, error_type, report, cold, env)

    # -- the event loop -------------------------------------------------------------------------

    def _wait(
        self, env: Environment, deadline: float, want: Sequence[str]
    ) -> tuple[str, Optional[RuntimeMessage]]:
        """See ``Environment.wait``; memory is enforced only where it can be measured."""
        return env.wait(
            deadline,
            want,
            self._output(env),
            memory_limit=self._memory_limit if self._measure_memory else None,
            poll_interval_s=self.poll_interval_s,
        )

    def _output(self, env: Environment) -> Callable[[str], None]:
        return lambda text: self._emit_output(env, text)

    def _emit_output(self, env: Environment, text: str) -> None:
        # Lambda splits a line that does not fit one event, marking no cut (docs/formats.md §8).
        chunks = [text[i : i + MAX_EVENT_CHARS] for i in range(0, len(text), MAX_EVENT_CHARS)]
        self._emit(env, chunks)

    def _emit(self, env: Environment, messages: Sequence[str]) -> None:
        for message in messages:
            stream = env.log_stream
            # CloudWatch wants time order within a stream; several events may share a ms.
            ts = max(int(time.time() * 1000), self._last_ts.get(stream, 0))
            self._last_ts[stream] = ts
            event = LogEvent(message, ts, stream, self.spec.log_group, "local")
            self._collected.append(event)
            for sink in self.sinks:
                sink.write(event)

    # -- processes --------------------------------------------------------------------------------

    def _spawn(self, stream: str) -> Environment:
        api = RuntimeAPIServer()
        env_vars = environment_variables(
            self.spec,
            api.address,
            stream,
            endpoint_url=self.endpoint_url,
            credentials=self.credentials,
            extra_env=self.extra_env,
        )
        argv = [self.python, "-m", "awslambdaric", self.spec.handler]
        return spawn(argv, self.spec.code_dir, env_vars, api, stream)

    def _freeze(self, env: Environment) -> None:
        if self.freeze:
            env.freeze()

    def _discard(self, env: Environment) -> None:
        env.discard(self._output(env))

    def _result(
        self,
        request_id: str,
        outcome: str,
        payload: bytes,
        error_type: Optional[str],
        report: Report,
        cold: bool,
        env: Environment,
    ) -> InvokeResult:
        return InvokeResult(
            request_id=request_id,
            outcome=outcome,
            payload=payload,
            error_type=error_type,
            duration_ms=report.duration_ms,
            billed_duration_ms=report.billed_duration_ms,
            max_memory_used_mb=report.max_memory_used_mb,
            init_duration_ms=report.init_duration_ms,
            cold_start=cold,
            log_stream=env.log_stream,
            logs=list(self._collected),
        )


def _new_xray(sampled: bool) -> XRay:
    trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return XRay(trace_id=trace_id, segment_id=uuid.uuid4().hex[:16], sampled=sampled)

"""Run one function the way Lambda does: a real runtime process, its limits, and its log lines.

An *execution environment* is one ``python -m awslambdaric <handler>`` process, talking to its
own ``RuntimeAPIServer``, writing to its own log stream. It is kept warm between invocations
(frozen with SIGSTOP while idle, as Lambda freezes it) and thrown away after a timeout, an
out-of-memory kill or a crash, so the next invocation is a cold start in a fresh process.

Limits: the timeout is a SIGKILL at the deadline. The memory size is enforced by polling the
process tree's resident memory every few milliseconds and SIGKILLing it over the limit (there is
no cgroup here; ``RLIMIT_AS`` would fail allocations instead of killing, which is not what Lambda
does). Platform lines follow docs/formats.md; see ``platform_log``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from lambda_trace.local import memory
from lambda_trace.local.logsink import LogSink
from lambda_trace.local.platform_log import PlatformLog, Report, XRay
from lambda_trace.local.runtime_api import Invocation, RuntimeAPIServer, RuntimeMessage
from lambda_trace.local.template import FunctionSpec
from lambda_trace.logevent import LogEvent

#: Lambda's limit on the init phase (docs/formats.md §1.5).
INIT_TIMEOUT_S = 10.0
#: Lambda splits longer lines into several events of this size (docs/formats.md §8, observed).
MAX_EVENT_CHARS = 262_119

OUTCOMES = ("success", "error", "timeout", "out_of_memory", "crashed", "init_error")


@dataclass
class InvokeResult:
    """What one invocation did, as the caller and the REPORT line see it."""

    request_id: str
    #: one of ``OUTCOMES``; "error" is an exception the handler raised
    outcome: str
    #: the response, or the error document the runtime posted (empty when it never answered)
    payload: bytes
    error_type: Optional[str]
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
    init_duration_ms: Optional[float]
    cold_start: bool
    log_stream: str
    #: every log event this invocation wrote (init lines included on a cold start)
    logs: list[LogEvent] = field(default_factory=list)

    def response(self) -> Any:
        """The payload decoded as JSON (None when it is empty or not JSON)."""
        try:
            return json.loads(self.payload) if self.payload else None
        except ValueError:
            return None


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


class _Environment:
    """One runtime process, its Runtime API server, its log stream and its memory meter."""

    def __init__(self, process: subprocess.Popen[bytes], api: RuntimeAPIServer, stream: str):
        self.process = process
        self.api = api
        self.log_stream = stream
        self.spawned_at = time.monotonic()
        self.memory = memory.TreeMemory(process.pid)
        self.open_fds: dict[int, bytearray] = {}
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                fd = pipe.fileno()
                os.set_blocking(fd, False)
                self.open_fds[fd] = bytearray()
        self.frozen = False
        #: messages received but not consumed yet (a response and the next /next often arrive
        #: together)
        self.backlog: list[RuntimeMessage] = []
        self.finalizer = weakref.finalize(self, _kill_group, process.pid)


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
        self._env: Optional[_Environment] = None
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
    ) -> tuple[_Environment, _InitOutcome]:
        stream = stream or _new_log_stream(self.spec.version)
        env = self._spawn(stream)
        if phase == "init":
            self._emit(
                env,
                self.platform.init_start(
                    time.time(),
                    runtime_version=_RUNTIME_VERSION,
                    runtime_version_arn=_runtime_version_arn(self.spec.region),
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
        self._thaw(env)
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
                exit_reason = _exit_reason(returncode)
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
        self, env: _Environment, deadline: float, want: Sequence[str]
    ) -> tuple[str, Optional[RuntimeMessage]]:
        """Pump output until a wanted runtime message, the deadline, a memory kill or an exit.

        Returns ``(kind, message)`` where kind is a message kind, "deadline", "memory" or
        "exited"; the process is already dead for "memory".
        """
        next_sample = 0.0
        while True:
            found = self._take(env, want)
            if found is not None:
                return found.kind, found
            now = time.monotonic()
            if self._measure_memory and now >= next_sample:
                next_sample = now + self.poll_interval_s
                if env.memory.sample() > self._memory_limit:
                    self._kill(env)
                    return "memory", None
            env.backlog.extend(self._pump(env, max(0.0, min(self.poll_interval_s, deadline - now))))
            if self._take(env, want, peek=True) is None and env.process.poll() is not None:
                self._drain(env, until_eof=True)
                env.backlog.extend(env.api.messages())
                found = self._take(env, want)
                if found is not None:
                    return found.kind, found
                return "exited", None
            if time.monotonic() >= deadline:
                return "deadline", None

    @staticmethod
    def _take(
        env: _Environment, want: Sequence[str], peek: bool = False
    ) -> Optional[RuntimeMessage]:
        for i, message in enumerate(env.backlog):
            if message.kind in want:
                return message if peek else env.backlog.pop(i)
        return None

    def _pump(self, env: _Environment, timeout: float) -> list[RuntimeMessage]:
        fds = [*env.open_fds, env.api.wakeup_fd]
        readable, _, _ = select.select(fds, [], [], timeout)
        for fd in readable:
            if fd in env.open_fds:
                self._read(env, fd)
        messages = env.api.messages()
        if messages:
            # Whatever the runtime wrote before this request is in the pipes by now.
            self._drain(env)
        return messages

    def _drain(self, env: _Environment, until_eof: bool = False) -> None:
        give_up = time.monotonic() + 1.0
        while env.open_fds:
            wait = max(0.0, give_up - time.monotonic()) if until_eof else 0.0
            readable, _, _ = select.select(list(env.open_fds), [], [], wait)
            if not readable:
                break
            for fd in readable:
                self._read(env, fd)
        if until_eof:
            for fd in list(env.open_fds):
                self._flush_partial(env, fd)

    def _read(self, env: _Environment, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._flush_partial(env, fd)
            return
        buffer = env.open_fds[fd]
        buffer.extend(data)
        *lines, rest = bytes(buffer).split(b"\n")
        buffer[:] = rest
        for line in lines:
            self._emit_output(env, line.decode("utf-8", errors="replace") + "\n")

    def _flush_partial(self, env: _Environment, fd: int) -> None:
        rest = env.open_fds.pop(fd, None)
        if rest:
            self._emit_output(env, rest.decode("utf-8", errors="replace"))

    def _emit_output(self, env: _Environment, text: str) -> None:
        # Lambda splits a line that does not fit one event, marking no cut (docs/formats.md §8).
        chunks = [text[i : i + MAX_EVENT_CHARS] for i in range(0, len(text), MAX_EVENT_CHARS)]
        self._emit(env, chunks)

    def _emit(self, env: _Environment, messages: Sequence[str]) -> None:
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

    def _spawn(self, stream: str) -> _Environment:
        api = RuntimeAPIServer()
        env_vars = self._environment_variables(api.address, stream)
        try:
            process = subprocess.Popen(
                [self.python, "-m", "awslambdaric", self.spec.handler],
                cwd=str(self.spec.code_dir),
                env=env_vars,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: one killpg stops the whole tree
            )
        except OSError:
            api.close()
            raise
        return _Environment(process, api, stream)

    def _environment_variables(self, api_address: str, stream: str) -> dict[str, str]:
        """The variables Lambda sets for a Python runtime, plus the function's own.

        https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
        """
        spec = self.spec
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONPATH": str(spec.code_dir),
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "LAMBDA_RUNTIME_DIR": os.path.dirname(_awslambdaric_dir()),
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_FORMAT": spec.log_format,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        }
        if spec.application_log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env.update(self.credentials)
        env.update(spec.environment)
        env.update(self.extra_env)
        return env

    def _freeze(self, env: _Environment) -> None:
        if self.freeze and not env.frozen and env.process.poll() is None:
            _signal_group(env.process.pid, signal.SIGSTOP)
            env.frozen = True

    def _thaw(self, env: _Environment) -> None:
        if env.frozen:
            _signal_group(env.process.pid, signal.SIGCONT)
            env.frozen = False

    def _kill(self, env: _Environment) -> None:
        _kill_group(env.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            env.process.wait(timeout=10)
        self._drain(env, until_eof=True)

    def _discard(self, env: _Environment) -> None:
        if env.process.poll() is None:
            self._kill(env)
        else:
            self._drain(env, until_eof=True)
        env.finalizer.detach()
        env.api.close()
        for pipe in (env.process.stdout, env.process.stderr):
            if pipe is not None:
                pipe.close()

    def _result(
        self,
        request_id: str,
        outcome: str,
        payload: bytes,
        error_type: Optional[str],
        report: Report,
        cold: bool,
        env: _Environment,
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


_RUNTIME_VERSION = f"python:{sys.version_info.major}.{sys.version_info.minor}.local"


def _runtime_version_arn(region: str) -> str:
    digest = hashlib.sha256(_RUNTIME_VERSION.encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def _new_log_stream(version: str) -> str:
    """``YYYY/MM/DD/[$LATEST]<32 hex>``: one per execution environment (docs/formats.md §0.2)."""
    today = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    return f"{today}/[{version}]{uuid.uuid4().hex}"


def _new_xray(sampled: bool) -> XRay:
    trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return XRay(trace_id=trace_id, segment_id=uuid.uuid4().hex[:16], sampled=sampled)


def _exit_reason(returncode: Optional[int]) -> str:
    """How Lambda words a runtime's exit (Go's ``exec.ExitError`` text, docs/formats.md §1.8)."""
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"signal: {-returncode}"
        words = {
            "SIGKILL": "killed",
            "SIGSEGV": "segmentation fault",
            "SIGABRT": "aborted",
            "SIGTERM": "terminated",
            "SIGBUS": "bus error",
        }
        return f"signal: {words.get(name, name.lower())}"
    return f"exit status {returncode}"


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _kill_group(pid: int) -> None:
    _signal_group(pid, signal.SIGKILL)


def _awslambdaric_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("awslambdaric")
    if spec is None or spec.origin is None:
        raise RuntimeError("awslambdaric is not installed: pip install 'lambda-trace[local]'")
    return os.path.dirname(spec.origin)

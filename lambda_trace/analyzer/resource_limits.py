"""Which Lambda quota an error says was hit, and what to do about it.

Four quotas fail a function with an error that looks like a bug in its code but is not one:
the /tmp directory is full, the environment has no file descriptor left, it cannot start
another thread or process, or the handler's response is over the 6 MB a synchronous invocation
may return. The first three are per execution environment, and an environment is reused by warm
invocations, so what one invocation leaves behind (files, open descriptors, running threads) is
still there for the next one: the failures start after a while and then repeat on that
environment. The fourth fails the invocation after the handler has finished.

https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (file descriptors
1,024; execution processes/threads 1,024; /tmp storage 512 MB to 10,240 MB; invocation payload
6 MB each for a synchronous request and response),
https://docs.aws.amazon.com/lambda/latest/api/API_EphemeralStorage.html (``Size``, MB).

This module only classifies; it imports nothing from the analyzer, so the aggregate can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

QUOTAS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
EPHEMERAL_STORAGE_DOC = "https://docs.aws.amazon.com/lambda/latest/api/API_EphemeralStorage.html"


@dataclass(frozen=True)
class Limit:
    """One quota: how an error names it, and the advice."""

    key: str
    subject: str
    quota: str
    #: the function setting that raises it, or None when the quota is fixed
    setting: Optional[str]
    doc: str
    advice: str
    pattern: re.Pattern[str]


LIMITS: tuple[Limit, ...] = (
    Limit(
        key="ephemeral_storage",
        subject="/tmp storage",
        quota="/tmp is 512 MB by default, configurable from 512 MB to 10,240 MB",
        setting="EphemeralStorage.Size",
        doc=EPHEMERAL_STORAGE_DOC,
        advice=(
            "The function's /tmp directory is full. /tmp belongs to the execution environment "
            "and persists across its warm invocations, so files one invocation leaves there "
            "accumulate until a later one cannot write: delete what each invocation writes "
            "(tempfile.TemporaryDirectory() as a with-block, or os.remove in a finally), "
            "stream large objects instead of downloading them whole (S3 GetObject's Body read "
            "in chunks), or raise the function's EphemeralStorage Size (512 to 10240 MB) if "
            "one invocation legitimately needs more."
        ),
        # errno 28 is ENOSPC: Python "[Errno 28] No space left on device", Node "ENOSPC: no
        # space left on device, write", Java "java.io.IOException: No space left on device".
        pattern=re.compile(r"\[Errno 28\]|\bENOSPC\b|No space left on device", re.IGNORECASE),
    ),
    Limit(
        key="file_descriptors",
        subject="file descriptors",
        quota="1,024 file descriptors per execution environment (a fixed quota)",
        setting=None,
        doc=QUOTAS_DOC,
        advice=(
            "The execution environment ran out of file descriptors (1,024, a fixed quota): "
            "every open file, socket and pipe holds one, and those an invocation does not "
            "close stay open for the environment's next warm invocations. Close files and "
            "sockets (with-blocks, or close() in a finally; os.popen and subprocess pipes "
            "too), and create SDK clients and HTTP sessions once outside the handler and reuse "
            "them, instead of one per invocation or per request, each with its own "
            "connection pool."
        ),
        # errno 24 is EMFILE: Python "[Errno 24] Too many open files", Node "EMFILE".
        pattern=re.compile(r"\[Errno 24\]|\bEMFILE\b|Too many open files", re.IGNORECASE),
    ),
    Limit(
        key="threads",
        subject="threads and processes",
        quota="1,024 processes and threads per execution environment (a fixed quota)",
        setting=None,
        doc=QUOTAS_DOC,
        advice=(
            "The execution environment could not start another thread (1,024 processes and "
            "threads, a fixed quota). Threads an invocation starts and never joins or cancels "
            "keep running into the environment's next warm invocations and accumulate: a "
            "threading.Timer started per invocation (a timeout watchdog) and never cancelled "
            "is the pattern seen in real logs, as are clients that start a background thread "
            "each time one is created. Cancel or join what each invocation starts, create "
            "such clients once outside the handler, and use one thread pool created once "
            "(concurrent.futures.ThreadPoolExecutor at module level) instead of new threads "
            "per invocation."
        ),
        # Python 3 "RuntimeError: can't start new thread", Python 2 "error: can't start new
        # thread", Java "OutOfMemoryError: unable to create new native thread" (JDK 11+:
        # "unable to create native thread: possibly out of memory or process/resource
        # limits reached").
        pattern=re.compile(r"can't start new thread|unable to create (?:new )?native thread",
                           re.IGNORECASE),
    ),
    Limit(
        key="response_payload",
        subject="response payload",
        quota="6 MB (6,291,556 bytes) for the response of a synchronous invocation (fixed)",
        setting=None,
        doc=QUOTAS_DOC,
        advice=(
            "The handler finished, but its response was larger than the 6 MB a synchronous "
            "invocation may return: the runtime could not post it (HTTP 413, "
            "RequestEntityTooLarge), so the invocation failed and the caller got an error "
            "instead (API Gateway answers 502). No fix at the raising line helps: return less "
            "(paginate, trim or compress the body), or write the result to S3 and return its "
            "key or a presigned URL."
        ),
        # The runtime's own report (Node.js "LAMBDA_RUNTIME Failed to post handler success
        # response. Http response code: 413." with {"errorType": "RequestEntityTooLarge",
        # "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes)."}). Not the
        # SDK's RequestEntityTooLargeException: that is this function calling Invoke with a
        # payload too large for the function it calls, a dependency error.
        pattern=re.compile(
            r"\bRequestEntityTooLarge\b(?!Exception)|Exceeded maximum allowed payload size"
            r"|Failed to post handler success response\. Http response code: 413"
        ),
    ),
)

BY_KEY = {limit.key: limit for limit in LIMITS}

#: the same words from a database server about its own disk, passed on to the client:
#: PostgreSQL's "could not extend file" / "could not write to file" (SQLSTATE 53100,
#: DiskFull). Not the function's /tmp.
_SERVER_DISK = re.compile(r"could not (?:extend|write to) file|DiskFull")


@dataclass(frozen=True)
class Hit:
    """An error that names a quota: which one, and the text that says so."""

    limit: str
    text: str


def classify(error_type: Any, message: Any, last_line: Any = None) -> Optional[Hit]:
    """The quota named by an error's type, message or the last line of its stack, if any.

    The type is read with the message because the quota is often carried by a wrapper: a
    Powertools ``GetParameterError`` whose message holds ``[Errno 24] Too many open files``
    is the descriptor quota, not a parameter problem. ``last_line`` is the traceback's final
    line, which holds the exception when the message is a ``logger.exception`` text.
    """
    texts = [str(t) for t in (message, last_line, error_type) if t]
    if any(_SERVER_DISK.search(text) for text in texts):
        return None
    for limit in LIMITS:
        for text in texts:
            if limit.pattern.search(text):
                return Hit(limit.key, text)
    return None


def classify_event(error: Any) -> Optional[Hit]:
    """:func:`classify` of a parsed ``error`` event (its type, message and stack)."""
    if not isinstance(error, dict):
        return None
    stack = error.get("stack")
    last = stack[-1] if isinstance(stack, list) and stack else None
    return classify(error.get("error_type"), error.get("message"), last)

"""Take values that can carry data or credentials out of a text before it is written or shown.

One module for both halves: the runtime applies it to every exception message and internal-error
report it writes, the analyzer to every message, stack, name and resource it reads from a log
(see ``lambda_trace.analyzer.redaction``), so a report pasted into a ticket carries no more than
the log line the runtime would have written.

What goes (each replaced by ``(withheld)``, the rest of the text kept):

* URL query strings and userinfo (``https://u:pw@host/p?token=…``, ``postgres://u:PW@h/db``);
* credentials after ``Bearer``/``Basic``/``Digest``, and the values of ``Authorization``,
  ``Cookie``/``Set-Cookie``, ``X-Api-Key``, ``X-Amz-Security-Token`` headers;
* the value of any ``key=value``, ``key: value``, ``"key": "value"`` or ``key='value'`` pair whose
  key names a secret (``refresh_token``, ``client_secret``, ``db_password``, ``SecretString``,
  ``aws_secret_access_key``, ``passwd``, ``pwd``, ``apiKey`` …);
* shapes that are secrets wherever they appear: AWS access key ids (``AKIA``/``ASIA``…), secret
  access keys (40 mixed-case base64 characters), STS session tokens, JWTs, Stripe, GitHub, Slack,
  Google, OpenAI, npm, SendGrid and GitLab keys, PEM private keys;
* S3 object keys: ``arn:aws:s3:::bucket/<key>`` becomes ``arn:aws:s3:::bucket/*`` and botocore's
  ``endpoint URL: "http://host/bucket/<key>"`` keeps only the bucket (object keys are user data:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).

Stdlib only and cheap to import: the patterns are compiled on first use, and a text with none of
their starting characters or words is returned after one scan.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Callable, Optional, Union

    Replacement = Union[str, Callable[["re.Match[str]"], str]]

WITHHELD = "(withheld)"
#: the place of the key/value pass among the rules (it is a loop, not one pattern)
_PAIRS = "(pairs)"

# Key words that make a key's value a secret, matched against the key's parts (split at `_`, `-`,
# `.` and camelCase): "db_password" -> ["db", "password"], "SecretString" -> ["secret", "string"].
_SECRET_PARTS = frozenset(
    {
        "token", "tokens", "secret", "secrets", "password", "passwords", "passwd", "pwd", "pass",
        "passphrase", "apikey", "credential", "credentials", "signature", "cookie", "cookies",
        "authorization", "auth", "sig", "privatekey", "pin", "otp", "sessionid", "jwt",
    }
)
# Two parts that together name a secret ("api_key", "access-key", "private.key").
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"),
        ("signing", "key"), ("master", "key"), ("encryption", "key"), ("session", "key"),
        ("session", "id"), ("client", "key"), ("account", "key"), ("subscription", "key"),
        ("security", "token"),
    }
)
# Secret words long enough to be recognised at the end of a run-together key ("apitoken").
_RUN_TOGETHER = ("token", "secret", "password", "passwd", "apikey", "credentials", "passphrase")
# Parts after the secret word that still name the secret ("SecretString", "password_hash").
_SECRET_SUFFIXES = frozenset(
    {"value", "string", "str", "text", "b64", "base64", "hash", "enc", "encrypted", "plain",
     "raw", "data", "hex", "bytes"}
)
# A key (letters, digits, `_ - .`), optional quotes around it, `=`/`:`/`=>`; then the value: a
# double-quoted (JSON-escaped) string, a single-quoted string, or a bare run up to a delimiter.
# A key starts only where no key character precedes it, so each run of key characters is tried
# once (a pattern tried at every `\b` of "a.a.a…" would be quadratic on long lines).
_PAIR_KEY = (
    r"(?<![A-Za-z0-9_.-])(?P<key>[-_.]*[A-Za-z][A-Za-z0-9_.-]{0,63})"
    r"(?P<sep>[\"']?[ \t]*(?::|=>?)[ \t]*)"
)
_PAIR_VALUE = r"\"(?:[^\"\\\n]|\\.){0,4096}\"?|'[^'\n]{0,4096}'?|(?!\s)[^\s,;&)}\]\"'<>]+"


def _key_parts(key: str) -> list[str]:
    words = _compiled()["camel"].findall(key)
    return [w.lower() for w in words]


def _is_secret_key(key: str) -> bool:
    """Whether the key's last word (past suffixes such as "String") names a secret."""
    parts = _key_parts(key)
    while len(parts) > 1 and parts[-1] in _SECRET_SUFFIXES:
        parts.pop()
    if not parts:
        return False
    last = parts[-1]
    if last in _SECRET_PARTS or last.endswith(_RUN_TOGETHER):  # "dbpassword", "mytoken"
        return True
    return len(parts) > 1 and (
        (parts[-2], last) in _SECRET_PAIRS or parts[-2] + last in _SECRET_PARTS
    )


def _redact_pairs(text: str) -> str:
    """Withhold the value of every pair whose key names a secret.

    A loop rather than one ``sub``: a pair whose key is harmless must not swallow the pair in
    its value ("error: token=…"), so the search resumes right after that key's separator.
    """
    state = _state
    keys, values = state["pair_key"], state["pair_value"]
    out: list[str] = []
    done = pos = 0
    while True:
        match = keys.search(text, pos)
        if match is None:
            break
        pos = match.end()
        if not _is_secret_key(match.group("key")):
            continue
        found = values.match(text, pos)
        if found is None:
            continue
        value = found.group(0)
        if value.lstrip("\"'").startswith("(withheld") or value in _HARMLESS_VALUES:
            continue  # already withheld by an earlier rule, or nothing to hide
        quote = value[0] if value[0] in "\"'" else ""
        out.append(text[done:pos])
        out.append(f"{quote}{WITHHELD}{quote}")
        done = pos = found.end()
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


_HARMLESS_VALUES = frozenset({"null", "None", "true", "false", "True", "False", '""', "''"})


def _header(match: re.Match[str]) -> str:
    return f"{match.group(1)}{WITHHELD}{match.group(3) or ''}"


def _scheme_credential(match: re.Match[str]) -> str:
    """``Bearer <credential>``: withheld unless the "credential" is a plain word of prose."""
    credential = match.group(2)
    if len(credential) < 16 and credential.isalpha():
        return match.group(0)  # "Basic authentication failed"
    if match.group(1).lower() == "basic" and not credential.rstrip("=").replace("+", "").replace(
        "/", ""
    ).isalnum():
        return match.group(0)  # Basic credentials are base64 (RFC 7617): "Basic s3.GetItem" is not
    return f"{match.group(1)} {WITHHELD}"


def _s3_arn(match: re.Match[str]) -> str:
    return f"{match.group(1)}/*"


def _endpoint_url(match: re.Match[str]) -> str:
    """botocore's ``endpoint URL: "<url>"``: keep scheme, host and (path-style) the bucket."""
    segments = [s for s in (match.group("path") or "").split("/") if s]
    host = match.group("host").lower()
    lead, base = match.group("lead"), match.group("base")
    if segments and (".s3." in host or ".s3-" in host):  # bucket.s3.<region>.amazonaws.com/<key>
        return f"{lead}{base}/{WITHHELD}"
    if len(segments) > 1:  # path style, s3.amazonaws.com/<bucket>/<key> (or any other service)
        return f"{lead}{base}/{segments[0]}/{WITHHELD}"
    return match.group(0)



def _shape_secret_key(match: re.Match[str]) -> str:
    """40 base64 characters (an AWS secret access key) if they mix cases and digits."""
    text = match.group(0)
    if text.isalnum() and (text.isdigit() or text.islower() or text.isupper()):
        return text  # a hex digest, a plain word run: not a key
    if not any(c.isdigit() for c in text) or not any(c.islower() for c in text):
        return text
    if not any(c.isupper() for c in text):
        return text
    return WITHHELD


# (pattern, replacement) in the order they run: whole structures (PEM blocks, URLs, headers)
# before pairs, so a pair inside a withheld header is not cut twice.
_RULES: tuple[tuple[str, Replacement], ...] = (
    (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
        f"-----BEGIN PRIVATE KEY-----{WITHHELD}",
    ),
    # URL userinfo: scheme://user:password@host, scheme://user@host, scheme://:password@host
    (r"(?i)\b([a-z][a-z0-9+.-]{1,20}://)[^\s/?#@\"'<>]{0,256}@", rf"\1{WITHHELD}@"),
    # userinfo without a scheme, as in a host name "user:pw@127.0.0.1"
    (r"(?<![\w/@:.-])[A-Za-z0-9._~%!$&'*+,;=-]{1,128}:[^\s/?#@\"'<>]{0,256}@(?=[A-Za-z0-9\[])",
     f"{WITHHELD}@"),
    # S3 object ARNs and botocore endpoint URLs: bucket level only
    (r"(arn:aws[a-z-]*:s3:::[A-Za-z0-9.\-_]{1,255})/[^\s\"',;<>)]+", _s3_arn),
    (
        r"(?P<lead>endpoint URL:?\s*\"?)(?P<base>[a-z][a-z0-9+.-]*://(?P<host>[^/\s\"?#]+))"
        r"(?P<path>/[^\s\"?#]*)?",
        _endpoint_url,
    ),
    # query strings: everything after "?" when it holds a "name=value"
    (r"\?[^\s?#\"'<>()]*=[^\s#\"'<>()]*", f"?{WITHHELD}"),
    # credentials after an auth scheme
    (
        r"(?i)\b(bearer|basic|digest|negotiate)\s+([A-Za-z0-9][A-Za-z0-9._~+/-]{7,}=*)(?![A-Za-z0-9._~+/=:-])",
        _scheme_credential,
    ),
    # header values that are credentials whole, up to the end of the line or a closing quote
    (
        r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?|\b(?:set-)?cookie[\"']?\s*[:=]"
        r"\s*[\"']?|\bx-(?:api-key|amz-security-token|auth-token|csrf-token)[\"']?\s*[:=]\s*"
        r"[\"']?)([^\r\n\"']+)([\"']?)",
        _header,
    ),
    ("", _PAIRS),
    # shapes that are credentials wherever they stand
    (r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", WITHHELD),
    (r"\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz|AgoJb3JpZ2lu)[A-Za-z0-9/+=]{16,}", WITHHELD),
    (r"\beyJ[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]*", WITHHELD),
    (r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}", WITHHELD),
    (r"\bwhsec_[A-Za-z0-9]{16,}", WITHHELD),
    (r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})", WITHHELD),
    (r"\bxox[abposr]-[A-Za-z0-9-]{8,}", WITHHELD),
    (r"\bAIza[0-9A-Za-z_-]{30,}", WITHHELD),
    (r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}", WITHHELD),
    (r"\bnpm_[A-Za-z0-9]{30,}", WITHHELD),
    (r"\bSG\.[A-Za-z0-9_-]{16,256}\.[A-Za-z0-9_-]{16,}", WITHHELD),
    (r"\bglpat-[A-Za-z0-9_-]{20,}", WITHHELD),
    (r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", _shape_secret_key),
)

# Words a secret key contains (any case), each letter possibly split from the next by `-_.`
# ("pa_ss"), since the key's parts are joined again ("pass" + "word"); with the key characters
# and separator that follow, as the pairs pass needs them. Bounded by the key's 64 characters,
# so a long run of key characters is not scanned again from every word in it.
_PAIR_WORDS = ("pass", "pwd", "token", "secret", "key", "auth", "cookie", "credential", "sig",
               "pin", "otp", "jwt", "session")
_HEADER_END = r"[\"']?\s*[:=]"
# What every match of each rule contains, in lower case and each starting with a literal
# character (the scan is grouped by it). The scan must never miss (a miss leaves a secret in the
# text; tests/test_runtime_redact.py checks `redact` against `_redact_all` on generated text);
# it may fire on text no rule changes.
_TRIGGERS = (
    "-----begin", "@", ":s3:::", "endpoint url",  # PEM, userinfo, S3 object ARN, botocore
    r"\?[^\s?#\"'<>()]*=",  # a query string
    r"bearer\s", r"basic\s", r"digest\s", r"negotiate\s",
    "authorization" + _HEADER_END, "cookie" + _HEADER_END,
    "x-(?:api-key|amz-security-token|auth-token|csrf-token)" + _HEADER_END,
    *("[-_.]{0,64}".join(word) + r"[a-z0-9_.-]{0,64}[\"']?[ \t]*[:=]" for word in _PAIR_WORDS),
    # the shapes, by the literal each starts with
    "akia", "asia", "abia", "acca", "iqojb3jpz2lu", "fwogzxivyxdz", "fqogzxivyxdz",
    "agojb3jpz2lu", "eyj", "sk_", "rk_", "pk_", "whsec_", "gh[pousr]_", "github_pat_",
    "xox[abposr]-", "aiza", "sk-", "npm_", r"sg\.", "glpat-",
)
_RUN_40 = r"[A-Za-z0-9/+]{40}"  # an AWS secret access key (no literal: scanned on long text only)


def _grouped(alternatives: tuple[str, ...]) -> str:
    """One alternation with one branch per first character: the engine tries a position's
    branches by their first character, so fewer branches make the scan several times faster."""
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        head = alternative[:2] if alternative[0] == "\\" else alternative[0]
        groups.setdefault(head, []).append(alternative[len(head):])
    return "|".join(
        head + (f"(?:{'|'.join(rests)})" if len(rests) > 1 else rests[0])
        for head, rests in groups.items()
    )


_state: dict[str, re.Pattern[str]] = {}
_rules: list[tuple[re.Pattern[str], Replacement]] = []


def _compiled() -> dict[str, re.Pattern[str]]:
    if not _state:
        _rules.extend((re.compile(p, re.S if "BEGIN" in p else 0), r) for p, r in _RULES)
        _state["pair_key"] = re.compile(_PAIR_KEY)
        _state["pair_value"] = re.compile(_PAIR_VALUE)
        # ASCII text is scanned in lower case (the scan's patterns are); other text in any case,
        # as the rules match it: re.I matches the Kelvin sign to "k", the long s to "s".
        _state["trigger_ascii"] = re.compile(_grouped(_TRIGGERS))
        _state["run_40"] = re.compile(_RUN_40)
        _state["trigger"] = re.compile(_grouped(_TRIGGERS) + "|" + _RUN_40, re.I)
        _state["camel"] = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
    return _state


def redact(text: str) -> str:
    """``text`` with every credential and data-bearing value listed above withheld."""
    if not _may_trigger(text):
        return text  # no rule can match: the usual log message
    return _redact_all(text)


def _may_trigger(text: str) -> bool:
    """Whether some rule may match ``text`` (False: ``redact`` leaves it as it is)."""
    state = _state or _compiled()
    if not text.isascii():
        return state["trigger"].search(text) is not None
    return state["trigger_ascii"].search(text.lower()) is not None or (
        len(text) >= 40 and state["run_40"].search(text) is not None)


def _redact_all(text: str) -> str:
    """``redact`` without the trigger scan: every rule run (the reference the scan must match)."""
    _state or _compiled()
    for pattern, replacement in _rules:
        text = _redact_pairs(text) if replacement is _PAIRS else pattern.sub(replacement, text)
    return text


def redact_optional(text: Optional[str]) -> Optional[str]:
    """``redact`` for a value that may be None."""
    return None if text is None else redact(text)


def bucket_level(resource: str) -> str:
    """An IAM resource without an S3 object key: ``arn:aws:s3:::b/k`` -> ``arn:aws:s3:::b/*``."""
    return redact(resource)

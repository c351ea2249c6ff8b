"""The verb and first table of a SQL statement, read cheaply and never anything else of it.

Only a keyword from a fixed list becomes ``operation`` (anything else is ``OTHER``), and only
an identifier in a table position (``FROM t``, ``INTO t``, ``UPDATE t``, ``TABLE t``) becomes
``target``, after string literals, quoted strings and comments are removed: no literal value,
bound parameter or statement text can reach a record. Only the first ``SCAN_CHARS`` of a
statement are read (a bulk INSERT's values are never scanned).
"""

from __future__ import annotations

import re

SCAN_CHARS = 2000
MAX_TARGET_CHARS = 64
MAX_CACHED = 512
OTHER = "OTHER"

#: first keyword -> operation (``START TRANSACTION`` is a BEGIN)
_VERB_WORDS = (
    "SELECT INSERT UPDATE DELETE MERGE REPLACE UPSERT WITH VALUES TABLE BEGIN COMMIT "
    "ROLLBACK SAVEPOINT RELEASE SET SHOW CREATE ALTER DROP TRUNCATE GRANT REVOKE EXPLAIN "
    "ANALYZE VACUUM COPY LOCK UNLOCK CALL EXECUTE PREPARE DEALLOCATE DECLARE FETCH MOVE "
    "CLOSE LISTEN NOTIFY UNLISTEN DISCARD RESET PRAGMA USE DO REINDEX CLUSTER COMMENT "
    "REFRESH ATTACH DETACH DESCRIBE DESC KILL OPTIMIZE LOAD HANDLER XA END ABORT"
)
_VERBS = {v: v for v in _VERB_WORDS.split(" ")}
_VERBS["START"] = "BEGIN"
_VERBS["END"] = "COMMIT"
_VERBS["ABORT"] = "ROLLBACK"
_VERBS["DESC"] = "DESCRIBE"

#: (statement, quote style) -> (operation, target); statements repeat (parameterised queries)
_cache: dict[tuple[str, bool], tuple[str, str]] = {}
_res: list[re.Pattern[str]] = []  # compiled on the first statement, not at import


# PostgreSQL/SQLite: backslash is a plain character except in E'...' strings; dollar quotes
_LITERAL = r"[eE]'(?:[^'\\]|\\.|'')*'|[nNbBxX]?'(?:[^']|'')*'|\$(?P<tag>\w*)\$.*?\$(?P=tag)\$"
# MySQL: backslash escapes by default
_MYSQL_LITERAL = r"[nNbBxX]?'(?:[^'\\]|\\.|'')*'"
_COMMENT = r"--[^\n]*|/\*.*?\*/"
_DQUOTED = r'"(?:[^"\\]|\\.|"")*"'


def _patterns() -> list[re.Pattern[str]]:
    if not _res:
        _res.extend(
            (
                # one left-to-right pass, so a quote inside a comment or `--` inside a literal
                # is read as what it is: PostgreSQL/SQLite (double quotes are identifiers), then
                # MySQL (double-quoted strings and `#` comments)
                re.compile(f"{_LITERAL}|{_COMMENT}|(?P<ident>{_DQUOTED})", re.S),
                re.compile(f"{_MYSQL_LITERAL}|{_COMMENT}|#[^\n]*|{_DQUOTED}", re.S),
                re.compile(r"^\s*([A-Za-z]+)"),
                re.compile(r"\$\w*\$"),
                re.compile(
                    r"\b(?:FROM|INTO|UPDATE|TABLE|JOIN|COPY)\s+(?:ONLY\s+|IGNORE\s+|LOW_PRIORITY\s+"
                    r"|IF\s+(?:NOT\s+)?EXISTS\s+)*((?:[A-Za-z_][\w$]*|`[^`]{1,64}`|\"[^\"]{1,64}\")"
                    r"(?:\.(?:[A-Za-z_][\w$]*|`[^`]{1,64}`|\"[^\"]{1,64}\"))*)",
                    re.I,
                ),
            )
        )
    return _res


#: words that can follow FROM/INTO/TABLE without being a table
_NOT_TABLES = frozenset(
    {"select", "values", "set", "default", "lateral", "unnest", "generate_series", "dual"}
)


def describe(statement: object, double_quotes_are_strings: bool = False) -> tuple[str, str]:
    """``(operation, target)`` of a statement; target is ``""`` when none is read cheaply.

    ``double_quotes_are_strings``: MySQL's default, where ``"x"`` is a string literal.
    """
    if isinstance(statement, (bytes, bytearray, memoryview)):
        text = bytes(statement[:SCAN_CHARS]).decode("latin-1")
    elif isinstance(statement, str):
        text = statement
    else:
        return OTHER, ""  # composed statements (psycopg.sql): no text without a connection
    key = (text, double_quotes_are_strings)
    found = _cache.get(key)
    if found is not None:
        return found
    found = _describe(text[:SCAN_CHARS], double_quotes_are_strings)
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    if len(text) <= 4 * SCAN_CHARS:  # never hold on to huge statements
        _cache[key] = found
    return found


def _blank_or_identifier(match: re.Match[str]) -> str:
    # a literal or comment becomes a space; a double-quoted identifier stays, with no spaces
    # left inside for the table pattern to match across (``"a FROM b"`` is one column name)
    ident = match.group("ident")
    if ident is None:
        return " "
    return re.sub(r"\W", "_", ident[1:-1]).join('""')


def _describe(text: str, double_quotes_are_strings: bool) -> tuple[str, str]:
    standard, mysql, first_word, dollar, table = _patterns()
    if double_quotes_are_strings:
        text = mysql.sub(" ", text)
    else:
        text = standard.sub(_blank_or_identifier, text)
    # a literal or comment cut off by SCAN_CHARS: nothing after its opening is read
    for opener in ("'", "/*", "--") + (('"', "#") if double_quotes_are_strings else ()):
        at = text.find(opener)
        if at >= 0:
            text = text[:at]
    open_dollar = dollar.search(text)
    if open_dollar is not None:
        text = text[: open_dollar.start()]
    match = first_word.match(text)
    if match is None:
        return OTHER, ""
    operation = _VERBS.get(match.group(1).upper(), OTHER)
    if operation in (OTHER, "BEGIN", "COMMIT", "ROLLBACK", "SET", "SHOW", "SAVEPOINT", "RELEASE"):
        return operation, ""
    found = table.search(text)
    if found is None:
        return operation, ""
    target = found.group(1).replace('"', "").replace("`", "")
    if target.lower() in _NOT_TABLES:
        return operation, ""
    return operation, target[:MAX_TARGET_CHARS]

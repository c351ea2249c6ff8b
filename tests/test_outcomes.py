"""How an invocation ended, and where its error was raised (the error groups' key)."""

from __future__ import annotations

from lambda_trace.analyzer.outcomes import top_frame


def test_top_frame_is_the_innermost_python_frame_or_first_node_frame() -> None:
    """Tracebacks in lists or text, with NBSP indents, give ``file:line in func``."""
    python = [
        '  File "/var/runtime/bootstrap.py", line 60, in run\n',
        '\u00a0\u00a0File "/var/task/app.py", line 12, in handler\n    x = e["id"]\n',
    ]
    assert top_frame(python) == "app.py:12 in handler"
    text = 'Traceback (most recent call last):\r  File "/var/task/lib/db.py", line 3, in get\r'
    assert top_frame(text) == "db.py:3 in get"
    node = "TypeError: x\n    at handler (/var/task/index.js:5:11)\n    at Runtime (x.js:1:1)"
    assert top_frame(node) == "handler (/var/task/index.js:5:11)"
    assert top_frame(None) is None and top_frame(["no frames here"]) is None


def test_top_frame_skips_library_frames_for_the_functions_own() -> None:
    """A ClientError raised in botocore is located at the handler line that made the call."""
    stack = [
        '  File "/var/task/app.py", line 30, in handler\n    archive(key)\n',
        '  File "/var/task/app.py", line 18, in archive\n    s3.put_object(...)\n',
        '  File "/var/lang/lib/python3.12/site-packages/botocore/client.py", line 1094, '
        "in _make_api_call\n",
    ]
    assert top_frame(stack) == "app.py:18 in archive"
    only_library = ['  File "/opt/python/lib/python3.12/site-packages/x/y.py", line 2, in f\n']
    assert top_frame(only_library) == "y.py:2 in f"

"""The analyzer's floor: read a log file, split it into lines, json-decode the JSON ones.

``python floor_parse.py FILE`` prints the counts as one JSON object. Nothing is kept per line,
so its speed and memory are what any Python reader of the file must at least spend.
"""

from __future__ import annotations

import json
import sys


def parse(path: str) -> dict[str, int]:
    lines = json_lines = bad_json = 0
    loads = json.loads
    with open(path, "rb") as f:
        for line in f:  # binary: splits on \n only, as CloudWatch copies do
            lines += 1
            if line[:1] == b"{":
                try:
                    loads(line)
                    json_lines += 1
                except ValueError:
                    bad_json += 1
    return {"lines": lines, "json_lines": json_lines, "bad_json": bad_json}


if __name__ == "__main__":
    print(json.dumps(parse(sys.argv[1])))

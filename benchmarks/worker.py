"""A benchmark worker: set up one variant, then time batches of invocations on command.

Protocol: one JSON command per line on stdin, one JSON reply per line on ``--reply-fd``.
``{"cmd": "run", "invocations": N}`` -> ``{"ns": wall, "cpu_ns": process CPU}`` of the handler
(``"calls": K`` sets the calls per invocation from then on);
``{"cmd": "memory"}`` -> VmHWM/VmRSS. Stdout belongs to the code under measurement.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import time
import traceback
from typing import Any


def make_client(transport: str, endpoint: str) -> Any:
    import boto3

    if transport == "moto":
        client = boto3.client("dynamodb", endpoint_url=endpoint)
        # Another worker may have made it first.
        with contextlib.suppress(client.exceptions.ResourceInUseException):
            client.create_table(
                TableName="orders",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        client.put_item(TableName="orders", Item={"id": {"S": "42"}, "status": {"S": "shipped"}})
        return client
    return boto3.client("dynamodb")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--transport", choices=("none", "stub", "moto"), default="none")
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--calls", type=int, default=0)
    args = parser.parse_args()
    replies = os.fdopen(args.reply_fd, "w", buffering=1)

    def reply(**payload: Any) -> None:
        replies.write(json.dumps(payload) + "\n")

    try:
        import workload

        workload.CALLS_PER_INVOCATION = args.calls
        handler = workload.setup(args.variant)
        stubber = None
        if args.transport != "none":
            workload.CLIENT = make_client(args.transport, args.endpoint)
            if args.transport == "stub":
                from botocore.stub import Stubber

                stubber = Stubber(workload.CLIENT)
                stubber.activate()
        contexts = workload.contexts()
        event = workload.EVENT
    except Exception:
        reply(error=traceback.format_exc(limit=5))
        return 1
    reply(ready=True)

    # Wall time is the figure; process CPU time (all threads) is shown beside it because it
    # is far less disturbed by other jobs on a shared machine.
    perf, cpu = time.perf_counter_ns, time.process_time_ns
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["cmd"] == "run":
                n = int(command["invocations"])
                if "calls" in command:  # per command: one worker measures several N
                    args.calls = workload.CALLS_PER_INVOCATION = int(command["calls"])
                gc.collect()
                total = cpu_total = 0
                if stubber is not None and args.calls:
                    for _ in range(n):
                        for _ in range(args.calls):
                            stubber.add_response("get_item", workload.GET_ITEM_RESPONSE)
                        context = next(contexts)
                        cpu_start, start = cpu(), perf()
                        handler(event, context)
                        total += perf() - start
                        cpu_total += cpu() - cpu_start
                else:
                    batch = [next(contexts) for _ in range(n)]
                    cpu_start, start = cpu(), perf()
                    for context in batch:
                        handler(event, context)
                    total = perf() - start
                    cpu_total = cpu() - cpu_start
                workload.release()
                reply(ns=total, cpu_ns=cpu_total)
            elif command["cmd"] == "memory":
                reply(**workload.memory_kb())
            else:
                reply(error=f"unknown command {command['cmd']!r}")
        except Exception:
            reply(error=traceback.format_exc(limit=8))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

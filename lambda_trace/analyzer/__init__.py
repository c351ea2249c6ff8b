"""The analyzer: reads Lambda's logs and lambda-trace records, reports bottlenecks and failures.

A developer-machine tool: nothing in the runtime imports it.
"""

"""Run Lambda handlers on a laptop the way Lambda runs them.

The genuine runtime interface client (``awslambdaric``) runs in a subprocess and talks to our
Runtime API server; the runner enforces the timeout and memory size, writes the platform lines
Lambda writes, and ships the log events to stdout, a file and/or CloudWatch Logs (moto).

Nothing here is imported by the runtime half of lambda-trace.
"""

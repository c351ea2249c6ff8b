"""What each kind of log line becomes: one module per family of lines (see ``parse.py``)."""

"""Renderers of the analyze report: pure functions from the report dict to text (or a page)."""

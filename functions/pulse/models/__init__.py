"""Pydantic models: stored rows (``stored``), API input (``inputs``) and output (``outputs``)."""

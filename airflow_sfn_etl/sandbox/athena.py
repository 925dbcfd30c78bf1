"""Sandbox handlers for athena (to be filled)."""

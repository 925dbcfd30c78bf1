"""Sandbox handlers for crawler (to be filled)."""

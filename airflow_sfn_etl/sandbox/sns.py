"""Sandbox handlers for sns (to be filled)."""

"""Sandbox handlers for databrew (to be filled)."""

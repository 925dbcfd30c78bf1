"""Sandbox handlers for stepfunctions (to be filled)."""

"""Sandbox handlers for glue_jobs (to be filled)."""

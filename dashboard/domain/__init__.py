"""Definitions shared by every page, export, API operation and task (one place each)."""

"""Analyses shared by several rules (settings classes, secrets, CI configuration, ...)."""

"""Yardstick scan engine: judges one checkout against a standard. No Django in here."""

ENGINE_VERSION = "0.1.0"

__all__ = ["ENGINE_VERSION"]

"""The one TOML reader of the engine: tomli, which reads TOML 1.1 as well as 1.0.

Newer tools write TOML 1.1 (multi-line inline tables, for one), which Python 3.13's
`tomllib` refuses; a lock file uv wrote that way is valid and must be read as such.
"""

from __future__ import annotations

from typing import Any

import tomli

TOMLDecodeError = tomli.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """Parse TOML (1.0 or 1.1) text; `TOMLDecodeError` (or `RecursionError`) when it is not."""
    return tomli.loads(text)


__all__ = ["TOMLDecodeError", "loads"]

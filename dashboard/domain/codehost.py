"""Links from evidence to the code host's file view, for hosts whose URL scheme we know."""

from __future__ import annotations

import re
from urllib.parse import quote

_HTTPS = re.compile(r"^https://(?P<host>[^/@]+)/(?P<path>.+?)(?:\.git)?/?$")
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>.+?)(?:\.git)?/?$")
_SSH = re.compile(r"^ssh://(?:[^@/]+@)?(?P<host>[^:/]+)(?::\d+)?/(?P<path>.+?)(?:\.git)?/?$")

# host -> pattern of the file view ({base}, {sha}, {path}, {line})
KNOWN_HOSTS = {
    "github.com": "{base}/blob/{sha}/{path}{anchor}",
    "gitlab.com": "{base}/-/blob/{sha}/{path}{anchor}",
    "codeberg.org": "{base}/src/commit/{sha}/{path}{anchor}",
    "bitbucket.org": "{base}/src/{sha}/{path}{bitbucket_anchor}",
}


def file_url(clone_url: str, sha: str, path: str, line: object = None) -> str | None:
    """A browser link to `path` at commit `sha`, or None for an unknown host or local path."""
    match = _HTTPS.match(clone_url) or _SSH.match(clone_url) or _SCP.match(clone_url)
    if not match or not sha:
        return None
    host = match.group("host").lower().split("@")[-1]
    pattern = KNOWN_HOSTS.get(host)
    if pattern is None:
        return None
    number = line if isinstance(line, int) and line > 0 else None
    return pattern.format(
        base=f"https://{host}/{match.group('path')}",
        sha=quote(sha),
        path=quote(path),
        anchor=f"#L{number}" if number else "",
        bitbucket_anchor=f"#lines-{number}" if number else "",
    )

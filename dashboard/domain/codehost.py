"""Links from evidence to the code host's file view, for hosts whose URL scheme we know."""

from __future__ import annotations

from urllib.parse import quote

from scanners.repo_url import parse_clone_url

# Clone URLs whose host serves the web view at https://host/path.
LINKED_SCHEMES = frozenset({"https", "ssh"})

# host -> pattern of the file view ({base}, {sha}, {path}, {line})
KNOWN_HOSTS = {
    "github.com": "{base}/blob/{sha}/{path}{anchor}",
    "gitlab.com": "{base}/-/blob/{sha}/{path}{anchor}",
    "codeberg.org": "{base}/src/commit/{sha}/{path}{anchor}",
    "bitbucket.org": "{base}/src/{sha}/{path}{bitbucket_anchor}",
}


def file_url(clone_url: str, sha: str, path: str, line: object = None) -> str | None:
    """A browser link to `path` at commit `sha`, or None for an unknown host or local path."""
    address = parse_clone_url(clone_url)
    if address.scheme not in LINKED_SCHEMES or not sha or not address.path:
        return None
    pattern = KNOWN_HOSTS.get(address.host)
    if pattern is None:
        return None
    number = line if isinstance(line, int) and line > 0 else None
    return pattern.format(
        base=f"https://{address.host}/{address.path}",
        sha=quote(sha),
        path=quote(path),
        anchor=f"#L{number}" if number else "",
        bitbucket_anchor=f"#lines-{number}" if number else "",
    )

"""The one clone-URL parser: every spelling git accepts, split the same way."""

from __future__ import annotations

import pytest

from scanners.repo_url import CloneAddress, parse_clone_url


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://github.com/Org/Repo.git", CloneAddress("https", "github.com", "Org/Repo")),
        ("https://GitHub.com/org/repo/", CloneAddress("https", "github.com", "org/repo")),
        (
            "https://user:token@git.example.com:8443/a/b.git",
            CloneAddress("https", "git.example.com", "a/b", 8443),
        ),
        ("ssh://git@github.com/org/repo", CloneAddress("ssh", "github.com", "org/repo")),
        ("git+ssh://git@host:2222/org/repo", CloneAddress("ssh", "host", "org/repo", 2222)),
        ("git@github.com:Org/Repo.git", CloneAddress("ssh", "github.com", "Org/Repo")),
        ("host.example:group/sub/repo", CloneAddress("ssh", "host.example", "group/sub/repo")),
        ("file:///srv/git/repo.git", CloneAddress("file", "", "/srv/git/repo")),
        ("/srv/git/repo/", CloneAddress("file", "", "/srv/git/repo")),
        # A slash before the colon makes it a path (git's rule), not an ssh address.
        ("./dir:with-colon", CloneAddress("file", "", "./dir:with-colon")),
        ("  https://github.com/org/repo  ", CloneAddress("https", "github.com", "org/repo")),
    ],
)
def test_every_spelling_is_split_into_scheme_host_and_path(url: str, address: CloneAddress) -> None:
    assert parse_clone_url(url) == address


def test_a_malformed_port_does_not_crash_the_parser() -> None:
    assert parse_clone_url("https://host:99999999/x").scheme == "file"

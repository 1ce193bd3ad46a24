"""Links from evidence to the code host's file view, built on the one clone-URL parser."""

from __future__ import annotations

import pytest

from dashboard.domain.codehost import file_url

SHA = "0123abcd"


@pytest.mark.parametrize(
    ("clone_url", "line", "link"),
    [
        (
            "https://github.com/Acme/Pay.git",
            7,
            f"https://github.com/Acme/Pay/blob/{SHA}/a%20b.py#L7",
        ),
        ("git@github.com:acme/pay.git", None, f"https://github.com/acme/pay/blob/{SHA}/a%20b.py"),
        ("ssh://git@gitlab.com:22/g/s/r", 3, f"https://gitlab.com/g/s/r/-/blob/{SHA}/a%20b.py#L3"),
        ("https://codeberg.org/o/r", 0, f"https://codeberg.org/o/r/src/commit/{SHA}/a%20b.py"),
        (
            "https://bitbucket.org/o/r.git",
            12,
            f"https://bitbucket.org/o/r/src/{SHA}/a%20b.py#lines-12",
        ),
    ],
)
def test_known_hosts_get_a_link_to_the_file_and_line(
    clone_url: str, line: int | None, link: str
) -> None:
    assert file_url(clone_url, SHA, "a b.py", line) == link


@pytest.mark.parametrize(
    "clone_url",
    [
        "https://git.internal.example/org/repo",  # unknown host
        "/srv/git/repo",  # local path
        "file:///srv/git/repo",
        "http://github.com/org/repo",  # not a scheme whose web view we know
        "https://github.com/",  # no repository path
    ],
)
def test_unknown_hosts_and_local_paths_get_no_link(clone_url: str) -> None:
    assert file_url(clone_url, SHA, "app.py", 1) is None


def test_no_commit_no_link() -> None:
    assert file_url("https://github.com/org/repo", "", "app.py") is None

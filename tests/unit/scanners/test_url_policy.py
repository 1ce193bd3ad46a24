"""Clone URLs naming internal addresses are refused unless the policy allows them."""

from __future__ import annotations

import pytest

from scanners.repo_url import RepositoryError, WorkspacePolicy, validate_url

CLOSED = WorkspacePolicy(allow_internal_hosts=False)

INTERNAL = [
    "https://127.0.0.1/org/repo.git",
    "https://2130706433/org/repo.git",  # 127.0.0.1 as one number
    "https://0x7f.1/org/repo.git",  # and in inet_aton's short hex form
    "https://[::1]/org/repo.git",
    "https://[::ffff:10.0.0.1]/org/repo.git",  # IPv4-mapped private address
    "https://169.254.169.254/latest/meta-data",  # cloud metadata service
    "https://metadata.google.internal/computeMetadata",
    "https://localhost/org/repo.git",
    "https://LOCALHOST./org/repo.git",
    "https://0.0.0.0/org/repo.git",
    "ssh://git@192.168.1.10/org/repo.git",
    "git@10.0.0.5:org/repo.git",
    "https://[fd00::1]/org/repo.git",
    "https://[::127.0.0.1]/org/repo.git",  # IPv4-compatible loopback
    "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 form of 169.254.169.254
    "https://[2002:7f00:1::1]/org/repo.git",  # 6to4 form of 127.0.0.1
    "https://100.64.0.1/org/repo.git",  # carrier-grade NAT
    "https://nas.home.arpa/org/repo.git",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_when_not_allowed(url: str) -> None:
    with pytest.raises(RepositoryError, match="internal address"):
        validate_url(url, CLOSED)


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_accepted_when_allowed(url: str) -> None:
    assert validate_url(url, WorkspacePolicy())  # the default: an on-premises git server


@pytest.mark.parametrize(
    "url",
    ["https://github.com/org/repo.git", "https://8.8.8.8/org/repo", "git@gitlab.com:o/r.git"],
)
def test_public_hosts_pass_the_closed_policy(url: str) -> None:
    assert validate_url(url, CLOSED)


PERCENT_ENCODED = [
    "https://%31%32%37.0.0.1:8622/x.git",  # 127.0.0.1, as git and curl decode it
    "https://%31%36%39.%32%35%34.%31%36%39.%32%35%34/latest/meta-data",  # 169.254.169.254
    "https://%6c%6f%63%61%6c%68%6f%73%74/org/repo.git",  # localhost
    "ssh://git@%31%30.0.0.1/org/repo.git",
]


@pytest.mark.parametrize("url", PERCENT_ENCODED)
@pytest.mark.parametrize("policy", [CLOSED, WorkspacePolicy()], ids=["closed", "open"])
def test_percent_encoded_hosts_are_refused(url: str, policy: WorkspacePolicy) -> None:
    with pytest.raises(RepositoryError, match="percent-encoded"):
        validate_url(url, policy)


def test_hosts_are_normalised_as_clients_read_them() -> None:
    assert validate_url("https://GitHub.com./org/repo.git", CLOSED) == (
        "https://github.com/org/repo.git"
    )

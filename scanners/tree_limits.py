"""Refuse a commit whose checkout would be too large, before writing any of it.

`git ls-tree -r -l -z <commit>` lists every file the checkout would write, with its size, from
the mirror's objects alone. The listing is read as it streams and abandoned at the first limit
crossed, so a git bomb (nested trees reusing one tree object: a few KiB in the mirror, millions
of files on disk) costs as much as reading up to the limit, never the whole tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from scanners.repo_url import RepositoryError, WorkspacePolicy

_CHUNK = 64 * 1024


@dataclass(slots=True)
class TreeTotals:
    """What a commit's checkout would hold, counted so far."""

    files: int = 0
    bytes: int = 0
    depth: int = 0


def _records(stream: IO[bytes]) -> Iterator[bytes]:
    """NUL-terminated records of `ls-tree -z`, as they arrive."""
    pending = b""
    while chunk := stream.read(_CHUNK):
        pending += chunk
        *complete, pending = pending.split(b"\0")
        yield from complete
    if pending:
        yield pending


def _entry(record: bytes) -> tuple[int, int]:
    """(size in bytes, path depth) of one `<mode> <type> <id> <size>\\t<path>` record."""
    meta, _, path = record.partition(b"\t")
    size = meta.split()[-1] if meta else b"-"
    return (int(size) if size.isdigit() else 0), path.count(b"/") + 1


def check_tree(stream: IO[bytes], policy: WorkspacePolicy) -> TreeTotals:
    """Count a `git ls-tree -r -l -z` listing; raise RepositoryError at the first limit."""
    totals = TreeTotals()
    for record in _records(stream):
        size, depth = _entry(record)
        totals.files += 1
        totals.bytes += size
        totals.depth = max(totals.depth, depth)
        if totals.files > policy.max_checkout_files:
            raise RepositoryError(
                f"the commit has more than {policy.max_checkout_files} files, "
                "the limit of a checkout"
            )
        if totals.bytes > policy.max_checkout_bytes:
            raise RepositoryError(
                f"the commit's files add up to more than "
                f"{policy.max_checkout_bytes // 1024**2} MiB, the limit of a checkout"
            )
        if totals.depth > policy.max_checkout_depth:
            raise RepositoryError(
                f"the commit has a path {totals.depth} levels deep, more than the limit "
                f"of {policy.max_checkout_depth}"
            )
    return totals

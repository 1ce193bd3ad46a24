"""An offline advisory database in OSV format, and the locked versions it flags (DSEC-003).

Where it lives: `$YARDSTICK_ADVISORY_DB`, else `<cache dir>/advisories` (the cache dir is
`$YARDSTICK_CACHE_DIR` or `~/.cache/yardstick`). The path may name a folder of OSV JSON files
(each one record or an array of records), one such JSON file, or a zip of them (the OSV
export itself). `yardstick advisories update` fetches the OSV PyPI export (or imports a local
file) and writes the PyPI records, trimmed to what matching needs, to `osv-pypi.json` there.

A scan never touches the network: it reads that path once per process (cached while the
files' sizes and modification times stay the same) and matches every package version of the
project's uv.lock against the PyPI records: `affected[].versions` lists, and ECOSYSTEM ranges
with `introduced`, `fixed` and `last_affected` events compared with `packaging.version`.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from scanners import ENGINE_VERSION
from scanners.deps import normalise
from scanners.repo_url import default_cache_dir

ENV_VAR = "YARDSTICK_ADVISORY_DB"
OSV_PYPI_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DB_FILE = "osv-pypi.json"
ECOSYSTEM = "PyPI"
MAX_RECORD_BYTES = 16 * 1024 * 1024  # one JSON file or zip member
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 120.0
_EVENT_KINDS = ("introduced", "fixed", "last_affected")
_LOCAL_SOURCES = frozenset({"editable", "virtual", "path", "directory"})


class AdvisoryDatabaseError(Exception):
    """The advisory database (or an import source) cannot be read or written."""


@dataclass(frozen=True, slots=True)
class Affected:
    """One `affected` entry of an advisory for a PyPI package."""

    package: str  # normalised name
    ranges: tuple[tuple[tuple[str, str], ...], ...] = ()  # ECOSYSTEM ranges: (kind, version)
    versions: frozenset[str] = frozenset()

    def fixed_after(self, version: Version) -> str | None:
        """The lowest `fixed` version above `version` in the ranges that include it."""
        fixes = [
            v
            for events in self.ranges
            if _in_range(version, events)
            for kind, raw in events
            if kind == "fixed" and (v := _v(raw))
        ]
        above = sorted(v for v in fixes if v > version)
        return str(above[0]) if above else None

    def includes(self, version: Version) -> bool:
        """Whether `version` is affected (OSV semantics for ECOSYSTEM ranges and lists)."""
        if str(version) in self.versions or any(_v(v) == version for v in self.versions):
            return True
        return any(_in_range(version, events) for events in self.ranges)


@dataclass(frozen=True, slots=True)
class Advisory:
    """An OSV record reduced to what matching and messages need."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    affected: tuple[Affected, ...] = ()

    @property
    def label(self) -> str:
        """`GHSA-... (CVE-...)`."""
        cves = [a for a in self.aliases if a.startswith("CVE-")]
        return f"{self.id} ({', '.join(cves)})" if cves else self.id


@dataclass(frozen=True, slots=True)
class Match:
    """A locked package version that an advisory affects."""

    package: str
    version: str
    advisory: Advisory
    fixed: str | None


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """A `[[package]]` of uv.lock: normalised name, version, line of its `name =`."""

    name: str
    version: str
    line: int | None = None


@dataclass(slots=True)
class AdvisoryDatabase:
    """PyPI advisories indexed by package name."""

    advisories: list[Advisory]
    source: Path
    by_package: dict[str, list[tuple[Advisory, Affected]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for advisory in self.advisories:
            for affected in advisory.affected:
                self.by_package.setdefault(affected.package, []).append((advisory, affected))

    def matches(self, name: str, version: str) -> list[Match]:
        """Advisories affecting `name` at `version` (none when the version is not PEP 440)."""
        candidates = self.by_package.get(normalise(name), [])
        parsed = _v(version)
        if not candidates or parsed is None:
            return []
        found: dict[str, Match] = {}
        for advisory, affected in candidates:
            if advisory.id not in found and affected.includes(parsed):
                found[advisory.id] = Match(name, version, advisory, affected.fixed_after(parsed))
        return sorted(found.values(), key=lambda m: m.advisory.id)


# ----- version matching ----------------------------------------------------------------------
@lru_cache(maxsize=65536)
def _v(raw: str) -> Version | None:
    try:
        return Version(raw)
    except InvalidVersion:
        return None


def _in_range(version: Version, events: tuple[tuple[str, str], ...]) -> bool:
    """OSV's evaluation: walk the sorted events; introduced opens, fixed/last_affected close."""
    parsed = [(v, kind) for kind, raw in events if (v := _v(raw)) is not None]
    order = {"introduced": 0, "last_affected": 1, "fixed": 2}
    affected = False
    for bound, kind in sorted(parsed, key=lambda e: (e[0], order[e[1]])):
        if kind == "introduced":
            affected = affected or version >= bound
        elif version > bound or (kind == "fixed" and version == bound):
            affected = False  # at or past a fix, or past the last affected version
    return affected


# ----- reading OSV records -------------------------------------------------------------------
def _affected(entry: Any) -> Affected | None:
    package = entry.get("package") if isinstance(entry, dict) else None
    if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEM:
        return None
    name = package.get("name")
    if not isinstance(name, str) or not name:
        return None
    ranges = []
    for item in entry.get("ranges") or []:
        if isinstance(item, dict) and item.get("type") in ("ECOSYSTEM", "SEMVER"):
            events = tuple(
                (kind, str(event[kind]))
                for event in item.get("events") or []
                if isinstance(event, dict)
                for kind in _EVENT_KINDS
                if kind in event
            )
            ranges.append(events)
    raw_versions = entry.get("versions")
    versions = raw_versions if isinstance(raw_versions, list) else []
    return Affected(normalise(name), tuple(ranges), frozenset(str(v) for v in versions))


def parse_record(record: Any) -> Advisory | None:
    """An advisory from one OSV record; None when withdrawn, malformed or not about PyPI."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    if record.get("withdrawn"):
        return None
    affected = tuple(a for e in record.get("affected") or [] if (a := _affected(e)))
    if not affected:
        return None
    aliases = record.get("aliases")
    return Advisory(
        id=record["id"],
        aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
        summary=str(record.get("summary") or record.get("details") or "")[:200].strip(),
        affected=affected,
    )


def _records_of(data: bytes, origin: str) -> Iterator[Any]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise AdvisoryDatabaseError(f"{origin} is not JSON: {exc}") from None
    yield from doc if isinstance(doc, list) else [doc]


def _read_limited(path: Path) -> bytes:
    if path.stat().st_size > MAX_RECORD_BYTES * 16:
        raise AdvisoryDatabaseError(f"{path} is larger than {MAX_RECORD_BYTES * 16} bytes")
    return path.read_bytes()


def iter_records(path: Path) -> Iterator[Any]:
    """Raw OSV records of a folder of JSON files, one JSON file or a zip of JSON files."""
    try:
        if path.is_dir():
            for item in sorted(path.glob("*.json")):
                yield from _records_of(_read_limited(item), str(item))
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".json") and not info.is_dir():
                        if info.file_size > MAX_RECORD_BYTES:
                            raise AdvisoryDatabaseError(f"{info.filename} in {path} is too large")
                        yield from _records_of(archive.read(info), f"{path}:{info.filename}")
        else:
            yield from _records_of(_read_limited(path), str(path))
    except (OSError, zipfile.BadZipFile) as exc:
        raise AdvisoryDatabaseError(f"cannot read {path}: {exc}") from None


# ----- the database on disk ------------------------------------------------------------------
def database_path() -> Path:
    """`$YARDSTICK_ADVISORY_DB`, else `<cache dir>/advisories`."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured).expanduser() if configured else default_cache_dir() / "advisories"


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    out = []
    for item in files:
        stat = item.stat()
        out.append((str(item), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def load_database(path: Path | None = None) -> AdvisoryDatabase | None:
    """The database at `path` (default `database_path()`); None when there is none."""
    path = path or database_path()
    try:
        if not path.exists() or (path.is_dir() and not any(path.glob("*.json"))):
            return None
        signature = _signature(path)
    except OSError as exc:
        raise AdvisoryDatabaseError(f"cannot read {path}: {exc}") from None
    return _load(path, signature)


@lru_cache(maxsize=4)
def _load(path: Path, signature: tuple[tuple[str, int, int], ...]) -> AdvisoryDatabase:
    del signature  # part of the cache key only: a changed file is read again
    advisories = [a for record in iter_records(path) if (a := parse_record(record))]
    return AdvisoryDatabase(advisories, path)


def locked_packages(lock: dict[str, Any], text: str | None) -> list[LockedPackage]:
    """Every registry or git package of a parsed uv.lock (the project itself left out)."""
    lines = _name_lines(text or "")
    out = []
    packages = lock.get("package")
    for pkg in packages if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        source = pkg.get("source")
        if isinstance(source, dict) and _LOCAL_SOURCES.intersection(source):
            continue
        version = pkg.get("version")
        if isinstance(version, str):
            name = normalise(pkg["name"])
            out.append(LockedPackage(name, version, lines.get((name, version))))
    return out


def _name_lines(text: str) -> dict[tuple[str, str], int]:
    """(name, version) -> line of `name = ...` for each `[[package]]` table of uv.lock."""
    out: dict[tuple[str, str], int] = {}
    name: tuple[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip().strip('"')
        if line.startswith("[[package]]"):
            name = None
        elif key == "name" and name is None:
            name = (normalise(value), number)
        elif key == "version" and name is not None:
            out.setdefault((name[0], value), name[1])
    return out


# ----- updating ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UpdateSummary:
    """What `update_database` wrote."""

    path: Path
    advisories: int
    packages: int


def _download(url: str, target: Path) -> None:
    """Fetch an http(s) or file URL into `target`, within a size limit."""
    # The caller admits http(s) and file URLs only.
    request = urllib.request.Request(url, headers={"User-Agent": f"yardstick/{ENGINE_VERSION}"})  # noqa: S310
    try:
        with (
            urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response,  # noqa: S310
            target.open("wb") as out,
        ):
            copied = 0
            while chunk := response.read(1024 * 1024):
                copied += len(chunk)
                if copied > MAX_DOWNLOAD_BYTES:
                    raise AdvisoryDatabaseError(f"{url} is over {MAX_DOWNLOAD_BYTES} bytes")
                out.write(chunk)
    except (OSError, ValueError) as exc:
        raise AdvisoryDatabaseError(f"cannot download {url}: {exc}") from None


def _trimmed(record: dict[str, Any]) -> dict[str, Any]:
    """An OSV record keeping only its PyPI `affected` entries and the fields matching reads."""
    keep = ("id", "aliases", "summary", "modified", "published")
    affected = [
        {k: e[k] for k in ("package", "ranges", "versions") if k in e}
        for e in record.get("affected") or []
        if isinstance(e, dict) and _affected(e) is not None
    ]
    return {**{k: record[k] for k in keep if k in record}, "affected": affected}


def update_database(source: str | None = None, dest: Path | None = None) -> UpdateSummary:
    """Import OSV PyPI records from `source` (path or URL; the OSV export by default)."""
    source = source or OSV_PYPI_EXPORT
    dest = dest or database_path()
    target = dest if dest.suffix == ".json" else dest / DB_FILE
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    with tempfile.TemporaryDirectory(prefix="yardstick-osv-") as scratch:
        if scheme in ("http", "https", "file"):
            path = Path(scratch) / "download"
            _download(source, path)
        elif len(scheme) > 1:
            raise AdvisoryDatabaseError(f"unsupported URL scheme {scheme!r}: use https or a file")
        else:
            path = Path(source).expanduser()
            if not path.exists():
                raise AdvisoryDatabaseError(f"no such file: {source}")
        records = [_trimmed(r) for r in iter_records(path) if parse_record(r) is not None]
    if not records:
        raise AdvisoryDatabaseError(f"no {ECOSYSTEM} advisories in {source}")
    _write_atomically(target, records)
    packages = {a.package for r in records if (adv := parse_record(r)) for a in adv.affected}
    return UpdateSummary(target, len(records), len(packages))


def _write_atomically(target: Path, records: Iterable[dict[str, Any]]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, suffix=".tmp", delete=False
        ) as out:
            json.dump(list(records), out, separators=(",", ":"))
        os.replace(out.name, target)
    except OSError as exc:
        raise AdvisoryDatabaseError(f"cannot write {target}: {exc}") from None

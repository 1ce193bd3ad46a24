"""The offline OSV advisory database: loading, version matching, uv.lock packages, updates."""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import pytest

from scanners.advisories import (
    DB_FILE,
    ENV_VAR,
    OSV_PYPI_EXPORT,
    AdvisoryDatabaseError,
    database_path,
    load_database,
    locked_packages,
    update_database,
)
from scanners.cli import main
from tests.gitrepo import GOLDEN_DIR

OSV_DIR = Path(__file__).parents[2] / "fixtures" / "osv"
PYPI_IDS = {"OSV-TEST-0001", "OSV-TEST-0002", "OSV-TEST-0003", "OSV-TEST-0006"}


def zipped(tmp_path: Path) -> Path:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for item in sorted(OSV_DIR.glob("*.json")):
            out.write(item, item.name)
        out.writestr("notes.txt", "not a record")
    return archive


# ----- matching ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("package", "version", "expected"),
    [
        ("mako", "1.3.10", {"OSV-TEST-0001"}),  # in the range and in `versions`
        ("Mako", "0.1", {"OSV-TEST-0001"}),  # introduced "0": every earlier version
        ("mako", "1.3.11", set()),  # the fix itself
        ("mako", "1.4.3", set()),
        ("starlette", "0.13.0", {"OSV-TEST-0002"}),
        ("starlette", "0.40.0", {"OSV-TEST-0002"}),  # last_affected is inclusive
        ("starlette", "0.40.1", set()),
        ("starlette", "0.12.9", set()),
        ("starlette", "1.0.0rc1", set()),  # a pre-release sorts before 1.0.0
        ("starlette", "1.9.1", {"OSV-TEST-0002"}),
        ("starlette", "1.9.2", set()),
        ("urllib3", "2.7.1", {"OSV-TEST-0003"}),  # an explicit versions list
        ("urllib3", "2.7.1.0", {"OSV-TEST-0003"}),  # PEP 440 equal spelling
        ("urllib3", "2.7.2", set()),
        ("fastapi", "0.1.0", set()),  # withdrawn advisory
        ("redis", "1.0.0", set()),  # npm ecosystem record
        ("pyjwt", "2.9.9", {"OSV-TEST-0006"}),
        ("PyJWT", "2.10.0", set()),  # two ranges in one event list
        ("py-jwt", "2.9.9", set()),  # another project
        ("pyjwt", "2.14.5", {"OSV-TEST-0006"}),
        ("pyjwt", "2.15.0", set()),
        ("pyjwt", "not-a-version", set()),
    ],
)
def test_matches_follow_osv_semantics(package: str, version: str, expected: set[str]) -> None:
    database = load_database(OSV_DIR)
    assert database is not None
    assert {m.advisory.id for m in database.matches(package, version)} == expected


def test_match_names_the_lowest_fix_above_the_version() -> None:
    database = load_database(OSV_DIR)
    assert database is not None
    (match,) = database.matches("pyjwt", "2.9.9")
    assert match.fixed == "2.10.0"
    assert match.advisory.label == "OSV-TEST-0006 (CVE-2099-0006)"
    (only_last,) = database.matches("starlette", "0.20.0")
    assert only_last.fixed is None


# ----- loading -------------------------------------------------------------------------------
def test_load_from_folder_file_and_zip_agree(tmp_path: Path) -> None:
    from_folder = load_database(OSV_DIR)
    from_zip = load_database(zipped(tmp_path))
    from_file = load_database(OSV_DIR / "batch.json")
    assert from_folder is not None
    assert from_zip is not None
    assert from_file is not None
    assert {a.id for a in from_folder.advisories} == PYPI_IDS
    assert {a.id for a in from_zip.advisories} == PYPI_IDS
    assert [a.id for a in from_file.advisories] == ["OSV-TEST-0006"]


def test_missing_or_empty_database_is_none(tmp_path: Path) -> None:
    assert load_database(tmp_path / "nowhere") is None
    (tmp_path / "empty").mkdir()
    assert load_database(tmp_path / "empty") is None


@pytest.mark.parametrize(
    ("name", "content"),
    [("broken.json", b"{not json"), ("all.zip", b"PK\x03\x04 truncated zip")],
)
def test_unreadable_database_raises(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(AdvisoryDatabaseError, match=r"not JSON|cannot read"):
        load_database(tmp_path if name.endswith(".json") else tmp_path / name)


def test_changed_file_is_read_again(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    db.write_text(json.dumps([json.loads((OSV_DIR / "OSV-TEST-0003.json").read_text())]))
    first = load_database(db)
    assert first is not None
    assert [a.id for a in first.advisories] == ["OSV-TEST-0003"]
    assert load_database(db) is first  # cached while unchanged
    db.write_text((OSV_DIR / "batch.json").read_text() + "\n")
    again = load_database(db)
    assert again is not None
    assert [a.id for a in again.advisories] == ["OSV-TEST-0006"]


def test_database_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "osv"))
    assert database_path() == tmp_path / "osv"
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("YARDSTICK_CACHE_DIR", str(tmp_path / "cache"))
    assert database_path() == tmp_path / "cache" / "advisories"


# ----- uv.lock -------------------------------------------------------------------------------
def test_locked_packages_of_the_golden_lock() -> None:
    text = (GOLDEN_DIR / "uv.lock").read_text()
    packages = {p.name: p for p in locked_packages(tomllib.loads(text), text)}
    assert "notes-service" not in packages  # the project itself (virtual source)
    mako = packages["mako"]
    assert mako.version == "1.4.3"
    assert mako.line is not None
    assert text.splitlines()[mako.line - 1] == 'name = "mako"'
    assert text.splitlines()[mako.line] == 'version = "1.4.3"'


def test_locked_packages_skip_local_sources_and_keep_forks() -> None:
    text = """\
version = 1

[[package]]
name = "lib"
version = "1.0"
source = { path = "../lib" }

[[package]]
name = "Starlette"
version = "0.40.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "starlette"
version = "1.9.2"
source = { git = "https://example.org/starlette.git?rev=1.9.2" }
"""
    packages = locked_packages(tomllib.loads(text), text)
    assert [(p.name, p.version, p.line) for p in packages] == [
        ("starlette", "0.40.0", 9),
        ("starlette", "1.9.2", 14),
    ]


# ----- updating ------------------------------------------------------------------------------
def test_update_from_local_folder_writes_trimmed_pypi_records(tmp_path: Path) -> None:
    summary = update_database(str(OSV_DIR), tmp_path / "db")
    assert summary.path == tmp_path / "db" / DB_FILE
    assert (summary.advisories, summary.packages) == (4, 4)
    records = json.loads(summary.path.read_text())
    assert {r["id"] for r in records} == PYPI_IDS
    mako = next(r for r in records if r["id"] == "OSV-TEST-0001")
    assert "details" not in mako
    assert "database_specific" not in mako["affected"][0]
    loaded = load_database(tmp_path / "db")
    assert loaded is not None
    assert len(loaded.advisories) == 4


def test_update_from_file_url_of_a_zip(tmp_path: Path) -> None:
    summary = update_database(zipped(tmp_path).as_uri(), tmp_path / "osv.json")
    assert summary.path == tmp_path / "osv.json"
    assert summary.advisories == 4


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing.zip", "no such file"),
        ("ftp://example.org/all.zip", "unsupported URL scheme"),
        ("file:///nonexistent/all.zip", "cannot download"),
        ("npm-only.json", "no PyPI advisories"),
    ],
)
def test_update_refuses_bad_sources(tmp_path: Path, source: str, message: str) -> None:
    npm_only = [json.loads((OSV_DIR / "batch.json").read_text())[0]]
    (tmp_path / "npm-only.json").write_text(json.dumps(npm_only))
    local = str(tmp_path / source) if "://" not in source else source
    with pytest.raises(AdvisoryDatabaseError, match=message):
        update_database(local, tmp_path / "db")
    assert not (tmp_path / "db").exists()


def test_cli_update_imports_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "db"))
    assert main(["advisories", "update", "--from", str(OSV_DIR)]) == 0
    assert "4 advisories for 4 packages" in capsys.readouterr().err
    assert (tmp_path / "db" / DB_FILE).is_file()
    other = tmp_path / "other.json"
    assert (
        main(["advisories", "update", "--from", zipped(tmp_path).as_uri(), "--db", str(other)]) == 0
    )
    assert other.is_file()


def test_cli_update_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "db")
    code = main(["advisories", "update", "--from", str(tmp_path / "nope.zip"), "--db", db])
    assert code == 2
    assert capsys.readouterr().err.startswith("yardstick: error: no such file")


def test_default_source_is_the_osv_pypi_export() -> None:
    assert OSV_PYPI_EXPORT.startswith("https://osv-vulnerabilities.storage.googleapis.com/PyPI/")

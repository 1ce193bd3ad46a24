"""`RepoContext.uv_lock` parses uv.lock without its artefact lists, and loses nothing else."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from scanners.context import RepoContext
from tests.gitrepo import GOLDEN_DIR, make_repo

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = '[project]\nname = "svc"\nversion = "0.1.0"\nrequires-python = ">=3.13"\n'
LOCK_HEAD = 'version = 1\nrevision = 3\nrequires-python = ">=3.13"\n\n'


def _without_artefacts(lock: dict[str, Any]) -> dict[str, Any]:
    packages = [
        {k: v for k, v in p.items() if k not in ("sdist", "wheels")} for p in lock["package"]
    ]
    return {**lock, "package": packages}


@pytest.mark.parametrize("lock", [ROOT / "uv.lock", GOLDEN_DIR / "uv.lock"])
def test_a_real_lock_parses_to_the_full_parse_minus_sdist_and_wheels(
    tmp_path: Path, lock: Path
) -> None:
    text = lock.read_text("utf-8")
    repo = make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, "uv.lock": text})
    full = tomllib.loads(text)
    assert any("wheels" in p for p in full["package"])  # the test would prove nothing else

    parsed = RepoContext(repo).uv_lock

    assert parsed == _without_artefacts(full)


def _context(tmp_path: Path, packages: str) -> RepoContext:
    lock = LOCK_HEAD + packages
    return RepoContext(make_repo(tmp_path / "repo", {"pyproject.toml": PYPROJECT, "uv.lock": lock}))


def test_artefacts_in_another_layout_are_parsed_not_lost(tmp_path: Path) -> None:
    ctx = _context(
        tmp_path,
        '[[package]]\nname = "a"\nversion = "1.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        'wheels = [{ url = "https://x/a.whl", hash = "sha256:00" }]\n'
        'sdist = {url = "https://x/a.tar.gz"}  # a comment\n',
    )

    parsed = ctx.uv_lock

    assert parsed is not None
    package = parsed["package"][0]
    assert package["version"] == "1.0"
    assert package["wheels"] == [{"url": "https://x/a.whl", "hash": "sha256:00"}]
    assert package["sdist"] == {"url": "https://x/a.tar.gz"}


def test_a_broken_lock_is_reported_with_tomls_own_error(tmp_path: Path) -> None:
    ctx = _context(tmp_path, '[[package]]\nname = "a"\nversion = \n')

    assert ctx.uv_lock is None
    assert (ctx.parse_error("uv.lock") or "").startswith("not valid TOML: ")


def test_packages_in_uvs_layout_keep_every_field_but_their_artefacts(tmp_path: Path) -> None:
    # The artefact lines are cut before parsing: what is left must still be the package.
    ctx = _context(
        tmp_path,
        '[[package]]\nname = "a"\nversion = "1.0"\n'
        'sdist = { url = "https://x/a.tar.gz", hash = "sha256:00", size = 1 }\n'
        "wheels = [\n"
        '    { url = "https://x/a-1.0-py3-none-any.whl", hash = "sha256:00", size = 1 },\n'
        "]\n\n"
        '[[package]]\nname = "b"\nversion = "2.0"\n',
    )

    parsed = ctx.uv_lock

    assert parsed is not None
    assert [(p["name"], p["version"]) for p in parsed["package"]] == [("a", "1.0"), ("b", "2.0")]
    assert "wheels" not in parsed["package"][0]

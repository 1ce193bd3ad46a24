"""Faster ways of computing the same facts must give exactly what the plain way gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scanners.analysis.ci import load_ci
from scanners.context import RepoContext
from tests.gitrepo import make_repo

WORKFLOW = """\
name: CI
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - name: Lint
        run: uv run ruff check .
      - run: &tests uv run pytest --cov
      - run: *tests
      - with: {version: 1.2, flag: yes, when: 2024-01-02, none: ~}
"""


@pytest.mark.parametrize(
    "text",
    [
        WORKFLOW,
        "a: [1, 2\n",  # unclosed flow sequence
        "key: value\n  bad: indent\n",
        "- \t tab\n",
        "x: \x07\n",  # a control character
        "",
    ],
)
def test_load_yaml_gives_pyyamls_data_or_pyyamls_error(tmp_path: Path, text: str) -> None:
    ctx = RepoContext(make_repo(tmp_path / "repo", {"ci.yml": text}))
    expected, error = _pyyaml(text)
    assert ctx.load_yaml("ci.yml") == expected
    assert ctx.parse_error("ci.yml") == (f"not valid YAML: {error}" if error else None)


def _pyyaml(text: str) -> tuple[object, str | None]:
    """PyYAML's own (pure Python) result: the data, or None and its error message."""
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        return None, str(exc)


def test_load_ci_is_read_once_per_scan(tmp_path: Path) -> None:
    ctx = RepoContext(make_repo(tmp_path / "repo", {".github/workflows/ci.yml": WORKFLOW}))
    configs = load_ci(ctx)
    assert load_ci(ctx) is configs
    assert [c.path for c in configs] == [".github/workflows/ci.yml"]
    assert "uv run pytest --cov" in configs[0].commands

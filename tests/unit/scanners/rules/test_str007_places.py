"""STR-007 per folder (issue 18, item 7): `.env` is probed where it would live (beside its
template, at a Compose `env_file`), through every `.gitignore` from the root down to it.

Each fixture is a small repository of its own, not the golden project.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.analysis.gitignore import GitIgnore
from tests.unit.scanners.rules.harness import FAIL, Case, case_ids, check

REST = "logs/\n__pycache__/\n.pytest_cache/\n"
TEMPLATE = "API_TOKEN=\n"


def repo(**files: str) -> dict[str, str | bytes | None]:
    """A repository whose project is at the root, with the given files (`__` is `/`)."""
    base: dict[str, str | bytes | None] = {
        "pyproject.toml": '[project]\nname = "relay"\nversion = "1"\n',
        "app/__init__.py": "",
        "app/main.py": "app = None\n",
    }
    base.update({name.replace("__", "/"): text for name, text in files.items()})
    return base


CASES = [
    Case(
        "a subfolder's own .gitignore ignores the .env beside its template",
        files=repo(
            **{".gitignore": REST, "relay__.gitignore": ".env\n", "relay__.env.example": TEMPLATE}
        ),
    ),
    Case(
        "the root .gitignore alone does not cover a subfolder's .env when anchored",
        files=repo(**{".gitignore": "/.env\n" + REST, "relay__.env.example": TEMPLATE}),
        status=FAIL,
        path=".gitignore",
        message="1 path",
    ),
    Case(
        "an unanchored root pattern covers the subfolder's .env",
        files=repo(**{".gitignore": ".env\n" + REST, "relay__.env.example": TEMPLATE}),
    ),
    Case(
        "a pattern anchored in the subfolder's .gitignore covers its .env",
        files=repo(
            **{".gitignore": REST, "relay__.gitignore": "/.env\n", "relay__.env.example": TEMPLATE}
        ),
    ),
    Case(
        "a subfolder's !.env re-includes what the root ignores",
        files=repo(
            **{
                ".gitignore": ".env\n" + REST,
                "relay__.gitignore": "# keep it\n!.env\n",
                "relay__.env.example": TEMPLATE,
            }
        ),
        status=FAIL,
        path="relay/.gitignore",
        line=2,
    ),
    Case(
        "a root negation naming the subfolder's .env re-includes it",
        files=repo(**{".gitignore": ".env\n!relay/.env\n" + REST, "relay__.env.example": TEMPLATE}),
        status=FAIL,
        path=".gitignore",
        line=2,
    ),
    Case(
        "each template is probed: the root's too",
        files=repo(
            **{
                ".gitignore": REST,
                ".env.example": TEMPLATE,
                "relay__.gitignore": ".env\n",
                "relay__.env.sample": TEMPLATE,
            }
        ),
        status=FAIL,
        path=".gitignore",
        message="1 path",
    ),
    Case(
        "a Compose env_file is probed where Compose reads it",
        files=repo(
            **{
                ".gitignore": "/.env\n" + REST,
                "deploy__compose.yaml": "services:\n  web:\n    image: relay\n"
                "    env_file:\n      - ../relay/.env\n",
            }
        ),
        status=FAIL,
        path=".gitignore",
        message="1 path",
    ),
    Case(
        "a Compose env_file given as a mapping with a path is probed",
        files=repo(
            **{
                ".gitignore": "/.env\n" + REST,
                "compose.yml": "services:\n  web:\n    env_file:\n"
                "      - path: ./worker/.env.local\n        required: false\n",
            }
        ),
        status=FAIL,
        path=".gitignore",
        message="1 path",
    ),
    Case(
        "a Compose env_file outside the checkout is not probed",
        files=repo(
            **{
                ".gitignore": ".env\n" + REST,
                "compose.yaml": "services:\n  web:\n    env_file: ../../elsewhere/.env\n",
            }
        ),
    ),
    Case(
        "without any sign the .env is probed at the project root",
        files=repo(**{".gitignore": REST}),
        status=FAIL,
        path=".gitignore",
        message="1 path",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_str007_env_where_it_lives(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "STR-007", case)


def test_str007_names_the_subfolder_env(tmp_path: Path) -> None:
    case = Case(
        "named",
        files=repo(**{".gitignore": "/.env\n" + REST, "relay__.env.example": TEMPLATE}),
        status=FAIL,
    )
    result = check(tmp_path, "STR-007", case)
    assert [e.message for e in result.evidence] == ["relay/.env is not ignored"]


@pytest.mark.parametrize(
    ("files", "path", "expected"),
    [
        # deeper files win over shallower ones, in both directions
        ([(".gitignore", ".env\n"), ("a/.gitignore", "!.env\n")], "a/.env", False),
        ([(".gitignore", "!.env\n"), ("a/.gitignore", ".env\n")], "a/.env", True),
        # an ignored folder cannot be re-included from below
        ([(".gitignore", "a/\n"), ("a/.gitignore", "!.env\n")], "a/.env", True),
        # x/** ignores what is inside x, so a negation below can re-include
        ([(".gitignore", "a/**\n!a/.env\n")], "a/.env", False),
        # patterns with a slash are anchored to their own file's folder
        ([("a/.gitignore", "b/.env\n")], "a/b/.env", True),
        ([("a/.gitignore", "b/.env\n")], "a/c/b/.env", False),
        ([("a/.gitignore", "**/b/.env\n")], "a/c/b/.env", True),
        # a sibling's file does not apply
        ([("b/.gitignore", ".env\n")], "a/.env", False),
    ],
)
def test_nested_gitignores_as_git(files: list[tuple[str, str]], path: str, expected: bool) -> None:
    assert GitIgnore.from_files(files).ignored(path) is expected

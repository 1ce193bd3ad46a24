"""The dependency model: every manager's declarations, normalised, with file and line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scanners.context import RepoContext
from scanners.depmodel import (
    DependencyModel,
    is_dev_label,
    poetry_specifier,
    resolve_include,
)
from scanners.deps import Requirement
from tests.gitrepo import FileMap, make_repo


def model(tmp_path: Path, files: FileMap, project_dir: str | None = None) -> DependencyModel:
    make_repo(tmp_path / "repo", files)
    return RepoContext(tmp_path / "repo", project_dir=project_dir).dependencies


def where(m: DependencyModel, name: str) -> list[tuple[str | None, int | None, str]]:
    return [(d.path, d.line, d.kind) for d in m.named(name)]


def names(reqs: list[Requirement]) -> set[str]:
    return {r.name for r in reqs}


def notes(m: DependencyModel) -> str:
    return "\n".join(f"{n.path}:{n.line} {n.message}" for n in m.notes)


# ----- Poetry ---------------------------------------------------------------------------------
POETRY = """\
[tool.poetry]
name = "svc"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.12"
FastAPI = "^0.110.2"
Uvicorn = {version = "~0.29", extras = ["standard"]}
psycopg = {version = ">=3.1 <4", optional = true}
legacy = {version = "*", markers = "sys_platform == 'linux'"}
mylib = {git = "https://example.org/mylib.git", branch = "main"}

[tool.poetry.extras]
pg = ["psycopg"]
ghost = ["not-declared"]

[tool.poetry.group.dev.dependencies]
pytest = "^8"

[tool.poetry.group.server.dependencies]
gunicorn = "22.0.0"

[tool.poetry.dev-dependencies]
ruff = "^0.4"
"""


def test_poetry_tables_groups_and_syntax(tmp_path: Path) -> None:
    m = model(tmp_path, {"pyproject.toml": POETRY})
    assert where(m, "fastapi") == [("pyproject.toml", 7, "runtime")]
    (fastapi,) = m.named("fastapi")
    assert fastapi.specifier_set().contains("0.110.9")
    assert not fastapi.specifier_set().contains("0.111.0")
    (uvicorn,) = m.named("uvicorn")
    assert uvicorn.extras == {"standard"}
    assert uvicorn.line == 8
    assert uvicorn.specifier_set().contains("0.29.5")
    assert not uvicorn.specifier_set().contains("0.30")
    assert where(m, "psycopg") == [("pyproject.toml", 9, "optional:pg")]
    (legacy,) = m.named("legacy")
    assert legacy.markers == 'sys_platform == "linux"'
    assert m.named("mylib")[0].specifier == ""
    assert names(m.runtime()) == {"fastapi", "uvicorn", "legacy", "mylib", "gunicorn"}
    assert names(m.dev()) == {"pytest", "ruff"}
    assert where(m, "pytest") == [("pyproject.toml", 18, "group:dev")]
    assert "'not-declared'" in notes(m)
    assert m.python is not None
    assert m.python.specifier == ">=3.12,<4"
    assert (m.python.path, m.python.line, m.python.source) == ("pyproject.toml", 6, "Poetry python")


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2"),
        ("*", ""),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.2 <2", ">=1.2,<2"),
        ("~=1.4", "~=1.4"),
        ("^1.0 || ^2.0", None),
        ("latest", None),
    ],
)
def test_poetry_specifier(constraint: str, expected: str | None) -> None:
    assert poetry_specifier(constraint) == expected


# ----- pyproject: PEP 621, groups, uv, PDM, Hatch ----------------------------------------------
PEP621 = """\
[project]
name = "svc"
requires-python = ">=3.13"
dependencies = [
    "Pydantic_Settings[yaml]>=2.1; python_version >= '3.13'",
    "svc[pg]",
]

[project.optional-dependencies]
pg = ["asyncpg>=0.29"]
test = ["pytest-cov"]

[dependency-groups]
app = ["fastapi>=0.115", {include-group = "web"}]
web = ["uvicorn"]
dev = ["pytest", {include-group = "lint"}, {include-group = "missing"}]
lint = ["ruff", 42, "not a requirement !!"]

[tool.uv]
dev-dependencies = ["mypy"]

[tool.pdm.dev-dependencies]
docs = ["mkdocs"]

[tool.hatch.envs.default]
dependencies = ["coverage"]
[tool.hatch.envs.lint]
extra-dependencies = ["black"]
"""


def test_pep621_groups_and_tools(tmp_path: Path) -> None:
    m = model(tmp_path, {"pyproject.toml": PEP621})
    (settings,) = m.named("pydantic-settings")
    assert (settings.path, settings.line, settings.kind) == ("pyproject.toml", 5, "runtime")
    assert settings.extras == {"yaml"}
    assert settings.markers == 'python_version >= "3.13"'
    assert where(m, "asyncpg") == [("pyproject.toml", 10, "optional:pg")]
    # a group not named for development counts as runtime, with the group it includes
    assert {"fastapi", "uvicorn", "pydantic-settings"} <= names(m.runtime())
    assert where(m, "uvicorn") == [
        ("pyproject.toml", 15, "group:app"),
        ("pyproject.toml", 15, "group:web"),
    ]
    assert names(m.dev()) == {"pytest", "ruff", "mypy", "mkdocs", "coverage", "black", "pytest-cov"}
    assert where(m, "ruff") == [
        ("pyproject.toml", 17, "group:dev"),
        ("pyproject.toml", 17, "group:lint"),
    ]
    assert where(m, "black") == [("pyproject.toml", 28, "dev")]
    assert "svc" not in names(list(m.declarations))  # the project's own extra, not a dependency
    text = notes(m)
    assert "include-group 'missing': no such group" in text
    assert "pyproject.toml:17 not a valid requirement, skipped: '42'" in text
    assert "'not a requirement !!'" in text
    assert m.python is not None
    assert m.python.line == 3


def test_include_group_cycle_is_reported_not_followed(tmp_path: Path) -> None:
    groups = (
        '[dependency-groups]\na = ["x", {include-group = "b"}]\nb = ["y", {include-group = "a"}]\n'
    )
    m = model(tmp_path, {"pyproject.toml": '[project]\nname = "p"\n' + groups})
    assert "a cycle" in notes(m)
    assert sorted(d.name for d in m.declarations if d.kind == "group:a") == ["x", "y"]


def test_unknown_extra_of_the_project_is_reported(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "p"\ndependencies = ["p[nope]"]\n'
    m = model(tmp_path, {"pyproject.toml": pyproject, "requirements.txt": "-e .[other]\n"})
    assert "unknown extra 'nope'" in notes(m)
    assert "unknown extra 'other'" in notes(m)
    assert m.declarations == ()


def test_dynamic_dependencies_from_setuptools_files(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "p"\ndynamic = ["dependencies"]\n'
        '[tool.setuptools.dynamic]\ndependencies = {file = ["deps/runtime.txt"]}\n'
    )
    m = model(tmp_path, {"pyproject.toml": pyproject, "deps/runtime.txt": "fastapi\n"})
    assert where(m, "fastapi") == [("deps/runtime.txt", 1, "runtime")]


# ----- requirements files -----------------------------------------------------------------------
REQUIREMENTS = {
    "requirements.txt": "-r requirements/base.txt\n",
    "requirements/base.txt": (
        "# runtime\n"
        "--index-url https://example.org/simple\n"
        "FastAPI==0.115.0 \\\n"
        "    --hash=sha256:abc\n"
        "uvicorn[standard]>=0.30 ; python_version >= '3.12'  # server\n"
        "-c constraints.txt\n"
        "-e git+https://example.org/lib.git#egg=My_Lib\n"
        "https://example.org/wheels/Other_Pkg-1.0-py3-none-any.whl\n"
        "https://example.org/archive.zip\n"
        "-r common.txt\n"
    ),
    "requirements/common.txt": "pydantic>=2\n",
    "requirements/constraints.txt": "starlette<1\n",
    "requirements/dev.txt": "-r base.txt\n--requirement=tools.txt\npytest\n",
    "requirements/tools.txt": "ruff\n",
    "requirements-test.txt": "pytest-cov\n",
}


def test_requirements_files_with_includes(tmp_path: Path) -> None:
    m = model(tmp_path, REQUIREMENTS)
    assert where(m, "fastapi") == [("requirements/base.txt", 3, "runtime")]
    (uvicorn,) = m.named("uvicorn")
    assert (uvicorn.line, uvicorn.extras, uvicorn.markers) == (
        5,
        {"standard"},
        'python_version >= "3.12"',
    )
    assert where(m, "my-lib") == [("requirements/base.txt", 7, "runtime")]
    assert where(m, "other-pkg") == [("requirements/base.txt", 8, "runtime")]
    assert where(m, "pydantic") == [("requirements/common.txt", 1, "runtime")]
    assert m.named("starlette") == []  # constraints declare nothing
    assert names(m.dev()) == {"pytest", "ruff", "pytest-cov"}
    assert where(m, "ruff") == [("requirements/tools.txt", 1, "dev")]  # only dev.txt includes it
    assert "URL without a package name" in notes(m)
    assert m.runtime_home is not None
    assert m.runtime_home.path == "requirements/base.txt"


def test_requirements_include_cycle_is_read_once(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "-r more.txt\nfastapi\n",
        "more.txt": "-r requirements.txt\nuvicorn\n",
    }
    m = model(tmp_path, files)
    assert sorted(d.name for d in m.declarations) == ["fastapi", "uvicorn"]


def test_requirements_include_leaving_the_checkout_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("leaked-package\n")
    files = {"app/requirements.txt": "-r ../../secret.txt\n-r /etc/passwd\nfastapi\n"}
    m = model(tmp_path, files, project_dir="app")
    assert names(list(m.declarations)) == {"fastapi"}
    assert notes(m).count("outside the checkout") == 2


def test_requirements_include_to_a_sibling_folder_is_followed(tmp_path: Path) -> None:
    files = {"api/requirements.txt": "-r ../shared/reqs.txt\n", "shared/reqs.txt": "fastapi\n"}
    m = model(tmp_path, files, project_dir="api")
    assert where(m, "fastapi") == [("shared/reqs.txt", 1, "runtime")]


@pytest.mark.parametrize(
    ("including", "target", "expected"),
    [
        ("requirements/dev.txt", "base.txt", "requirements/base.txt"),
        ("requirements.txt", "./requirements/base.txt", "requirements/base.txt"),
        ("svc/requirements.txt", "../shared/r.txt", "shared/r.txt"),
        ("requirements.txt", "../outside.txt", None),
        ("requirements.txt", "/etc/passwd", None),
        ("requirements.txt", "https://example.org/r.txt", None),
    ],
)
def test_resolve_include(including: str, target: str, expected: str | None) -> None:
    assert resolve_include(including, target) == expected


# ----- setup.cfg, setup.py ------------------------------------------------------------------------
SETUP_CFG = """\
[metadata]
name = svc

[options]
python_requires = >=3.13
install_requires =
    fastapi>=0.115
    # a comment
    uvicorn

[options.extras_require]
test =
    pytest
"""

SETUP_PY = """\
from setuptools import setup

REQUIRES = [
    "fastapi>=0.115",
    "uvicorn",
]

setup(
    name="svc",
    install_requires=REQUIRES,
    extras_require={"dev": ["ruff"]},
    tests_require=["pytest"],
    python_requires=">=3.13",
)
"""

DYNAMIC_SETUP_PY = """\
from setuptools import setup

setup(name="svc", install_requires=open("requirements.txt").read().splitlines())
"""


def test_setup_cfg(tmp_path: Path) -> None:
    m = model(tmp_path, {"setup.cfg": SETUP_CFG})
    assert where(m, "fastapi") == [("setup.cfg", 7, "runtime")]
    assert where(m, "uvicorn") == [("setup.cfg", 9, "runtime")]
    assert where(m, "pytest") == [("setup.cfg", 13, "optional:test")]
    assert names(m.dev()) == {"pytest"}
    assert m.python is not None
    assert (m.python.specifier, m.python.line) == (">=3.13", 5)


def test_setup_py_literal_lists_are_read_from_the_ast(tmp_path: Path) -> None:
    m = model(tmp_path, {"setup.py": SETUP_PY})
    assert where(m, "fastapi") == [("setup.py", 4, "runtime")]
    assert where(m, "ruff") == [("setup.py", 11, "optional:dev")]
    assert where(m, "pytest") == [("setup.py", 12, "dev")]
    assert m.python is not None
    assert m.python.source == "python_requires"


def test_setup_py_computed_install_requires_is_reported(tmp_path: Path) -> None:
    m = model(tmp_path, {"setup.py": DYNAMIC_SETUP_PY, "requirements.txt": "fastapi\n"})
    assert "setup.py install_requires is computed" in notes(m)
    assert where(m, "fastapi") == [("requirements.txt", 1, "runtime")]


def test_broken_manifests_do_not_crash(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[tool.poetry.dependencies]\nfastapi = 3\nx = {version = "^a.b"}\n',
        "setup.py": "setup(install_requires=[\n",
        "setup.cfg": "[options\ninstall_requires = x\n",
        "requirements.txt": "\\\n\n--\n-r\n",
    }
    m = model(tmp_path, files)
    assert m.named("fastapi") == []
    assert "does not parse" in notes(m)


@pytest.mark.parametrize(
    ("label", "dev"),
    [("dev", True), ("test-integration", True), ("Docs", True), ("app", False), ("server", False)],
)
def test_dev_labels(label: str, dev: bool) -> None:
    assert is_dev_label(label) is dev


GENERATED = (
    "# This file was autogenerated by uv via the following command:\n#    uv export\ntornado==6.4\n"
)


def test_generated_requirements_are_not_declarations_beside_a_manifest(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "p"\ndependencies = ["fastapi"]\n'
    m = model(tmp_path, {"pyproject.toml": pyproject, "requirements.txt": GENERATED})
    assert names(list(m.declarations)) == {"fastapi"}
    assert "requirements.txt:1 generated from other manifests" in notes(m)


def test_generated_requirements_alone_are_read(tmp_path: Path) -> None:
    m = model(tmp_path, {"requirements.txt": GENERATED})
    assert where(m, "tornado") == [("requirements.txt", 3, "runtime")]


def test_pip_tools_input_is_read(tmp_path: Path) -> None:
    compiled = "# This file is autogenerated by pip-compile\nfastapi==0.115.0\nstarlette==0.40\n"
    m = model(tmp_path, {"requirements.in": "fastapi\n", "requirements.txt": compiled})
    assert names(list(m.declarations)) == {"fastapi"}
    assert where(m, "fastapi") == [("requirements.in", 1, "runtime")]


def test_many_thousand_entries_are_located_in_linear_time(tmp_path: Path) -> None:
    same = "".join('    "fastapi",\n' for _ in range(20_000))
    distinct = "".join(f'    "pkg{i}",\n' for i in range(20_000))
    poetry = "".join(f'pkg{i} = "*"\n' for i in range(20_000))
    pyproject = (
        f'[project]\nname = "p"\ndependencies = [\n{same}{distinct}]\n'
        f"[tool.poetry.dependencies]\n{poetry}"
    )
    started = time.perf_counter()
    m = model(tmp_path, {"pyproject.toml": pyproject})
    assert len(m.declarations) == 60_000
    assert m.named("pkg19999")[0].line == 40_003
    assert time.perf_counter() - started < 20  # quadratic location took minutes

"""Property-based fuzzing of the parsers the engine trusts with untrusted repository content.

Requirements (`scanners.deps`), TOML (`RepoContext.load_toml` and the dependency tables read
from it), import resolution (`scanners.analysis.imports`) and clone URLs
(`scanners.repo_url`). Inputs hypothesis found to break something are kept below as explicit
regression cases.
"""

from __future__ import annotations

import ast
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scanners.analysis.imports import ImportGraph
from scanners.context import PyModule, RepoContext
from scanners.deps import Requirement, normalise, parse_requirement, parse_requirements
from scanners.repo_url import RepositoryError, WorkspacePolicy, validate_url

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NORMALISED = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# ----- requirements ----------------------------------------------------------------------
NAME = st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9])?\Z")
EXTRA = st.from_regex(r"\A[a-z]([a-z0-9_-]{0,7}[a-z0-9])?\Z")
VERSION = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){1,2}\Z")  # `~=` needs two parts
OP = st.sampled_from(["==", ">=", "<=", "~=", "!=", ">", "<"])


def _check(req: Requirement | None, raw: str) -> None:
    if req is None:
        return
    assert NORMALISED.match(req.name), req.name
    assert req.raw == raw
    assert all(extra == extra.lower() for extra in req.extras)
    req.specifier_set()  # never raises, even for a specifier it could not parse


@FUZZ
@given(st.text(max_size=200))
@example("")
@example("   ")
@example("-e git+https://x/y.git#egg=z")
@example("name[extra")
@example("name @ file:///etc/passwd")
@example("name ; python_version < '3")
@example("\x00")
@example("é")
@example("a" * 10_000)
def test_any_text_parses_to_a_requirement_or_none(raw: str) -> None:
    _check(parse_requirement(raw), raw)


@FUZZ
@given(NAME, st.lists(EXTRA, max_size=3), st.lists(st.tuples(OP, VERSION), max_size=3))
def test_valid_requirements_keep_name_extras_and_specifier(
    name: str, extras: list[str], specs: list[tuple[str, str]]
) -> None:
    raw = name + (f"[{','.join(extras)}]" if extras else "") + ",".join(o + v for o, v in specs)
    req = parse_requirement(raw)
    assert req is not None
    assert req.name == normalise(name)
    assert req.extras == frozenset(extras)
    assert bool(req.specifier_set()) == bool(specs)  # `==1.0` and `==1.0.0` are one


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=15,
)


@FUZZ
@given(st.lists(JSONISH, max_size=8))
def test_parse_requirements_skips_anything_that_is_not_a_string(raws: list[Any]) -> None:
    out = parse_requirements(raws)
    assert len(out) <= sum(isinstance(r, str) and bool(r.strip()) for r in raws)
    for req in out:
        _check(req, req.raw)


# ----- TOML ------------------------------------------------------------------------------
TOML_ATOMS = st.sampled_from(
    [
        "[",
        "]",
        "[[",
        "]]",
        "=",
        '"',
        "'",
        '"""',
        "\n",
        " ",
        "#",
        ",",
        "{",
        "}",
        ".",
        "\\",
        "project",
        "dependencies",
        "tool",
        "uv",
        "a",
        "1",
        "1979-05-27",
        "inf",
        "nan",
        "true",
    ]
)
TOMLISH = st.lists(TOML_ATOMS | st.text(max_size=5), max_size=60).map("".join)


@contextmanager
def _context_with(content: str | bytes) -> Iterator[RepoContext]:
    """A plain folder holding only `pyproject.toml`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        target = Path(folder) / "pyproject.toml"
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8", errors="surrogatepass")
        yield RepoContext(Path(folder))


@FUZZ
@given(TOMLISH | st.text(max_size=300))
@example('[project]\ndependencies = [1, {a = 2}, "fastapi"]\n')
@example("[project]\ndependencies = 'fastapi'\n")
@example("project = 3\n")
@example("[tool]\nuv = 1\n")
@example("[tool.uv]\ndev-dependencies = [[], 'pytest']\n")
@example('[dependency-groups]\ndev = [{include-group = "x"}, "pytest"]\nother = "x"\n')
@example("a = " + "[" * 2_000 + "]" * 2_000)
@example("\udcff = 1")
def test_load_toml_returns_a_table_or_records_why_not(text: str) -> None:
    with _context_with(text) as ctx:
        data = ctx.pyproject
        if data is None:
            assert ctx.pyproject_error is not None or ctx.read_text("pyproject.toml") is None
        else:
            assert isinstance(data, dict)
        # The dependency views never raise, whatever shape the tables have.
        for req in (*ctx.runtime_requirements, *ctx.dev_requirements):
            _check(req, req.raw)
        assert isinstance(ctx.runtime_names(), set)
        assert isinstance(ctx.dev_names(), set)


@FUZZ
@given(st.binary(max_size=300))
def test_load_toml_of_arbitrary_bytes_never_raises(content: bytes) -> None:
    with _context_with(content) as ctx:
        assert ctx.pyproject is None or isinstance(ctx.pyproject, dict)


PYPROJECT_SHAPES = st.fixed_dictionaries(
    {},
    optional={
        "project": JSONISH | st.fixed_dictionaries({}, optional={"dependencies": JSONISH}),
        "tool": JSONISH
        | st.fixed_dictionaries(
            {}, optional={"uv": JSONISH | st.fixed_dictionaries({"dev-dependencies": JSONISH})}
        ),
        "dependency-groups": JSONISH | st.dictionaries(st.text(max_size=5), JSONISH),
    },
)


@FUZZ
@given(PYPROJECT_SHAPES)
def test_dependency_tables_of_any_shape_never_raise(data: dict[str, Any]) -> None:
    ctx = RepoContext(Path(tempfile.gettempdir()))
    ctx.__dict__["pyproject"] = data  # a parsed table of any shape, bypassing the file
    ctx.__dict__["files"] = []  # and no other manifest: the temporary folder is not read
    for req in (*ctx.runtime_requirements, *ctx.dev_requirements):
        _check(req, req.raw)


# ----- import resolution -----------------------------------------------------------------
SEGMENT = st.sampled_from(["app", "api", "core", "src", "x", "__init__", "1bad", "a-b", "routes"])
PY_PATH = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda p: "/".join(p) + ".py")
DOTTED = st.lists(SEGMENT, min_size=1, max_size=4).map(".".join)
IMPORT_LINE = st.one_of(
    DOTTED.map(lambda d: f"import {d}"),
    DOTTED.map(lambda d: f"import {d} as alias"),
    st.tuples(st.integers(0, 6), DOTTED | st.just(""), SEGMENT).map(
        lambda t: f"from {'.' * t[0]}{t[1]} import {t[2]}" if t[0] or t[1] else "pass"
    ),
    st.tuples(st.integers(1, 6)).map(lambda t: f"from {'.' * t[0]} import *"),
)


def _module(path: str, lines: list[str]) -> PyModule:
    source = "\n".join(lines) + "\n"
    try:
        tree: ast.Module | None = ast.parse(source)
    except SyntaxError:
        tree = None
    return PyModule(path, source, tree)


@FUZZ
@given(
    st.dictionaries(PY_PATH, st.lists(IMPORT_LINE, max_size=5), min_size=1, max_size=8),
    st.lists(st.sampled_from(["", "src", "app", "api"]), min_size=1, max_size=3, unique=True),
    st.sampled_from(["", "app", "src"]),
)
@example({"app/x.py": ["from ...... import *"]}, [""], "")
@example({"__init__.py": ["from . import x"]}, [""], "")
@example({"1bad/x.py": ["from .. import y"]}, ["1bad"], "1bad")
def test_import_resolution_never_raises_and_resolves_inside_the_project(
    files: dict[str, list[str]], roots: list[str], project: str
) -> None:
    modules = [_module(path, lines) for path, lines in files.items()]
    graph = ImportGraph(modules, roots, project, [m.path for m in modules])
    paths = set(files)
    for edge in graph.edges:
        assert edge.src_path in paths
        if edge.resolved_path is not None:
            target = edge.resolved_path
            assert target in paths or any(p.startswith(f"{target}/") for p in paths), target
        assert edge in graph.edges_from(edge.src_path)
    for path in paths:
        graph.layer_of(path)


# ----- clone URLs ------------------------------------------------------------------------
URL_ATOMS = st.sampled_from(
    [
        "https://",
        "ssh://",
        "file://",
        "ext::",
        "fd::",
        "-",
        "--upload-pack=",
        "git@",
        ":",
        "/",
        "@",
        "example.com",
        "127.0.0.1",
        "[::1]",
        " ",
        "\n",
        "%0a",
        "..",
        "x",
        "sh -c",
    ]
)
URLISH = st.lists(URL_ATOMS | st.text(max_size=4), max_size=10).map("".join)


@FUZZ
@given(URLISH, st.booleans())
@example("--upload-pack=touch /tmp/pwned", True)
@example("ext::sh -c touch% /tmp/pwned", True)
@example("https://-oProxyCommand=x/y", False)
@example("ssh://-oProxyCommand=x/y", False)
@example("git@-oProxyCommand=x:y", False)
@example("https://example.com:99999/x", False)
@example("https://[::1/x", False)
@example("ëxt::x", False)  # IDNA would make it the helper form xn--ext-1da::x
def test_url_validation_refuses_or_returns_a_safe_url(url: str, local: bool) -> None:
    policy = WorkspacePolicy(allowed_schemes=frozenset({"https", "ssh"}), allow_local_paths=local)
    try:
        normalised = validate_url(url, policy)
    except RepositoryError as exc:
        refusal = str(exc)
    else:
        refusal = ""
    if refusal:
        return  # refused with a message to show; anything but RepositoryError fails the test
    assert not normalised.startswith("-")
    assert not re.match(r"[A-Za-z][A-Za-z0-9+.-]*::", normalised)  # no transport helper
    assert not re.search(r"[\s\x00-\x1f\x7f]", normalised)
    if not local:
        assert not normalised.startswith(("/", "file:"))


@pytest.mark.parametrize(
    "url",
    ["--upload-pack=touch /tmp/x", "ext::sh -c id", "fd::3", "file:///etc", "/etc", "../x"],
)
def test_injection_shaped_urls_are_refused(url: str) -> None:
    with pytest.raises(RepositoryError):
        validate_url(url, WorkspacePolicy())


# ----- regression cases hypothesis found --------------------------------------------------
@pytest.mark.parametrize(
    "url", ["https://[::1/x", "https://user:s3cret@[::1/x", "ftp://tok@[bad", "ssh://[/x"]
)
def test_malformed_ipv6_url_is_a_repository_error_not_a_value_error(url: str) -> None:
    # Found by the URL fuzzer: redacting the URL for the error message re-parsed it and
    # raised ValueError from inside the handler (a 500 on the registration form).
    with pytest.raises(RepositoryError, match="URL") as caught:
        validate_url(url, WorkspacePolicy())
    assert "s3cret" not in str(caught.value)
    assert "tok" not in str(caught.value)


def test_redact_url_of_a_malformed_url_still_hides_credentials() -> None:
    from scanners.repo_url import redact_url

    assert redact_url("https://user:s3cret@[::1/x") == "https://***@[::1/x"
    assert redact_url("https://[::1/x") == "https://[::1/x"


@pytest.mark.parametrize("url", ["x[::1]", "a[b:c/d", "git@h]:x", "x]:y"])
def test_scp_host_with_stray_brackets_is_refused(url: str) -> None:
    # Found by the URL fuzzer: `x[::1]` came back as `x::1]`, git's syntax for running
    # the transport helper `git-remote-x` (still blocked by protocol.allow=never).
    with pytest.raises(RepositoryError, match="invalid host"):
        validate_url(url, WorkspacePolicy())

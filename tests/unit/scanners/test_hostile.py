"""Hostile repositories: each one is a real git repository scanned with every rule.

Every scan must finish (a per-test time-out), stay inside the checkout, keep its memory
bounded (tracemalloc peak) and say what it skipped (a note) instead of crashing a rule.
"""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import time
import tracemalloc
import warnings
from pathlib import Path

import pytest

from scanners.context import Limits, RepoContext
from scanners.engine import scan
from scanners.formats.json_report import render_json
from scanners.report import Report
from scanners.results import Status
from scanners.workspace import Workspace, WorkspacePolicy
from tests.gitrepo import commit_all, git, make_repo

MIB = 1024 * 1024
PASSWD_MARKER = "root:x:0:0"  # the first line of /etc/passwd on every Linux system

pytestmark = pytest.mark.timeout(120)

MINIMAL = {
    "pyproject.toml": '[project]\nname = "demo"\nversion = "0.1.0"\ndependencies = ["fastapi"]\n',
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}


def bounded_scan(
    root: Path,
    *,
    peak_mib: int = 256,
    seconds: float = 60,
    context: RepoContext | None = None,
    trace: bool = True,
) -> Report:
    """Scan with every rule; fail on a crashed rule, a memory peak or a time overrun.

    `trace=False` measures the growth of the process's peak RSS instead of tracemalloc's
    peak: for the big trees, where tracing every allocation would triple the run time.
    """
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if trace:
        tracemalloc.start()
    started = time.monotonic()
    try:
        report = scan(root, context=context)
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        tracemalloc.stop()
    if not trace:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    elapsed = time.monotonic() - started
    crashed = [
        f"{o.spec.id}: {o.result.message}"
        for o in report.outcomes
        if o.status is Status.ERROR and "crashed" in o.result.message
    ]
    assert crashed == []
    assert peak < peak_mib * MIB, f"peak {peak / MIB:.0f} MiB"
    assert elapsed < seconds, f"scan took {elapsed:.1f}s"
    assert len(report.outcomes) > 100  # every rule ran
    return report


def notes(report: Report) -> dict[str, str]:
    """path -> reason of the report's notes."""
    return {n.path: n.message for n in report.notes}


def report_text(report: Report) -> str:
    """Everything the report says (messages, evidence, notes) as one string."""
    parts = [f"{n.path} {n.message}" for n in report.notes]
    for outcome in report.outcomes:
        parts.append(outcome.result.message)
        parts.extend(f"{e.path} {e.message}" for e in outcome.result.evidence)
    return "\n".join(parts)


def add_index_entries(repo: Path, entries: list[tuple[str, str, str]]) -> None:
    """Stage (mode, sha, path) entries straight into git's index, without hashing files."""
    lines = "".join(f"{mode} {sha}\t{path}\0" for mode, sha, path in entries)
    subprocess.run(
        ["git", "update-index", "-z", "--index-info"],
        cwd=repo,
        input=lines.encode("utf-8", "surrogateescape"),
        check=True,
        capture_output=True,
    )


def empty_blob(repo: Path) -> str:
    """The id of the empty blob, written into the repository."""
    return (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=repo,
            input=b"",
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )


# ----- symlinks ----------------------------------------------------------------------------
def test_symlinks_to_etc_passwd_and_parent_are_not_followed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", MINIMAL)
    os.symlink("/etc/passwd", repo / "passwd.py")
    os.symlink("..", repo / "up")
    os.symlink("/etc/passwd", repo / "pyproject.toml.link")
    (repo / "app" / "settings.py").symlink_to("../../../../../../etc/passwd")
    commit_all(repo, "feat: links")
    report = bounded_scan(repo)
    found = notes(report)
    for link in ("passwd.py", "up", "app/settings.py"):
        assert "symlink pointing outside the checkout" in found[link]
    assert PASSWD_MARKER not in report_text(report)
    assert PASSWD_MARKER not in render_json(report)


# ----- sizes -------------------------------------------------------------------------------
def test_sparse_200_mib_file_is_refused_by_the_read_limit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**MINIMAL, "app/huge.py": ""})
    # Committed empty, then made huge in the working tree: no 200 MiB hashing.
    with (repo / "app" / "huge.py").open("wb") as handle:
        handle.truncate(200 * MIB)  # sparse: takes no disk space
    report = bounded_scan(repo, peak_mib=64)
    assert "larger than the read limit" in notes(report)["app/huge.py"]


@pytest.mark.slow
def test_100k_file_tree_is_capped_and_reported(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", MINIMAL)
    blob = empty_blob(repo)
    names = [f"data/d{i // 1000:03d}/f{i:06d}.txt" for i in range(100_050)]
    add_index_entries(repo, [("100644", blob, name) for name in names])
    for folder in {name.rpartition("/")[0] for name in names}:
        (repo / folder).mkdir(parents=True)
    for name in names:
        os.close(os.open(repo / name, os.O_CREAT | os.O_WRONLY, 0o644))
    git(repo, "commit", "-q", "-m", "feat: many files")
    ctx = RepoContext(repo)
    report = bounded_scan(repo, context=ctx, seconds=60, trace=False, peak_mib=512)
    assert len(ctx.files) == Limits().max_files
    assert notes(report)["."] == "more than 100000 files: only the first 100000 are read"
    assert "app/main.py" in ctx.file_set  # what is kept is the sorted start, app code first


def test_file_limit_stops_listing_before_looking_at_the_rest(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = {f"a/f{i:02d}.txt": "x\n" for i in range(30)}
    repo = make_repo(tmp_path / "repo", files)
    os.symlink("/etc/passwd", repo / "z-outside")  # sorted after the limit
    commit_all(repo, "feat: link at the end")
    ctx = RepoContext(repo, limits=Limits(max_files=10))
    assert ctx.files == [f"a/f{i:02d}.txt" for i in range(10)]
    assert [(n.path, n.reason) for n in ctx.notes] == [
        (".", "more than 10 files: only the first 10 are read")
    ]  # the symlink past the limit was never even looked at


def test_walk_of_a_plain_folder_is_capped_too(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"f{i}.txt").write_text("x")
    ctx = RepoContext(tmp_path, limits=Limits(max_files=5))
    assert len(ctx.files) == 5
    assert ctx.notes[0].reason == "more than 5 files: only the first 5 are read"


def test_50_mib_pyproject_is_refused_with_a_note(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", MINIMAL)
    padding = "# padding to make the file huge, still valid TOML\n" * (50 * MIB // 50)
    (repo / "pyproject.toml").write_text(MINIMAL["pyproject.toml"] + padding)
    commit_all(repo, "feat: big pyproject")
    report = bounded_scan(repo, peak_mib=64)
    assert "larger than the read limit" in notes(report)["pyproject.toml"]


def _uv_lock(count: int) -> str:
    head = 'version = 1\nrequires-python = ">=3.13"\n\n'
    body = "".join(
        f'[[package]]\nname = "pkg{i}"\nversion = "1.0.{i}"\nsource = {{ registry = "x" }}\n\n'
        for i in range(count)
    )
    return head + body


def test_uv_lock_with_100k_packages_is_refused_at_the_default_limit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**MINIMAL, "uv.lock": _uv_lock(100_000)})
    report = bounded_scan(repo, peak_mib=64)
    assert "larger than the read limit" in notes(report)["uv.lock"]


def test_uv_lock_with_100k_packages_parses_in_bounded_time_when_allowed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**MINIMAL, "uv.lock": _uv_lock(100_000)})
    ctx = RepoContext(repo, limits=Limits(max_file_bytes=64 * MIB))
    bounded_scan(repo, context=ctx, peak_mib=512, seconds=60, trace=False)
    assert ctx.uv_lock is not None
    assert len(ctx.uv_lock["package"]) == 100_000


# ----- parser hazards ----------------------------------------------------------------------
DEEP_SOURCES = {
    "brackets.py": "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
    "lists.py": "x = " + "[" * 10_000 + "]" * 10_000 + "\n",
    "unary.py": "x = " + "-" * 10_000 + "1\n",
    "binop.py": "x = " + " + ".join(["1"] * 10_000) + "\n",
    "attrs.py": "x = a" + ".b" * 10_000 + "\n",
    "calls.py": "x = f" + "()" * 10_000 + "\n",
    "indent.py": "".join(" " * i + "if x:\n" for i in range(10_000)) + " " * 10_000 + "pass\n",
    "lambdas.py": "x = " + "lambda: " * 10_000 + "1\n",
}


def test_python_nested_10000_levels_deep_is_refused_or_parsed_without_crashing(
    tmp_path: Path,
) -> None:
    files = {**MINIMAL, **{f"app/{name}": text for name, text in DEEP_SOURCES.items()}}
    repo = make_repo(tmp_path / "repo", files)
    ctx = RepoContext(repo)
    bounded_scan(repo, context=ctx)
    broken = {m.path: m.error for m in ctx.python_files if m.tree is None}
    # Bracket nesting is refused before the parser recurses; the rest the parser rejects.
    assert broken["app/brackets.py"] == "nested too deeply to parse safely"
    assert broken["app/lists.py"] == "nested too deeply to parse safely"
    assert "app/indent.py" in broken


def test_nul_bytes_and_invalid_utf8_python_files(tmp_path: Path) -> None:
    files = {
        **MINIMAL,
        "app/nul.py": b"\0" * 100_000,
        "app/latin.py": b"x = '\xff\xfe\xfd invalid utf-8'\n\xc3\x28 = 1\n",
        "app/mixed.py": b"import os\n" + b"\0" + b"\x80" * 100,
        "pyproject.toml.bak": b"\xff\xfe",
    }
    repo = make_repo(tmp_path / "repo", files)
    report = bounded_scan(repo)
    found = notes(report)
    assert found["app/nul.py"] == "binary file: skipped"
    assert found["app/latin.py"] == "not UTF-8: read as Latin-1"
    assert found["app/mixed.py"] == "binary file: skipped"


def test_invalid_escapes_in_scanned_code_raise_no_warning(tmp_path: Path) -> None:
    """`"\\d"` in the checkout's code is its own problem, not a warning on the scanner's stderr."""
    repo = make_repo(tmp_path / "repo", {**MINIMAL, "app/regex.py": 'PATTERN = "\\d+"\n'})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = bounded_scan(repo)
    assert [w for w in caught if issubclass(w.category, SyntaxWarning)] == []
    assert "app/regex.py" not in notes(report)  # parsed, not skipped
    assert all(o.status is not Status.ERROR for o in report.outcomes)


@pytest.mark.parametrize(
    "text",
    [
        "this is = not [toml\n",
        "[project\nname = 'x'\n",
        "a = " + "[" * 5_000 + "]" * 5_000 + "\n",
        "a = " + "{ b = " * 3_000 + "1" + " }" * 3_000 + "\n",
        '[project]\nname = "x"\n[project]\nname = "y"\n',
    ],
    ids=["garbage", "unclosed-table", "deep-arrays", "deep-inline-tables", "duplicate-table"],
)
def test_pyproject_that_is_not_toml_is_reported(tmp_path: Path, text: str) -> None:
    repo = make_repo(tmp_path / "repo", {**MINIMAL, "pyproject.toml": text})
    ctx = RepoContext(repo)
    report = bounded_scan(repo, context=ctx)
    assert ctx.pyproject is None
    assert ctx.pyproject_error is not None
    assert "not valid TOML" in notes(report)["pyproject.toml"]


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
repos: &repos
  - repo: local
    hooks: [*i, *i, *i]
"""


@pytest.mark.parametrize("where", [".pre-commit-config.yaml", ".github/workflows/ci.yml"])
def test_yaml_bomb_neither_hangs_nor_explodes(tmp_path: Path, where: str) -> None:
    repo = make_repo(tmp_path / "repo", {**MINIMAL, where: BILLION_LAUGHS})
    report = bounded_scan(repo, peak_mib=128, seconds=30)
    assert "lol" not in report_text(report)


# ----- names -------------------------------------------------------------------------------
HOSTILE_NAMES = [
    "app/new\nline.py",
    "app/$(touch pwned).py",
    "app/`touch pwned`.py",
    "app/; rm -rf ~ ;.py",
    "app/-rf.py",
    "app/--help.py",
    "app/ünïcødé/模块.py",
    "app/quote'\"&|<>.py",
    "app/tab\there.py",
]


def test_path_names_with_newlines_unicode_and_shell_metacharacters(tmp_path: Path) -> None:
    files: dict[str, str | bytes | None] = dict(MINIMAL)
    files.update({name: "import os\n\n\ndef f():\n    return os.sep\n" for name in HOSTILE_NAMES})
    repo = make_repo(tmp_path / "repo", files)
    cwd_before = set(os.listdir(Path.cwd()))
    ctx = RepoContext(repo)
    bounded_scan(repo, context=ctx)
    assert set(HOSTILE_NAMES) <= ctx.file_set
    parsed = {m.path for m in ctx.python_files if m.tree is not None}
    assert set(HOSTILE_NAMES) <= parsed
    assert ctx.lint.error is None  # ruff got every name after `--`, none as an option
    linted = {f.path for f in ctx.lint.findings}
    assert linted <= ctx.file_set
    assert not (repo / "pwned").exists()
    assert set(os.listdir(Path.cwd())) == cwd_before


# ----- git configuration of the scanned repository -----------------------------------------
def _marker_script(tmp_path: Path, marker: Path, name: str) -> Path:
    script = tmp_path / f"{name}.sh"
    script.write_text(f"#!/bin/sh\necho {name} >> {marker}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _hostile_config_repo(tmp_path: Path, marker: Path) -> Path:
    """A repository whose own config, hooks and attributes would run commands."""
    repo = make_repo(
        tmp_path / "hostile",
        {**MINIMAL, ".gitattributes": "*.py filter=evil diff=evil\n", "README.md": "x\n"},
    )
    for name in ("post-checkout", "post-merge", "pre-commit", "reference-transaction"):
        hook = repo / ".git" / "hooks" / name
        hook.write_text(f"#!/bin/sh\necho hook-{name} >> {marker}\n")
        hook.chmod(0o755)
    for key, name in [
        ("core.fsmonitor", "fsmonitor"),
        ("core.sshCommand", "ssh"),
        ("filter.evil.smudge", "smudge"),
        ("filter.evil.clean", "clean"),
        ("diff.evil.textconv", "textconv"),
        ("diff.external", "external"),
        ("core.pager", "pager"),
        ("uploadpack.packObjectsHook", "packhook"),
    ]:
        git(repo, "config", key, str(_marker_script(tmp_path, marker, name)))
    (repo / "app" / "main.py").write_text(MINIMAL["app/main.py"] + "# changed\n")
    git(repo, "-c", "filter.evil.clean=cat", "commit", "-qam", "fix: second commit")
    marker.unlink(missing_ok=True)  # the hooks did run for the repository's own commits
    return repo


def test_workspace_runs_no_hook_or_configured_command_of_the_repository(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = _hostile_config_repo(tmp_path, marker)
    policy = WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache")
    with Workspace(policy).checkout(str(repo)) as checkout:
        assert (checkout.path / ".gitattributes").is_file()
        bounded_scan(checkout.path)
        git(checkout.path, "status")
        git(checkout.path, "log", "-p", "-1")
    assert not marker.exists(), marker.read_text()


def test_direct_scan_of_a_hostile_local_repository_runs_none_of_its_commands(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    repo = _hostile_config_repo(tmp_path, marker)
    bounded_scan(repo)
    assert not marker.exists(), marker.read_text()
    git(repo, "status")  # proof the trap is live: plain git in that repository springs it
    assert "fsmonitor" in marker.read_text()


def test_gitmodules_pointing_at_a_local_path_is_not_fetched(tmp_path: Path) -> None:
    secret = make_repo(tmp_path / "secret", {"SECRET.txt": "private data\n"})
    secret_sha = git(secret, "rev-parse", "HEAD").strip()
    repo = make_repo(
        tmp_path / "repo",
        {
            **MINIMAL,
            ".gitmodules": (
                f'[submodule "vendor"]\n\tpath = vendor\n\turl = {secret}\n'
                f'[submodule "abs"]\n\tpath = abs\n\turl = file://{secret}\n'
            ),
        },
    )
    add_index_entries(repo, [("160000", secret_sha, "vendor"), ("160000", secret_sha, "abs")])
    git(repo, "commit", "-q", "-m", "feat: submodules")
    policy = WorkspacePolicy(allow_local_paths=True, cache_dir=tmp_path / "cache")
    with Workspace(policy).checkout(str(repo)) as checkout:
        tree = checkout.path
        for sub in ("vendor", "abs"):
            assert not (tree / sub).exists() or not any((tree / sub).iterdir())
        assert not (tree / ".git" / "modules").exists()
        report = bounded_scan(tree)
        assert "private data" not in report_text(report)
    everything = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert b"private data" not in everything

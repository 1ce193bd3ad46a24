"""One `ruff check` (and one `ruff format --check`) per scan, with the scanner's own settings.

Ruff runs `--isolated`: the repository's `pyproject.toml`/`ruff.toml` are never read, since
they may `extend` files outside the checkout or switch rules off. The rule selection, the
Google docstring convention, line length 100 and target py313 come from `LintConfig`. Only
regular tracked Python files of the project are passed (no symlinks, nothing vendored, no
virtualenv), as paths relative to the checkout, which is the working directory.

The ruff binary is the pinned `ruff` package of the scanner's own environment (never one
found on `PATH`). A failure (missing binary, time-out, oversized or malformed output, ruff
exiting with an error) is reported in `LintRun.error`: rules then report error or warn,
never pass.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanners.context import RepoContext

SYNTAX_ERROR = "E999"  # the code findings for unparsable files get (ruff says `invalid-syntax`)
DEFAULT_SELECT = (
    "E", "F", "W", "I", "N", "UP", "B", "S", "ASYNC", "ANN", "D", "T20", "DTZ", "PL", "RUF",
    "BLE", "TRY", "E722",
)  # fmt: skip
# The subset STY-001 scores (TRY and BLE are run for LOG-005 and ERR-003 only).
STYLE_SELECT = (
    "E", "F", "W", "I", "N", "UP", "B", "S", "ASYNC", "ANN", "D", "T20", "DTZ", "PL", "RUF",
)  # fmt: skip
_SKIPPED_DIRS = frozenset(
    {".venv", "venv", "env", "node_modules", "vendor", "vendored", "third_party",
     "site-packages", "__pycache__"}
)  # fmt: skip
_TEST_DIRS = frozenset({"tests", "test"})
_PL_CATEGORIES = frozenset({"PLC", "PLE", "PLR", "PLW"})
_MAX_ARGV_BYTES = 200_000  # far below ARG_MAX; bigger file lists run in a few batches


@dataclass(frozen=True, slots=True)
class LintConfig:
    """How the scanner runs ruff; tests shorten the time-out or the output cap."""

    select: tuple[str, ...] = DEFAULT_SELECT
    line_length: int = 100
    target_version: str = "py313"
    docstring_convention: str = "google"
    timeout_s: float = 60.0
    max_output_bytes: int = 64 * 1024 * 1024
    binary: str | None = None  # None: the pinned ruff package's binary


@dataclass(frozen=True, slots=True)
class Finding:
    """One ruff diagnostic; `path` is repository-relative, `line`/`col` 1-based."""

    code: str
    path: str
    line: int
    col: int
    message: str
    is_test: bool = False  # in a tests folder or a test module


@dataclass(slots=True)
class LintRun:
    """The findings of the scan's ruff run (or why there are none)."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    ruff_version: str | None = None
    files_checked: int = 0
    lines_checked: int = 0

    @property
    def ok(self) -> bool:
        """Whether ruff ran to completion."""
        return self.error is None

    def by_code(self, *prefixes: str) -> list[Finding]:
        """Findings whose code matches any selector (`"S"`, `"PL"`, `"ANN401"`), tests included."""
        codes = {f.code for f in self.findings}  # a few dozen codes over many findings
        matching = {c for c in codes if any(code_matches(c, p) for p in prefixes)}
        return [f for f in self.findings if f.code in matching]

    def select(self, codes: str | Iterable[str], *, include_tests: bool = False) -> list[Finding]:
        """Findings matching `codes` (selectors), outside tests unless `include_tests`."""
        wanted = (codes,) if isinstance(codes, str) else tuple(codes)
        return [f for f in self.by_code(*wanted) if include_tests or not f.is_test]

    def per_1000_lines(self, findings: Sequence[Finding]) -> float:
        """Findings per 1,000 checked lines."""
        return 1000 * len(findings) / self.lines_checked if self.lines_checked else 0.0


@dataclass(slots=True)
class FormatCheck:
    """Files `ruff format --check` would reformat (one run per scan)."""

    files: list[str] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)
    error: str | None = None
    files_checked: int = 0


def code_matches(code: str, selector: str) -> bool:
    """Ruff selector semantics: `E` matches `E501` but not `ERA001`; `PL` matches `PLR0913`."""
    if not code.startswith(selector):
        return False
    linter = _letters(code)
    wanted = _letters(selector)
    return wanted == linter or (wanted == "PL" and linter in _PL_CATEGORIES)


def _letters(code: str) -> str:
    end = 0
    while end < len(code) and code[end].isalpha():
        end += 1
    return code[:end]


# ----- ruff itself -----------------------------------------------------------------------
@cache
def ruff_binary() -> str | None:
    """The pinned ruff package's binary, else a `ruff` beside the interpreter, else None."""
    try:
        finder = importlib.import_module("ruff.__main__").find_ruff_bin
        return str(finder())
    except (ImportError, AttributeError, FileNotFoundError):
        pass
    sibling = Path(sys.executable).parent / "ruff"
    return str(sibling) if sibling.is_file() else None


@cache
def ruff_version() -> str | None:
    """Version of the ruff the scanner runs (package metadata, no subprocess)."""
    try:
        return metadata.version("ruff")
    except metadata.PackageNotFoundError:
        return None


def lint_targets(ctx: RepoContext) -> list[str]:
    """Repository-relative Python files ruff checks: regular, readable, not vendored.

    Computed once per context (both ruff runs use it): a shared list, do not mutate.
    """
    return ctx.memo("lint_targets", _lint_targets)


def _lint_targets(ctx: RepoContext) -> list[str]:
    out = []
    for mod in ctx.python_files:
        parts = mod.path.split("/")[:-1]
        if mod.source is None or any(p in _SKIPPED_DIRS or p.startswith(".") for p in parts):
            continue
        if os.path.islink(ctx.root / mod.path):
            continue  # a link's target is checked as itself when it is tracked
        out.append(mod.path)
    return out


def run_lint(ctx: RepoContext, config: LintConfig | None = None) -> LintRun:
    """`ruff check --isolated` over the project's Python files, parsed once."""
    config = config or LintConfig()
    files = lint_targets(ctx)
    lines = {m.path: m.lines for m in ctx.python_files}
    run = LintRun(
        ruff_version=ruff_version(),
        files_checked=len(files),
        lines_checked=sum(lines.get(f, 0) for f in files),
    )
    args = [
        "check", "--isolated", "--no-cache", "--exit-zero", "--quiet",
        "--select", ",".join(config.select),
        "--line-length", str(config.line_length),
        "--target-version", config.target_version,
        "--config", f"lint.pydocstyle.convention='{config.docstring_convention}'",
    ]  # fmt: skip
    project = f"{ctx.project_rel}/" if ctx.project_rel else ""
    places: dict[str, tuple[str, bool]] = {}  # ruff's filename -> (path, is_test), once a file
    for batch in _batches(files):
        findings, error = _check_batch(ctx.root, args, batch, config, project, places)
        if error is not None:
            return LintRun(error=error, ruff_version=run.ruff_version)
        run.findings.extend(findings)
    run.findings.sort(key=lambda f: (f.path, f.line, f.col, f.code))
    return run


def _check_batch(
    root: Path,
    args: list[str],
    batch: list[str],
    config: LintConfig,
    project: str,
    places: dict[str, tuple[str, bool]],
) -> tuple[list[Finding], str | None]:
    """The findings of one batch: ruff's concise text, else (odd output) its JSON.

    The concise lines hold everything a `Finding` keeps, at a fifth of the JSON's size
    (the JSON adds fixes, URLs and end positions): ruff writes them faster and they are
    read without a JSON parse. A line that is not exactly `path:row:col: CODE message` for
    a file of the batch (a message over several lines, a name with `:1:1: ` in it) makes
    the batch run again with the JSON output, which is unambiguous.
    """
    text, error = _run(root, [*args, "--output-format", "concise"], batch, config, {0})
    if error is not None:
        return [], error
    parsed = _concise(text, frozenset(batch), project, places)
    if parsed is not None:
        return parsed, None
    items, error = _run_json(root, [*args, "--output-format", "json"], batch, config, {0})
    return [_finding(root, item, project, places) for item in items], error


# `path:row:col: CODE [*] message` (`[*]`: a fix exists) or `path:row:col: invalid-syntax: ...`
_CONCISE_LINE = re.compile(
    r"(.+?):(\d+):(\d+): (?:([A-Z]+[0-9]+) (?:\[\*\] )?|invalid-syntax: )(.*)"
)


def _concise(
    text: bytes, batch: frozenset[str], project: str, places: dict[str, tuple[str, bool]]
) -> list[Finding] | None:
    """`Finding`s of ruff's `--quiet --output-format concise` text, or None when it is odd."""
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    if lines and not lines[-1]:
        lines.pop()
    findings: list[Finding] = []
    match_line = _CONCISE_LINE.fullmatch
    for line in lines:
        match = match_line(line)
        if match is None or match[1] not in batch:
            return None
        name, row, col, code, message = match.groups()
        place = places.get(name)
        if place is None:
            place = places[name] = _place(name, project)
        if code is None:
            code, message = SYNTAX_ERROR, f"SyntaxError: {message}"
        findings.append(Finding(code, place[0], int(row), int(col), message, place[1]))
    return findings


def run_format_check(ctx: RepoContext, config: LintConfig | None = None) -> FormatCheck:
    """`ruff format --check --isolated` at the configured line length, parsed once."""
    config = config or LintConfig()
    files = lint_targets(ctx)
    result = FormatCheck(files_checked=len(files))
    args = [
        "format", "--check", "--isolated", "--no-cache", "--quiet",
        "--line-length", str(config.line_length), "--target-version", config.target_version,
    ]  # fmt: skip
    for batch in _batches(files):
        reported, error = _format_batch(ctx.root, args, batch, config)
        if error is not None:
            return FormatCheck(error=error)
        for path, code in reported:
            target = result.files if code == "unformatted" else result.unparsable
            if path not in target:
                target.append(path)
    result.files.sort()
    result.unparsable.sort()
    return result


def _format_batch(
    root: Path, args: list[str], batch: list[str], config: LintConfig
) -> tuple[list[tuple[str, str]], str | None]:
    """(path, code) of each file `ruff format --check` reports: concise text, else JSON.

    The JSON holds each file's whole diff; the concise lines, `path:row:col: code: message`,
    hold what is kept. As for `ruff check`, an ambiguous line means the JSON is read.
    """
    # 1: some file would change; 2: also when some file does not parse (still reported).
    ok = {0, 1, 2}
    text, error = _run(root, [*args, "--output-format", "concise"], batch, config, ok)
    if error is not None:
        return [], error
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        lines = [""]  # not ruff's usual output: read the JSON
    members = frozenset(batch)
    matches = [_FORMAT_LINE.fullmatch(line) for line in lines]
    if all(m is not None and m[1] in members for m in matches):
        return [(m[1], m[2]) for m in matches if m is not None], None
    items, error = _run_json(root, [*args, "--output-format", "json"], batch, config, ok)
    reported = [(_relative(root, str(i.get("filename", ""))), str(i.get("code"))) for i in items]
    return reported, error


_FORMAT_LINE = re.compile(r"(.+?):\d+:\d+: ([A-Za-z0-9-]+): .*")


def _batches(files: list[str]) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for name in files:
        if batches[-1] and size + len(name) + 1 > _MAX_ARGV_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(name)
        size += len(name) + 1
    return batches if batches[0] else []


def _run_json(
    cwd: Path, args: list[str], files: list[str], config: LintConfig, ok_codes: set[int]
) -> tuple[list[dict[str, Any]], str | None]:
    """Run ruff with `files` and parse its JSON list, or say why that failed."""
    data, error = _run(cwd, args, files, config, ok_codes)
    if error is not None:
        return [], error
    try:
        items = json.loads(data or b"[]")
    except ValueError:
        return [], "ruff printed output that is not JSON"
    if not isinstance(items, list):
        return [], "ruff printed JSON that is not a list of findings"
    return [i for i in items if isinstance(i, dict)], None


def _run(
    cwd: Path, args: list[str], files: list[str], config: LintConfig, ok_codes: set[int]
) -> tuple[bytes, str | None]:
    """Run ruff with `files` and return what it printed, or say why that failed."""
    binary = config.binary or ruff_binary()
    if binary is None:
        return b"", "ruff is not installed in the scanner's environment"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUFF_")}
    env["NO_COLOR"] = "1"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell, files after `--`
                [binary, *args, "--", *files],
                cwd=cwd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            return b"", f"ruff could not start: {exc.strerror or exc}"
        with proc:
            try:
                wait_exit(proc, config.timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return b"", f"ruff timed out after {config.timeout_s:g}s"
        size = out.seek(0, os.SEEK_END)
        if size > config.max_output_bytes:
            return b"", f"ruff wrote {size} bytes, over the {config.max_output_bytes} bytes limit"
        data = _read(out)
        if proc.returncode not in ok_codes:
            return b"", f"ruff exited with status {proc.returncode}: {_last_line(_read(err))}"
    return data, None


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """`proc.wait(timeout)`, woken by the exit itself rather than by polling.

    `Popen.wait(timeout)` polls with sleeps that double up to 50 ms, which adds up to 50 ms
    to every ruff run; a pidfd (Linux) wakes the caller when the child exits.
    Raises `subprocess.TimeoutExpired` when the child runs longer than `timeout` seconds.
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux, or an old kernel: the polling wait
        return proc.wait(timeout)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(max(0, int(timeout * 1000))) and proc.poll() is None:
            raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(pidfd)
    return proc.wait()


def _read(handle: IO[bytes]) -> bytes:
    handle.seek(0)
    return handle.read()


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    cause = next((ln for ln in reversed(lines) if ln.startswith("Cause:")), None)
    return (cause or (lines[-1] if lines else "no message"))[:300]


def _finding(
    root: Path, item: dict[str, Any], project: str, places: dict[str, tuple[str, bool]]
) -> Finding:
    raw = item.get("location")
    location: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code = item.get("code")
    message = str(item.get("message", ""))
    if not isinstance(code, str) or code == "invalid-syntax" or not code[:1].isalpha():
        code, message = SYNTAX_ERROR, f"SyntaxError: {message}"
    filename = str(item.get("filename", ""))
    place = places.get(filename)
    if place is None:
        place = places[filename] = _place(_relative(root, filename), project)
    return Finding(
        code=code,
        path=place[0],
        line=_int(location.get("row")),
        col=_int(location.get("column")),
        message=message,
        is_test=place[1],
    )


def _place(path: str, project: str) -> tuple[str, bool]:
    """(repository-relative path, is a test) of a file ruff names."""
    return path, _is_test(path[len(project) :] if path.startswith(project) else path)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 1


def _relative(root: Path, filename: str) -> str:
    path = Path(filename)
    if path.is_absolute():
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix()
    return PurePosixPath(filename).as_posix().removeprefix("./")


def _is_test(rel: str) -> bool:
    pure = PurePosixPath(rel)
    name = pure.name
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(part in _TEST_DIRS for part in pure.parts[:-1])

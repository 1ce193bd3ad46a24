"""Find hard-coded secrets in the tracked files of a checkout, without ever echoing them.

Two detectors:
- known formats in every text file: private key blocks, AWS access key ids, GitHub, Slack,
  Google and Stripe tokens, JWTs. These are `high` findings (a rule fails on them), except
  inside tests where private keys and JWTs are usually throwaway fixtures (`low`).
- in Python, the ruff S105-S107 idea on the AST: string literals assigned, passed as keyword,
  used as dict value, default or compared against a secret-like *name*. A password-like
  name with any real literal is `high`; token/key/secret names need a high-entropy literal
  (>= 3.5 bits/char, >= 12 chars) and are `low` (entropy is a guess). In tests, passwords
  are fixtures and ignored; high-entropy tokens and keys there are still `low`. `.env`
  files are read as `NAME=value` the same way.
Placeholders ("changeme", "<...>", "${...}", "xxx", "example", ...) and values that repeat
the name (`PASS = "pass"`) are never findings; `*.example`/`*.sample`/`*.template` files are
documentation: only known formats count there. A line marked `# pragma: allowlist secret`
(detect-secrets) or, in Python, `# noqa: S105`/`S106`/`S107`/`# nosec` is skipped.

One secret is one finding, whichever detectors see it: a literal holding a known format is
that format's finding (the surer, more specific one), not also a guess from its name; a
literal assigned to several names is counted once; a known format inside another (a key
inside a JWT) is part of the outer one.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TypeIs, cast

from scanners.analysis.nodes import of_type
from scanners.context import RepoContext

HIGH = "high"
LOW = "low"
MIN_ENTROPY = 3.5
MIN_SECRET_LENGTH = 12
_MAX_MATCHES = 20  # per pattern and file: enough to act on, bounded on generated files

# Generated or binary files that cannot hold a secret a person typed.
_SKIP_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".ico",
        ".webp",
        ".bmp",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".whl",
        ".jar",
        ".so",
        ".dll",
        ".dylib",
        ".exe",
        ".pyc",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".mov",
        ".sqlite",
        ".db",
        ".lock",
    }
)
_SKIP_NAMES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "go.sum",
    }
)
_DOC_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tpl")

_PATTERNS: dict[str, re.Pattern[str]] = {
    "private key block": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
    "Slack token": re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    "Stripe live key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
}
# Substrings every match of a pattern contains: a cheap, exact test before each regex scan.
_LITERALS: dict[str, tuple[str, ...]] = {
    "private key block": ("-----BEGIN ",),
    "AWS access key id": ("AKIA", "ASIA"),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "Slack token": ("xox",),
    "Google API key": ("AIza",),
    "Stripe live key": ("k_live_",),
    "JWT": ("eyJ",),
}
_FIXTURE_KINDS = frozenset({"private key block", "JWT"})  # `low` inside tests

# A secret-like name: the secret word is the name's last segment (`db_password`, `apiToken`),
# so `password_reset_url` or `token_type` are not secrets.
_PASSWORD_NAME = re.compile(r"(?:^|_)(?:pas+wo?r?d|passwd|passphrase|pwd|pass)$")
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:secret|secret_?key|token|api_?key|apikey|private_?key|access_?key|auth_?key"
    r"|client_?secret|credentials?|signing_?key|encryption_?key)$"
)
_PLACEHOLDER_MARKERS = (
    "changeme",
    "change-me",
    "change_me",
    "change me",
    "replace",
    "your-",
    "your_",
    "yourpass",
    "example",
    "placeholder",
    "dummy",
    "xxx",
    "***",
    "...",
    "todo",
    "fixme",
    "redacted",
    "not-a-secret",
    "notasecret",
    "sample",
)
_TEMPLATE = re.compile(r"^(?:<.*>|\$\{.*\}|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|%\(.*\)s|\{.*\})$")
# A text prefilter for `_python_literals`: a name that `_classify` accepts ends, once snake
# cased, with one of these words, so its spelling in the source (identifier, dict key or
# keyword) holds the word followed by something that is not a letter or digit. Files
# without such a spelling cannot hold a named-literal finding and are not walked.
# Searched in the lower-cased text: a case-insensitive search of the original is ~8x slower
# (the engine tries every alternative at every position) and finds the same files.
_MAYBE_SECRET_NAME = re.compile(
    r"(?:key|token|secret|credentials?|pas+wo?r?d|passwd|passphrase|pass|pwd)(?![a-z0-9])"
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")  # the *name* of a variable, not its value
_PY_SUPPRESSION = re.compile(r"#\s*(?:noqa(?!:)|noqa:[^#]*\bS10[567]\b|nosec\b)")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """One suspected secret: where, what kind, how sure, and a masked preview."""

    path: str
    line: int
    kind: str
    confidence: str  # HIGH or LOW
    preview: str  # masked: never the secret itself

    @property
    def message(self) -> str:
        """One actionable line, with the value masked; a guess says it is one."""
        shown = f" ({self.preview})" if self.preview else ""
        if self.confidence == LOW:
            return f"possible {self.kind}{shown}: if real, move it to the environment and rotate it"
        return f"{self.kind}{shown}: move it to the environment and rotate it"


def mask(value: str) -> str:
    """First four characters and `***`: enough to find it, not enough to use it."""
    return f"{value[:4]}***"


def shannon_entropy(value: str) -> float:
    """Bits per character of `value`."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


def is_placeholder(value: str) -> bool:
    """Whether a literal is obviously not a real secret."""
    stripped = value.strip().strip("'\"")
    lowered = stripped.lower()
    if len(stripped) < 4 or len(set(stripped)) <= 2:
        return True
    if _TEMPLATE.match(stripped) or any(m in lowered for m in _PLACEHOLDER_MARKERS):
        return True
    return lowered in {"password", "secret", "token", "none", "null", "true", "false"}


def may_name_a_secret(text: str) -> bool:
    """Whether `text` spells a secret-like name at all (the cheap test before the AST)."""
    return _MAYBE_SECRET_NAME.search(text.lower()) is not None


def is_test_path(path: str) -> bool:
    """Whether a repository path belongs to the test suite."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return (
        any(p in {"tests", "test", "testing", "fixtures"} for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def scan_secrets(ctx: RepoContext) -> list[SecretFinding]:
    """Every suspected secret in the tracked text files, in path/line order."""
    findings: list[SecretFinding] = []
    for path in ctx.files:
        pure = PurePosixPath(path)
        if pure.suffix.lower() in _SKIP_SUFFIXES or pure.name in _SKIP_NAMES:
            continue
        text = ctx.read_text(path)
        if text is None:
            continue
        found = list(_known_formats(path, text))
        if (
            pure.suffix == ".py"
            and not pure.name.endswith(_DOC_SUFFIXES)
            and may_name_a_secret(text)
        ):
            found.extend(_python_literals(ctx, path))
        elif pure.name == ".env" or (
            pure.name.startswith(".env.") and not pure.name.endswith(_DOC_SUFFIXES)
        ):
            found.extend(_env_assignments(path, text))
        if found:
            lines = text.splitlines()
            python = pure.suffix == ".py"
            findings.extend(f for f in found if not _suppressed(lines, f.line, python))
    return sorted(findings, key=lambda f: (f.path, f.line, f.kind))


def _suppressed(lines: list[str], line: int, python: bool) -> bool:
    """An allowlist comment on the line: detect-secrets' pragma, or noqa/nosec in Python."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if "pragma: allowlist secret" in text:
        return True
    return python and bool(_PY_SUPPRESSION.search(text))


def _known_formats(path: str, text: str) -> Iterator[SecretFinding]:
    in_tests = is_test_path(path)
    found = [(match, kind) for kind in _PATTERNS for match in _real_matches(kind, text)]
    # Outer matches first: a match that ends within one already kept lies inside it.
    found.sort(key=lambda item: (item[0].start(), -item[0].end()))
    kept_until = -1
    for match, kind in found:
        if match.end() <= kept_until:
            continue  # a token inside another one (a key in a JWT): the same secret
        kept_until = match.end()
        line = text.count("\n", 0, match.start()) + 1
        confidence = LOW if in_tests and kind in _FIXTURE_KINDS else HIGH
        preview = "" if kind == "private key block" else mask(match.group(0))
        yield SecretFinding(path, line, kind, confidence, preview)


def _real_matches(kind: str, text: str) -> Iterator[re.Match[str]]:
    """The first matches of one known format in `text`, documentation tokens left out."""
    if not any(map(text.__contains__, _LITERALS[kind])):  # `literal in text`, in C
        return
    for count, match in enumerate(_PATTERNS[kind].finditer(text)):
        if count >= _MAX_MATCHES:
            break
        if kind == "private key block" or not _fake_token(match.group(0)):
            yield match


def _holds_known_format(value: str) -> bool:
    """Whether `_known_formats` reports a token inside `value`: then that is its finding."""
    return any(next(_real_matches(kind, value), None) is not None for kind in _PATTERNS)


def _fake_token(value: str) -> bool:
    """Documentation tokens (`AKIAIOSFODNN7EXAMPLE`) and repeated characters."""
    body = re.sub(r"^[a-z]+_|^(?:AKIA|ASIA|AIza|xox[baprs]-)", "", value)
    lowered = value.lower()
    return any(m in lowered for m in ("example", "xxxx", "dummy", "fake", "sample")) or (
        shannon_entropy(body) < 3.0
    )


def _classify(name: str, value: str, in_tests: bool) -> str | None:
    """Confidence of `name = value` being a hard-coded secret, or None."""
    key = _snake(name)
    password = bool(_PASSWORD_NAME.search(key))
    if not (password or _SECRET_NAME.search(key)):
        return None
    if is_placeholder(value) or _ENV_NAME.match(value) or any(c.isspace() for c in value):
        return None
    if _snake(value) in {key, key.rsplit("_", 1)[-1]}:
        return None  # an enum-like constant: `PASS = "pass"`, `TOKEN = "token"`
    if password:
        return None if in_tests else HIGH
    strong = len(value) >= MIN_SECRET_LENGTH and shannon_entropy(value) >= MIN_ENTROPY
    return LOW if strong else None


def _snake(name: str) -> str:
    """`apiToken` / `API-TOKEN` -> `api_token`."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _python_literals(ctx: RepoContext, path: str) -> Iterator[SecretFinding]:
    module = ctx.module(path)
    if module is None or module.tree is None:
        return
    in_tests = is_test_path(path)
    # One finding per literal: `API_KEY = SECRET_KEY = "..."` is one secret, under its surest name.
    kept: dict[tuple[int, int], SecretFinding] = {}
    for name, node in _named_literals(module.tree):
        if not _may_name(name):
            continue  # the cheap test first: most names spell no secret at all
        value = cast("str", node.value)
        confidence = _classify(name, value, in_tests)
        if confidence is None or _holds_known_format(value):
            continue
        where = (node.lineno, node.col_offset)
        if where not in kept or (confidence == HIGH and kept[where].confidence == LOW):
            kind = f"hard-coded literal assigned to {name!r}"
            kept[where] = SecretFinding(path, node.lineno, kind, confidence, mask(value))
    yield from kept.values()


@lru_cache(maxsize=8192)
def _may_name(name: str) -> bool:
    """`may_name_a_secret(name)`, once per distinct name (names repeat across a checkout)."""
    return may_name_a_secret(name)


def _named_literals(tree: ast.Module) -> list[tuple[str, ast.Constant]]:
    """(name, string literal) pairs: assignments, keywords, dict items, defaults, compares.

    Grouped by kind of node rather than in tree order: `scan_secrets` sorts what it finds.
    """
    out: list[tuple[str, ast.Constant]] = []
    _assigned(tree, out)
    _passed(tree, out)
    _defaults(tree, out)
    for compare in of_type(tree, ast.Compare):
        literal = compare.comparators[0]
        if len(compare.comparators) == 1 and _is_text(literal):
            name = _target_name(compare.left)
            if name:
                out.append((name, literal))
    return out


def _assigned(tree: ast.Module, out: list[tuple[str, ast.Constant]]) -> None:
    """Literals assigned (`x = "..."`, `x: str = "..."`) to a name, attribute or key."""
    for node in of_type(tree, ast.Assign):
        value = node.value
        if _is_text(value):
            for target in node.targets:
                name = _target_name(target)
                if name:
                    out.append((name, value))
    for annotated in of_type(tree, ast.AnnAssign):
        literal = annotated.value
        if _is_text(literal):
            name = _target_name(annotated.target)
            if name:
                out.append((name, literal))


def _passed(tree: ast.Module, out: list[tuple[str, ast.Constant]]) -> None:
    """Literals passed as keyword arguments or stored under a string key of a dict."""
    for keyword in of_type(tree, ast.keyword):
        value = keyword.value
        if keyword.arg and _is_text(value):
            out.append((keyword.arg, value))
    for mapping in of_type(tree, ast.Dict):
        for key, item in zip(mapping.keys, mapping.values, strict=True):
            if _is_text(key) and key.value and _is_text(item):
                out.append((cast("str", key.value), item))


def _defaults(tree: ast.Module, out: list[tuple[str, ast.Constant]]) -> None:
    """Literals that are the default value of a parameter."""
    for args in of_type(tree, ast.arguments):
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
        ):
            if _is_text(default):
                out.append((arg.arg, default))
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if _is_text(kw_default):
                out.append((arg.arg, kw_default))


def _is_text(node: ast.AST | None) -> TypeIs[ast.Constant]:
    """Whether `node` is a string literal."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _target_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _env_assignments(path: str, text: str) -> Iterator[SecretFinding]:
    in_tests = is_test_path(path)
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ENV_LINE.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        value = match.group(2).strip().strip("'\"")
        confidence = _classify(match.group(1), value, in_tests)
        if confidence is not None and not _holds_known_format(value):
            kind = f"hard-coded value for {match.group(1)}"
            yield SecretFinding(path, number, kind, confidence, mask(value))

"""Kinds of declarations, the model and its builder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from scanners.deps import Requirement, normalise, parse_strict

#: Words that make a group, extra, environment or requirements file a development one.
DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "e2e",
        "lint",
        "linting",
        "linters",
        "docs",
        "doc",
        "documentation",
        "typing",
        "types",
        "typecheck",
        "mypy",
        "format",
        "formatting",
        "style",
        "ci",
        "qa",
        "check",
        "checks",
        "coverage",
        "bench",
        "benchmark",
        "benchmarks",
        "perf",
        "tools",
        "tooling",
        "debug",
        "local",
        "precommit",
        "pre-commit",
        "security",
        "audit",
        "notebook",
        "notebooks",
        "jupyter",
        "release",
    }
)


def is_dev_label(label: str) -> bool:
    """Whether a group, extra, environment or file name is a development one."""
    label = label.lower()
    return label in DEV_WORDS or any(t in DEV_WORDS for t in re.split(r"[-_.\s]+", label))


def counts_as_runtime(kind: str) -> bool:
    """A `runtime` declaration, or one in a group whose name is not a development word."""
    if kind == "runtime":
        return True
    return kind.startswith("group:") and not is_dev_label(kind.removeprefix("group:"))


def counts_as_dev(kind: str) -> bool:
    """A `dev` declaration, or one in a group or extra named with a development word."""
    if kind == "dev":
        return True
    prefix, _, label = kind.partition(":")
    return prefix in ("group", "optional") and is_dev_label(label)


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a manifest (repository-relative path, 1-based line or None)."""

    path: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ModelNote:
    """Something the model skipped or could not judge, and where."""

    path: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class PythonConstraint:
    """The Python versions the project declares it supports, as a PEP 440 specifier."""

    specifier: str
    raw: str
    path: str
    line: int | None
    source: str  # "requires-python", "Poetry python", "python_requires"


@dataclass(frozen=True)
class DependencyModel:
    """Every dependency declaration of one project, with where they live."""

    declarations: tuple[Requirement, ...] = ()
    manifests: tuple[str, ...] = ()  # repository-relative, in reading order
    notes: tuple[ModelNote, ...] = ()
    python: PythonConstraint | None = None
    runtime_home: Location | None = None  # where a runtime dependency would be added
    dev_home: Location | None = None  # where a dev dependency would be added

    def runtime(self) -> list[Requirement]:
        """Declarations a plain install of the project brings (see `scanners.depmodel`)."""
        return [d for d in self.declarations if counts_as_runtime(d.kind)]

    def dev(self) -> list[Requirement]:
        """Development declarations."""
        return [d for d in self.declarations if counts_as_dev(d.kind)]

    def named(self, *names: str) -> list[Requirement]:
        """Every declaration (any kind) of one of `names`."""
        wanted = {normalise(n) for n in names}
        return [d for d in self.declarations if d.name in wanted]


@dataclass
class Builder:
    """Collects declarations and notes while the manifests are read."""

    declarations: list[Requirement] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    notes: list[ModelNote] = field(default_factory=list)
    python: PythonConstraint | None = None
    project_name: str | None = None
    extras: set[str] = field(default_factory=set)
    self_extras: list[tuple[str, str, int | None]] = field(default_factory=list)

    def note(self, path: str, line: int | None, message: str) -> None:
        """Record something skipped or unjudged (once, however often it is met)."""
        note = ModelNote(path, line, message)
        if note not in self.notes:  # an included group is read once per includer
            self.notes.append(note)

    def add(self, req: Requirement, kind: str, path: str, line: int | None, manager: str) -> None:
        """Record a declaration; the project naming itself (`svc[extra]`) records its extras."""
        if self.project_name and req.name == self.project_name:
            # `myapp[extra]`: the project's own extras, not a dependency.
            self.self_extras.extend((extra, path, line) for extra in sorted(req.extras))
            return
        self.declarations.append(replace(req, kind=kind, path=path, line=line, manager=manager))

    def add_pep508(self, raw: object, kind: str, path: str, line: int | None, manager: str) -> None:
        """One PEP 508 string; anything else is skipped with a note."""
        req = parse_strict(raw) if isinstance(raw, str) else None
        if req is None:
            self.note(path, line, f"not a valid requirement, skipped: {str(raw)[:80]!r}")
            return
        self.add(req, kind, path, line, manager)

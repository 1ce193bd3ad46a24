"""Data-driven harness for rule tests: build a repository, run ONE rule, check the outcome.

A test module lists `Case`s and parametrizes over them::

    CASES = [Case("golden passes"), Case("no lock", {"uv.lock": None}, FAIL, path="uv.lock")]

    @pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
    def test_dep001(tmp_path: Path, case: Case) -> None:
        check(tmp_path, "DEP-001", case)

A case starts from the golden project (tests/fixtures/golden) unless it gives `files`
(a repository built from nothing). `changes` are relative to the project root (`prefix` is
prepended; None deletes a file); `repo_changes` are repository-relative (files beside a
`backend/` project, for instance). Expected evidence paths are repository-relative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scanners.context import RepoContext
from scanners.engine import evaluate_rule
from scanners.results import Evidence, RuleResult, Severity, Status
from scanners.standard import RuleSpec, StandardError, default_standard
from tests.gitrepo import FileMap, golden_files, make_repo, write_files

PASS = Status.PASS
FAIL = Status.FAIL
WARN = Status.WARN
NOT_APPLICABLE = Status.NOT_APPLICABLE


@dataclass(frozen=True)
class Case:
    """One scenario for one rule and what it must yield."""

    name: str
    changes: FileMap = field(default_factory=dict)
    status: Status = PASS
    path: str | None = None  # one evidence item must carry this repository-relative path
    line: int | None = None  # ... and this line (checked on the same evidence item)
    message: str | None = None  # substring of the result message (case-insensitive)
    paths: tuple[str, ...] = ()  # further paths that must each appear in the evidence
    absent: tuple[str, ...] = ()  # paths that must NOT appear in the evidence
    prefix: str = ""  # put the project below this folder ("backend/")
    repo_changes: FileMap = field(default_factory=dict)
    files: FileMap | None = None  # build from these files only, not from the golden project
    project_dir: str | None = None  # RepoContext(project_dir=...)
    git: bool = True  # False: a plain folder, no git repository


def case_ids(cases: list[Case]) -> list[str]:
    """Readable pytest ids for a list of cases."""
    return [c.name.replace(" ", "-") for c in cases]


def spec_for(rule_id: str) -> RuleSpec:
    """The rule's spec from the default standard, or a minimal one while the file lacks it."""
    try:
        spec = default_standard().rules.get(rule_id)
    except StandardError:
        spec = None
    if spec is not None:
        return spec
    section = rule_id.split("-", 1)[0]
    return RuleSpec(
        id=rule_id,
        section=section,
        severity=Severity.MAJOR,
        evaluation="static",
        title=rule_id,
        rationale="-",
        remediation="-",
        heading=section,
        weight=4,
    )


def build(tmp_path: Path, case: Case, base_changes: FileMap | None = None) -> Path:
    """Write the case's repository below `tmp_path` and return its root."""
    root = tmp_path / "repo"
    files: dict[str, str | bytes | None]
    if case.files is not None:
        files = dict(case.files)
    else:
        files = {f"{case.prefix}{rel}": text for rel, text in golden_files().items()}
        for rel, content in {**(base_changes or {}), **case.changes}.items():
            files[f"{case.prefix}{rel}"] = content
    files.update(case.repo_changes)
    present = {rel: content for rel, content in files.items() if content is not None}
    if case.git:
        make_repo(root, present)
    else:
        root.mkdir(parents=True)
        write_files(root, present)
    return root


def run_rule(
    tmp_path: Path, rule_id: str, case: Case, base_changes: FileMap | None = None
) -> RuleResult:
    """Build the case's repository and evaluate one rule on it through the engine."""
    root = build(tmp_path, case, base_changes)
    ctx = RepoContext(root, project_dir=case.project_dir)
    return evaluate_rule(spec_for(rule_id), ctx).result


def _describe(result: RuleResult) -> str:
    items = "; ".join(f"{e.path}:{e.line} {e.message}" for e in result.evidence)
    return f"{result.status}: {result.message} [{items}]"


def check(
    tmp_path: Path, rule_id: str, case: Case, base_changes: FileMap | None = None
) -> RuleResult:
    """Run the case and assert status, message and evidence; return the result for more checks."""
    result = run_rule(tmp_path, rule_id, case, base_changes)
    shown = _describe(result)
    assert result.status == case.status, shown
    if case.message is not None:
        assert case.message.lower() in result.message.lower(), shown
    if result.status not in (PASS, NOT_APPLICABLE):
        assert result.evidence, f"a non-pass result needs evidence: {shown}"
    if case.path is not None:
        assert _matching(result.evidence, case.path, case.line), shown
    evidence_paths = {e.path for e in result.evidence}
    for path in case.paths:
        assert path in evidence_paths, shown
    for path in case.absent:
        assert path not in evidence_paths, shown
    return result


def _matching(evidence: list[Evidence], path: str, line: int | None) -> bool:
    return any(e.path == path and (line is None or e.line == line) for e in evidence)

"""`yardstick`: scan a repository against the standard, list rules, explain one rule.

Works without Django, a database or a broker, so teams can run it in CI and pre-commit.
Exit codes: 0 success (score at or above --fail-under), 1 score below it or, compared with a
baseline (--diff-base, --baseline), a new finding at or above --fail-on; 2 usage, clone,
baseline or standard errors (one `yardstick: error: ...` line on stderr).
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import json
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from scanners import ENGINE_VERSION
from scanners.advisories import ENV_VAR, AdvisoryDatabaseError, update_database
from scanners.baseline import Baseline, BaselineError, compare_with, load_baseline, resolve_ref
from scanners.baseline import scan_base as scan_baseline
from scanners.context import RepoContext
from scanners.discovery import Discovery
from scanners.engine import scan
from scanners.fingerprints import Comparison
from scanners.formats import (
    FORMATS,
    default_anchor,
    render_diff_text,
    render_json,
    render_sarif,
    render_text,
)
from scanners.formats.text import use_colour
from scanners.measured import ReportParseError, Reports
from scanners.measured.parsers import load_mypy_output, parse_coverage, parse_junit, read_report
from scanners.report import Report
from scanners.results import Severity
from scanners.rules import registry
from scanners.standard import RuleSpec, Standard, StandardError, load_standard
from scanners.upload import TOKEN_ENV as UPLOAD_TOKEN_ENV
from scanners.upload import UploadError, upload_report
from scanners.workspace import RepositoryError, Workspace, WorkspacePolicy, default_cache_dir

EXAMPLES = """\
examples:
  yardstick scan .                                  scan the current checkout in place
  yardstick scan . --format sarif -o yardstick.sarif
  yardstick scan https://github.com/org/api.git --ref v1.4.0 --fail-under 80
  yardstick scan ../service --project-dir backend --only DEP-001,FW-001
  yardstick projects .                              list the Python projects, mark the judged one
  yardstick scan . --upload https://yardstick.example.com/api/v1/repositories/42/reports
  yardstick scan . --coverage coverage.xml --junit junit.xml   judge TST-006 and TST-008
  yardstick scan . --diff-base origin/main          only the findings this branch introduces
  yardstick scan . --baseline main.json --fail-on critical --format sarif -o new.sarif
  yardstick rules --format markdown > docs/rules.md
  yardstick explain DEP-001
  yardstick advisories update                       refresh the offline OSV database

exit status: 0 ok, 1 score below --fail-under or (with --diff-base or --baseline) a new
finding at or above --fail-on, 2 usage, clone, baseline or standard error.
"""
SCAN_DESCRIPTION = """\
Judge a repository against the standard and print the report: every rule's result by
section, the score and the level. A local folder is read in place; a clone URL (or a folder
with --ref) is checked out into a scratch folder first."""
PROJECTS_EXAMPLES = """\
A checkout may hold several Python projects: a uv workspace root and its members, services
side by side (services/a, services/b), a service declared by requirements files only.
`yardstick scan` judges one of them: the folder named with --project-dir, else the one whose
code builds a web application (FastAPI, Litestar, Flask, Starlette, Django, ...), else the
shallowest. This command lists them and marks the judged one with `*`.

examples:
  yardstick projects .
  yardstick projects ../monorepo --project-dir services/billing
  yardstick projects . --format json | jq '.discovery.candidates[].folder'
"""
#: A new finding of a rule this severe or more fails a scan compared with a baseline.
DEFAULT_FAIL_ON = Severity.MAJOR
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*(://|::)")


class UsageError(Exception):
    """A mistake on the command line or in its inputs: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, as every other failure of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"yardstick: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="yardstick",
        description="Score how far a Python/FastAPI repository follows the standard.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"yardstick {ENGINE_VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan_cmd = commands.add_parser(
        "scan",
        help="scan a checkout or a clone URL",
        description=SCAN_DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan_cmd.add_argument("target", metavar="PATH_OR_URL", help="local folder or clone URL")
    scan_cmd.add_argument("--ref", help="branch, tag or commit to scan (default branch)")
    scan_cmd.add_argument(
        "--project-dir",
        metavar="DIR",
        help="project root in the repository (default: found; see `yardstick projects`)",
    )
    scan_cmd.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text table (default), json (docs/report-schema.json) or sarif (code scanning)",
    )
    scan_cmd.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    scan_cmd.add_argument(
        "--fail-under",
        type=_percent,
        default=0.0,
        metavar="N",
        help="exit 1 when the score is below N (0-100, default 0)",
    )
    scan_cmd.add_argument(
        "--only", metavar="RULE,RULE", help="run only these rule ids (comma-separated)"
    )
    scan_cmd.add_argument(
        "--upload",
        metavar="URL",
        help="also POST the JSON report to a Yardstick server "
        "(https://HOST/api/v1/repositories/ID/reports)",
    )
    scan_cmd.add_argument(
        "--token", metavar="T", help=f"API token for --upload (default ${UPLOAD_TOKEN_ENV})"
    )
    scan_cmd.add_argument(
        "--coverage",
        metavar="FILE",
        help="coverage report for TST-006 (Cobertura coverage.xml or coverage.py JSON)",
    )
    scan_cmd.add_argument("--junit", metavar="FILE", help="JUnit XML of the test run (TST-008)")
    scan_cmd.add_argument(
        "--mypy", metavar="FILE", help="saved output of `mypy --strict` (STY-009)"
    )
    _standard_option(scan_cmd)
    _diff_options(scan_cmd)
    scan_cmd.add_argument(
        "--allow-local",
        action="store_true",
        help="allow file:// URLs (local folders given as paths are always allowed)",
    )

    projects_cmd = commands.add_parser(
        "projects",
        help="list the Python projects of a checkout and which one a scan judges",
        description="List the Python projects of a checkout and which one a scan judges.",
        epilog=PROJECTS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    projects_cmd.add_argument("target", metavar="PATH", help="local folder (a checkout)")
    projects_cmd.add_argument(
        "--project-dir", metavar="DIR", help="the folder you would pass to `scan`"
    )
    projects_cmd.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )

    rules_cmd = commands.add_parser(
        "rules",
        help="list every rule of the standard",
        description="List every rule of the standard: id, severity, how it is evaluated "
        "(static, history, report or attest) and title.",
    )
    rules_cmd.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text table (default), json, or markdown (the docs/rules.md reference)",
    )
    _standard_option(rules_cmd)

    explain_cmd = commands.add_parser(
        "explain",
        help="explain one rule and how it decides",
        description="Explain one rule: what it asks, why, how to fix a failure and how the "
        "engine decides.",
    )
    explain_cmd.add_argument("rule", metavar="RULE", help="rule id, e.g. DEP-001")
    _standard_option(explain_cmd)

    advisories_cmd = commands.add_parser(
        "advisories",
        help="manage the offline advisory database",
        description="Manage the offline copy of the OSV advisories for PyPI that DSEC-003 "
        "reads: scans never download it themselves.",
    )
    advisories_verbs = advisories_cmd.add_subparsers(dest="verb", required=True, metavar="VERB")
    update_cmd = advisories_verbs.add_parser(
        "update",
        help="download the OSV PyPI export (or import a local file) for DSEC-003",
        description="Download the OSV export of PyPI advisories (or import a local copy) into "
        "the database DSEC-003 reads.",
    )
    update_cmd.add_argument(
        "--from", dest="source", metavar="FILE|URL", help="OSV zip, JSON or folder (default: OSV)"
    )
    update_cmd.add_argument(
        "--db",
        metavar="PATH",
        help=f"database path (default ${ENV_VAR}, else <cache dir>/advisories)",
    )
    return parser


def _diff_options(parser: argparse.ArgumentParser) -> None:
    """--diff-base / --baseline (one of them) and --fail-on: report only new findings."""
    group = parser.add_argument_group(
        "new findings only",
        textwrap.fill(
            "Compare with a baseline and report only the findings introduced since: the same "
            "rule at the same file and line content (line numbers may shift). The text output "
            "lists the new findings and counts the fixed and unchanged ones; JSON adds a `diff` "
            "member; SARIF marks each result's baselineState (new, unchanged, absent = fixed).",
            width=78,
        ),
    )
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "--diff-base",
        metavar="REF",
        help="scan this commit, branch or tag of the same repository (e.g. origin/main) as "
        "the baseline",
    )
    source.add_argument(
        "--baseline",
        metavar="FILE",
        help="use a JSON report written earlier by `yardstick scan --format json` as the baseline",
    )
    severities = [s.value for s in Severity]
    group.add_argument(
        "--fail-on",
        choices=severities,
        metavar="SEVERITY",
        help=f"exit 1 when a new finding's rule is this severe or more ({', '.join(severities)};"
        f" default {DEFAULT_FAIL_ON.value})",
    )


def _standard_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--standard", metavar="FILE", help="standard file (YAML); default: the bundled one"
    )


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100")
    return value


# ----- scan ------------------------------------------------------------------------------
def _is_url(target: str) -> bool:
    """A clone URL (scheme, transport helper or git's `user@host:path` form), not a path."""
    if _URL_LIKE.match(target):
        return True
    head, colon, _ = target.partition(":")
    return bool(colon) and "/" not in head and not Path(target).exists()


def _rule_ids(text: str | None, standard: Standard) -> set[str] | None:
    if text is None:
        return None
    ids = {part.strip().upper() for part in text.split(",") if part.strip()}
    if not ids:
        raise UsageError("--only needs at least one rule id")
    for rule_id in sorted(ids):
        if rule_id not in standard.rules:
            raise UsageError(_unknown_rule(rule_id, standard))
    return ids


def _unknown_rule(rule_id: str, standard: Standard) -> str:
    close = difflib.get_close_matches(rule_id.upper(), list(standard.rules), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown rule {rule_id!r}{hint}"


@contextmanager
def _checkout(args: argparse.Namespace) -> Iterator[tuple[Path, str]]:
    """(folder to scan, repository label): in place, or a scratch tree from the workspace."""
    target: str = args.target
    if not _is_url(target):
        folder = Path(target).expanduser()
        if not folder.is_dir():
            raise UsageError(f"no such folder: {target}")
        bare = (folder / "HEAD").is_file() and (folder / "objects").is_dir()
        if args.ref is None and not bare:
            yield folder.resolve(), str(folder.resolve())
            return
        local = True  # the user named a folder of their own: cloning it is safe
    elif target.lower().startswith("file:") and not args.allow_local:
        raise UsageError("file:// URLs are refused unless you pass --allow-local")
    else:
        local = bool(args.allow_local)
    policy = WorkspacePolicy(allow_local_paths=local, cache_dir=default_cache_dir())
    with Workspace(policy).checkout(target, args.ref) as checkout:
        yield checkout.path, checkout.url


def _render(
    report: Report, fmt: str, root: Path, colour: bool, comparison: Comparison | None
) -> str:
    if fmt == "json":
        return render_json(report, comparison=comparison)
    if fmt == "sarif":
        anchor = default_anchor(report.project_dir, root)
        return render_sarif(report, anchor=anchor, comparison=comparison)
    if comparison is not None:
        return render_diff_text(report, comparison, colour=colour)
    return render_text(report, colour=colour)


BaselineSource = Callable[[Report], Baseline]


def _baseline_source(
    args: argparse.Namespace, standard: Standard, only: set[str] | None, reports: Reports | None
) -> BaselineSource | None:
    """How to get the baseline once the current report is known (the base scan judges the
    same project folder); checked before any scan: a bad file or ref fails at once."""
    if args.fail_on is not None and not (args.diff_base or args.baseline):
        raise UsageError("--fail-on needs --diff-base or --baseline")
    if args.baseline:
        baseline = load_baseline(args.baseline)
        return lambda report: baseline
    if not args.diff_base:
        return None
    ref: str = args.diff_base
    if _is_url(args.target):
        source, allow = args.target, bool(args.allow_local)
    else:
        folder = Path(args.target).expanduser()
        if not folder.is_dir():
            raise UsageError(f"no such folder: {args.target}")
        source, ref, allow = str(folder.resolve()), resolve_ref(folder, ref), True

    def base(report: Report) -> Baseline:
        return scan_baseline(
            source,
            ref,
            label=args.diff_base,
            allow_local=allow,
            standard=standard,
            only=only,
            project_dir=report.project_dir,
            reports=reports,
        )

    return base


def _reports(args: argparse.Namespace) -> Reports | None:
    """Measured results named on the command line, parsed before any clone."""
    if not (args.coverage or args.junit or args.mypy):
        return None
    try:
        coverage = (
            parse_coverage(read_report(args.coverage), Path(args.coverage).name)
            if args.coverage
            else None
        )
        tests = parse_junit(read_report(args.junit), Path(args.junit).name) if args.junit else None
        mypy = load_mypy_output(args.mypy) if args.mypy else None
    except ReportParseError as exc:
        raise UsageError(f"invalid report: {exc}") from exc
    return Reports(coverage=coverage, tests=tests, mypy=mypy)


def _scan(args: argparse.Namespace) -> int:
    standard = _load_standard(args.standard)
    only = _rule_ids(args.only, standard)
    reports = _reports(args)
    baseline = _baseline_source(args, standard, only, reports)
    comparison = None
    with _checkout(args) as (root, label):
        context = RepoContext(root, project_dir=args.project_dir)
        _check_project_dir(context)
        report = scan(
            root,
            standard=standard,
            only=only,
            repository=label,
            reports=reports,
            context=context,
        )
        context.release()  # before anything allocates: see `RepoContext.release`
        if baseline is not None:
            comparison = compare_with(baseline(report), report)
        colour = args.output is None and use_colour(sys.stdout)
        text = _render(report, args.format, root, colour, comparison)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    if args.upload:
        _upload(args, report)
    score = report.score
    shown = "n/a" if score.value is None else f"{score.value:g}"
    below = args.fail_under > 0 and (score.value is None or score.value < args.fail_under)
    if args.output is not None or below:
        verdict = f", below --fail-under {args.fail_under:g}" if below else ""
        _say(f"yardstick: score {shown}, level {score.level.value}{verdict}")
    if comparison is None:
        return 1 if below else 0
    return 1 if _new_findings_fail(args, comparison) or below else 0


def _new_findings_fail(args: argparse.Namespace, comparison: Comparison) -> bool:
    """Say what the comparison found where the report does not; whether it fails the scan."""
    fail_on = Severity(args.fail_on) if args.fail_on else DEFAULT_FAIL_ON
    failing = comparison.new_at_or_above(fail_on)
    if args.format != "text" or args.output is not None:
        for note in comparison.notes:
            _say(f"yardstick: note: {note}")
        _say(f"yardstick: {comparison.summary()}")
    if failing:
        _say(f"yardstick: {len(failing)} new finding(s) at or above {fail_on.value} (--fail-on)")
    return bool(failing)


def _check_project_dir(context: RepoContext) -> None:
    """Refuse a --project-dir with no file below it; warn when it is not a Python project."""
    found = context.discovery
    if not found.named or found.candidate(found.chosen) is not None:
        return
    listed = ", ".join(c.label for c in found.candidates) or "none"
    if found.chosen and not context.dir_exists(found.chosen):
        raise UsageError(
            f"--project-dir {found.chosen}: no tracked file below that folder "
            f"(Python projects found: {listed})"
        )
    _say(f"yardstick: note: {found.reason} (Python projects found: {listed})")


def _upload(args: argparse.Namespace, report: Report) -> None:
    """Send the JSON report to the server; a refusal is an error (exit 2)."""
    token = args.token or os.environ.get(UPLOAD_TOKEN_ENV, "")
    try:
        uploaded = upload_report(args.upload, token, render_json(report))
    except UploadError as exc:
        raise UsageError(f"upload failed: {exc}") from exc
    if uploaded.status == 202:  # queued: the server scans the commit itself
        _say(
            f"yardstick: uploaded; the server queued scan {uploaded.scan_id} of the commit "
            "(it keeps the measured results: coverage, tests, mypy)"
        )
        return
    _say(f"yardstick: uploaded as scan {uploaded.scan_id} ({uploaded.level or 'no level'})")


# ----- projects ----------------------------------------------------------------------------
def projects_text(found: Discovery) -> str:
    """What `yardstick projects` prints: one row per candidate, `*` on the judged one."""
    rows = [("", "folder", "kind", "web app", "lock")]
    for c in found.candidates:
        mark = "*" if c.folder == found.chosen else ""
        app = c.web_app.describe() if c.web_app else "-"
        rows.append((mark, c.label, c.kind, app, c.lock or "-"))
    if found.candidate(found.chosen) is None:
        rows.append(("*", found.chosen or ".", "(not a project)", "-", "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[4]
        for row in rows
    ]
    lines += ["", f"judged: {found.chosen or '.'}: {found.reason}"]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _projects(args: argparse.Namespace) -> int:
    folder = Path(args.target).expanduser()
    if not folder.is_dir():
        raise UsageError(f"no such folder: {args.target}")
    found = RepoContext(folder.resolve(), project_dir=args.project_dir).discovery
    if args.format == "json":
        document = {"path": str(folder.resolve()), "discovery": found.to_dict()}
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(projects_text(found))
    return 0


# ----- rules and explain -----------------------------------------------------------------
def _load_standard(path: str | None) -> Standard:
    try:
        return load_standard(path)
    except (StandardError, OSError) as exc:
        raise UsageError(f"invalid standard: {exc}") from exc


def _rule_row(spec: RuleSpec) -> dict[str, object]:
    return {
        "id": spec.id,
        "section": spec.section,
        "severity": spec.severity.value,
        "evaluation": spec.evaluation,
        "weight": spec.weight,
        "title": spec.title,
        "rationale": spec.rationale,
        "remediation": spec.remediation,
        "implemented": spec.id in registry(),
    }


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown(standard: Standard) -> str:
    """The rules reference (docs/rules.md): one table per section of the standard."""
    out = [
        f"# Rules reference: {standard.name} ({standard.version})",
        "",
        "Generated by `yardstick rules --format markdown`; do not edit by hand.",
        "Run `yardstick explain RULE` for a rule's rationale, remediation and heuristic.",
        "",
    ]
    for code, section in standard.sections.items():
        specs = [s for s in standard.rules.values() if s.section == code]
        if not specs:
            continue
        out += [f"## {code}: {section.title}", ""]
        out += ["| ID | Severity | Evaluation | Title |", "|---|---|---|---|"]
        out += [
            f"| {s.id} | {s.severity.value} | {s.evaluation} | {_markdown_cell(s.title)} |"
            for s in specs
        ]
        out.append("")
    if standard.retired:
        out += ["## Retired ids", "", ", ".join(sorted(standard.retired)), ""]
    return "\n".join(out)


def _rules(args: argparse.Namespace) -> int:
    standard = _load_standard(args.standard)
    specs = list(standard.rules.values())
    if args.format == "json":
        document = {
            "standard": {"key": standard.key, "name": standard.name, "version": standard.version},
            "rules": [_rule_row(spec) for spec in specs],
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(rules_markdown(standard))
    else:
        for spec in specs:
            sys.stdout.write(
                f"{spec.id:<9} {spec.severity.value:<8} {spec.evaluation:<8} {spec.title}\n"
            )
    return 0


def _indented(text: str) -> str:
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        textwrap.fill(p, width=88, initial_indent="  ", subsequent_indent="  ") for p in paragraphs
    )


def explain_text(spec: RuleSpec, standard: Standard) -> str:
    """What `yardstick explain` prints for one rule."""
    rule_cls = registry().get(spec.id)
    section = standard.sections[spec.section]
    lines = [
        f"{spec.id}: {spec.title}",
        f"section:     {spec.section} ({section.title})",
        f"severity:    {spec.severity.value} (weight {spec.weight})",
        f"evaluation:  {spec.evaluation}",
        "",
        "Rationale",
        _indented(spec.rationale),
        "",
        "Remediation",
        _indented(spec.remediation),
        "",
        "How the engine decides",
    ]
    if rule_cls is None:
        lines.append("  Not implemented by this engine: the rule reports `error`.")
    else:
        lines.append(_indented(rule_cls.__doc__ or ""))
        if rule_cls.heuristic:
            lines.append(_indented(rule_cls.heuristic))
    text = standard.section_text(spec.heading)
    if text:
        lines += ["", f"The standard: {spec.heading}", "", text]
    return "\n".join(lines) + "\n"


def _explain(args: argparse.Namespace) -> int:
    standard = _load_standard(args.standard)
    spec = standard.rules.get(args.rule.strip().upper())
    if spec is None:
        raise UsageError(_unknown_rule(args.rule, standard))
    sys.stdout.write(explain_text(spec, standard))
    return 0


def _say(line: str) -> None:
    """One line on stderr."""
    sys.stderr.write(line + "\n")


def _advisories(args: argparse.Namespace) -> int:
    """`advisories update`: refresh the database DSEC-003 reads (the only networked command)."""
    try:
        summary = update_database(args.source, Path(args.db) if args.db else None)
    except AdvisoryDatabaseError as exc:
        raise UsageError(str(exc)) from exc
    _say(
        f"yardstick: {summary.advisories} advisories for {summary.packages} packages "
        f"written to {summary.path}"
    )
    return 0


_COMMANDS = {
    "scan": _scan,
    "projects": _projects,
    "rules": _rules,
    "explain": _explain,
    "advisories": _advisories,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `yardstick` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (UsageError, RepositoryError, BaselineError) as exc:
        _say(f"yardstick: error: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("yardstick: interrupted")
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) left; stop quietly instead of a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Configuration Management: one pydantic-settings `Settings`, `.env` files, no secrets."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from scanners.analysis import settings as st
from scanners.analysis.ci import find_file
from scanners.analysis.codescan import capped
from scanners.analysis.nodes import of_type, of_types
from scanners.analysis.secrets import HIGH, scan_secrets
from scanners.context import PyModule, RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

_ENV_ASSIGNMENT = re.compile(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_ENV_FUNCTIONS = frozenset({"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"})


def _no_settings(ctx: RepoContext, message: str) -> RuleResult:
    where = Evidence(st.expected_settings_path(ctx), None, "no Settings(BaseSettings) class")
    return Rule.failed(message, [where])


@register
class SingleSettingsClass(Rule):
    """One `Settings(BaseSettings)` from pydantic_settings in `core/config.py`."""

    id = "CFG-001"
    heuristic = (
        "Reads the AST of app code: a settings class derives from BaseSettings imported from "
        "pydantic_settings (aliases and app-code intermediate classes followed). It must be "
        "named Settings, be the only one so named, and live in <app package>/core/config.py "
        "(src/, app/, src/<pkg>/). BaseSettings from pydantic (v1) fails."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Judge location, uniqueness and origin of the settings class."""
        scan = st.find_settings(ctx)
        if not scan.classes:
            return _no_settings(ctx, "No pydantic-settings Settings class found in app code.")
        problems = [
            Evidence(
                c.path,
                c.line,
                f"{c.name} derives from {c.origin}.BaseSettings (pydantic "
                "v1 API): import BaseSettings from pydantic_settings",
            )
            for c in scan.classes
            if c.is_pydantic_v1
        ]
        if not scan.named:
            names = ", ".join(sorted({c.name for c in scan.classes}))
            first = scan.classes[0]
            problems.append(
                Evidence(
                    first.path, first.line, f"settings class(es) {names}: name the class Settings"
                )
            )
        if len(scan.named) > 1:
            problems.extend(
                Evidence(c.path, c.line, "one of several Settings classes: keep one")
                for c in scan.named
            )
        problems.extend(
            Evidence(c.path, c.line, f"Settings belongs in {st.expected_settings_path(ctx)}")
            for c in scan.named
            if not st.is_settings_location(ctx, c.path)
        )
        if problems:
            return self.failed("The Settings class does not follow the standard.", problems)
        main = scan.named[0]
        return self.passed(f"Settings in {main.path}:{main.line}.")


@register
class SettingsLoadsEnvFile(Rule):
    """Settings reads `.env` (`env_file` in `model_config`)."""

    id = "CFG-002"
    heuristic = (
        "Passes when Settings' model_config (SettingsConfigDict(...) or a dict literal) sets "
        "a non-None env_file, or Settings(_env_file=...) is called in app code."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Look for `env_file` on the Settings class."""
        main = st.find_settings(ctx).main
        if main is None:
            return _no_settings(ctx, "No Settings class, so nothing loads .env.")
        env_file = st.config_entries(main).get("env_file")
        if env_file is not None and not (
            isinstance(env_file, ast.Constant) and env_file.value is None
        ):
            return self.passed(f"{main.name} loads its env_file.")
        if _env_file_at_call(ctx.app_files, main.name):
            return self.passed(f"{main.name} is instantiated with _env_file.")
        return self.failed(
            "Settings does not load .env: add model_config = SettingsConfigDict(env_file='.env').",
            [Evidence(main.path, main.line, f"{main.name}.model_config has no env_file")],
        )


def _env_file_at_call(modules: list[PyModule], class_name: str) -> bool:
    for mod in modules:
        if mod.tree is None or class_name not in (mod.source or ""):
            continue
        for node in of_type(mod.tree, ast.Call):
            if (
                isinstance(node.func, ast.Name)
                and node.func.id == class_name
                and any(kw.arg == "_env_file" for kw in node.keywords)
            ):
                return True
    return False


@register
class EnvExampleDocumentsSettings(Rule):
    """`.env.example` names every Settings field in upper case and has comments."""

    id = "CFG-003"
    heuristic = (
        "Fields are the annotated attributes of Settings (inherited app-code bases included, "
        "ClassVar and _private skipped), upper-cased with env_prefix; Field(alias=...) names "
        "win. A nested model field is documented by PARENT, or with env_nested_delimiter by "
        "all its leaves (PARENT__CHILD). Names count as `NAME=` or commented `# NAME=`; at "
        "least one other comment line is required."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Compare the Settings fields with the variables in `.env.example`."""
        path = find_file(ctx, ".env.example")
        if path is None:
            return self.failed(
                "No .env.example.",
                [Evidence(ctx.path(".env.example"), None, "add a documented .env.example")],
            )
        text = ctx.read_text(path) or ""
        lines = text.splitlines()
        present = {m.group(1) for line in lines if (m := _ENV_ASSIGNMENT.match(line))}
        comments = [
            ln for ln in lines if ln.lstrip().startswith("#") and not _ENV_ASSIGNMENT.match(ln)
        ]
        scan = st.find_settings(ctx)
        main = scan.main
        problems = (
            [] if comments else [Evidence(path, None, "no comment lines: document each variable")]
        )
        if main is None:
            problems.append(Evidence(path, None, "no Settings class to compare with (CFG-001)"))
            return self.warned(".env.example cannot be checked against Settings.", problems)
        missing = [name for var in st.env_vars(scan, main) for name in var.missing(present)]
        if missing:
            problems.append(Evidence(path, None, f"missing {', '.join(missing)}"))
        if problems:
            return self.failed(".env.example does not document every setting.", problems)
        return self.passed(f"{path} documents every field of {main.name}.")


@register
class NoDirectEnvironAccess(Rule):
    """`os.environ` / `os.getenv` only in `core/config.py`."""

    id = "CFG-004"
    heuristic = (
        "AST of app code (tests, migrations, venvs excluded) except core/config.py: any "
        "os.environ/os.getenv/putenv attribute (through `import os as x`) and any "
        "`from os import environ/getenv`."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """List every direct environment access outside the settings module."""
        evidence = [
            Evidence(mod.path, line, f"{what}: read it through Settings instead")
            for mod in ctx.app_files
            if mod.tree is not None and not st.is_settings_location(ctx, mod.path)
            for line, what in sorted(set(_environ_uses(mod.tree)))
        ]
        if evidence:
            return self.failed(
                f"{len(evidence)} direct environment access(es) outside core/config.py.",
                capped(evidence),
            )
        return self.passed("Environment is read only through Settings.")


def _environ_uses(tree: ast.Module) -> Iterator[tuple[int, str]]:
    aliases = {"os"}
    for node in of_types(tree, ast.Import, ast.ImportFrom):
        if isinstance(node, ast.Import):
            aliases.update(a.asname or a.name for a in node.names if a.name == "os")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in _ENV_FUNCTIONS:
                    yield node.lineno, f"from os import {alias.name}"
    for node in of_type(tree, ast.Attribute):
        if (
            node.attr in _ENV_FUNCTIONS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            yield node.lineno, f"{node.value.id}.{node.attr}"


@register
class NoHardCodedSecrets(Rule):
    """No hard-coded secrets in tracked files."""

    id = "CFG-005"
    heuristic = (
        "Every tracked text file (binary, huge and lock files skipped): private key blocks "
        "and AWS/GitHub/Slack/Google/Stripe/JWT token formats fail (private keys and JWTs under "
        "tests/ only warn). Python (AST) and .env files: literals for password-like names fail; "
        "token/secret/key names warn when the literal has >= 3.5 bits/char over >= 12 chars. "
        "Placeholders and *.example files are ignored; passwords in tests are fixtures; "
        "`pragma: allowlist secret` and Python `noqa: S105-S107`/`nosec` lines are skipped. "
        "One secret counts once: a known format inside a named literal is not also a guess "
        "from the name. Values are masked in evidence."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Report suspected secrets, masked; fail on sure ones, warn on guesses."""
        findings = scan_secrets(ctx)
        evidence = capped(Evidence(f.path, f.line, f.message) for f in findings)
        sure = sum(f.confidence == HIGH for f in findings)
        possible = len(findings) - sure
        if sure:
            more = f" and {possible} possible one(s)" if possible else ""
            return self.failed(f"{sure} hard-coded secret(s) found{more}.", evidence)
        if possible:
            return self.warned(
                f"{possible} possible secret(s): check and move them to the environment.",
                evidence,
            )
        return self.passed("No hard-coded secrets found.")


_BOOLS = frozenset({"bool", "StrictBool"})
_STAGES = (("development", "dev"), ("staging", "stage"), ("production", "prod"))


@register
class EnvironmentAndDebugFields(Rule):
    """Settings has a development/staging/production environment field and a DEBUG bool."""

    id = "CFG-006"
    heuristic = (
        "A Settings field named environment/env/app_env (any case) typed Literal[...] or an "
        "app-code Enum whose values include development, staging and production (dev/stage/"
        "prod accepted), and a `debug: bool` field."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check the environment and debug fields of Settings."""
        scan = st.find_settings(ctx)
        main = scan.main
        if main is None:
            return _no_settings(ctx, "No Settings class to hold ENVIRONMENT and DEBUG.")
        fields = {f.name.lower(): f for f in st.class_fields(main)}
        problems = []
        env = next((fields[n] for n in sorted(st.ENVIRONMENT_FIELD_NAMES) if n in fields), None)
        if env is None:
            problems.append(Evidence(main.path, main.line, "no ENVIRONMENT field"))
        elif not _covers_stages(_choices(env.annotation, scan)):
            problems.append(
                Evidence(
                    main.path,
                    env.line,
                    f"{env.name} is not restricted to "
                    "Literal['development', 'staging', 'production']",
                )
            )
        debug = fields.get("debug")
        if debug is None or _type_name(scan.resolve(debug.annotation)) not in _BOOLS:
            line = debug.line if debug is not None else main.line
            problems.append(Evidence(main.path, line, "no DEBUG: bool field"))
        if problems:
            return self.failed("; ".join(p.message for p in problems) + ".", problems)
        return self.passed(f"{main.name} has a typed environment field and DEBUG.")


def _type_name(annotation: ast.expr) -> str:
    node = st.unwrap_annotation(annotation)
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _choices(annotation: ast.expr, scan: st.SettingsScan) -> set[str]:
    """String values a `Literal[...]` or app-code Enum annotation allows."""
    node = scan.resolve(annotation)
    if isinstance(node, ast.Subscript) and _type_name(node.value) == "Literal":
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return {
            i.value.lower()
            for i in items
            if isinstance(i, ast.Constant) and isinstance(i.value, str)
        }
    enum = scan.all_classes.get(_type_name(node))
    if enum is None:
        return set()
    values = set()
    for stmt in enum.node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            value = stmt.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                values.add(value.value.lower())
            elif isinstance(target, ast.Name):
                values.add(target.id.lower())
    return values


def _covers_stages(values: set[str]) -> bool:
    return bool(values) and all(any(v in values for v in stage) for stage in _STAGES)

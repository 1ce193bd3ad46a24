"""Environment Management: example configuration plus per-environment handling."""

from __future__ import annotations

from scanners.analysis import settings as st
from scanners.analysis.ci import find_file
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

STAGES = ("development", "dev", "staging", "stage", "production", "prod")
STAGE_FILES = tuple(
    name
    for stage in STAGES
    for name in (f".env.{stage}", f".env.{stage}.example", f".env.example.{stage}")
)


@register
class EnvironmentSeparation(Rule):
    """`.env.example` plus development/staging/production handling."""

    id = "ENV-001"
    heuristic = (
        ".env.example at the project or repository root, and either an environment-like "
        "Settings field (environment/env/app_env) or per-environment files "
        "(.env.development/.staging/.production, .env.dev/.prod, optionally .example). "
        "Both pass, one warns, neither fails."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check the example file and how environments are told apart."""
        example = find_file(ctx, ".env.example")
        stage_file = find_file(ctx, *STAGE_FILES)
        scan = st.find_settings(ctx)
        main = scan.main
        env_field = None
        if main is not None:
            env_field = next(
                (f for f in st.class_fields(main) if f.name.lower() in st.ENVIRONMENT_FIELD_NAMES),
                None,
            )
        handling = stage_file or (f"{main.path}:{env_field.line}" if main and env_field else None)
        if example and handling:
            return self.passed(f"{example} plus environment handling in {handling}.")
        problems = []
        if example is None:
            problems.append(Evidence(ctx.path(".env.example"), None, "add .env.example"))
        if handling is None:
            where = main.path if main is not None else st.expected_settings_path(ctx)
            line = main.line if main is not None else None
            problems.append(
                Evidence(
                    where,
                    line,
                    "add an ENVIRONMENT setting "
                    "(development/staging/production) or .env.<stage> files",
                )
            )
        if len(problems) == 2:
            return self.failed("No .env.example and no per-environment handling.", problems)
        return self.warned("Environment separation is incomplete.", problems)

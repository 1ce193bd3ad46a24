"""Security: OAuth2/JWT, bcrypt, token lifetimes, CORS, rate limits, headers, SQL, cookies."""

from __future__ import annotations

import ast

from scanners.analysis import project as pj
from scanners.analysis import settings as st
from scanners.analysis.codescan import (
    capped,
    dedupe,
    finding_evidence,
    lint_error,
    module_references,
    parsed,
)
from scanners.analysis.nodes import walk
from scanners.analysis.security import (
    lifetime_kind,
    lifetime_seconds,
    safe_interpolations,
    settings_fields,
    sql_strings,
    weak_password_hashes,
)
from scanners.analysis.web_security import (
    cookie_calls,
    cors_verdicts,
    rate_limit_wired,
    security_headers,
)
from scanners.context import RepoContext
from scanners.results import Evidence, RuleResult
from scanners.rules import register
from scanners.rules.base import Rule

AUTH_SCHEMES = frozenset(
    {
        "fastapi.security.OAuth2PasswordBearer",
        "fastapi.security.oauth2.OAuth2PasswordBearer",
        "fastapi.security.HTTPBearer",
        "fastapi.security.http.HTTPBearer",
    }
)
JWT_PACKAGES = ("pyjwt", "python-jose")
BCRYPT_PACKAGES = frozenset({"bcrypt", "passlib[bcrypt]", "pwdlib[bcrypt]"})
HASHING_IMPORTS = ("bcrypt", "passlib", "pwdlib")
LIFETIMES = {"access": (1_800, "30 minutes"), "refresh": (604_800, "7 days")}
#: Bandit checks SEC-009 fails on: code execution, deserialisation, shell and SQL
#: injection, disabled TLS verification, broken crypto, unsafe templates and archives.
HIGH_SEVERITY_S = frozenset(
    {
        "S102", "S201", "S202", "S301", "S302", "S307", "S312", "S321", "S323", "S324",
        "S501", "S502", "S503", "S504", "S506", "S507", "S601", "S602", "S604", "S605",
        "S608", "S609", "S610", "S611", "S612", "S701", "S702", "S704",
    }
)  # fmt: skip


def _app_evidence(ctx: RepoContext, message: str) -> Evidence:
    return Evidence(ctx.app_package_rel or ctx.path(""), None, message)


def _dependencies_evidence(ctx: RepoContext, message: str) -> Evidence:
    return pj.missing_evidence(ctx, message)


@register
class OAuth2Jwt(Rule):
    """An OAuth2/HTTP bearer scheme is used and a JWT library is declared."""

    id = "SEC-001"
    heuristic = (
        "Passes when app code references fastapi.security OAuth2PasswordBearer or HTTPBearer "
        "(instantiated or subclassed, aliases followed) and pyjwt or python-jose is a runtime "
        "dependency."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Look for the security scheme and the JWT library."""
        scheme = next(module_references(ctx, AUTH_SCHEMES, "Bearer"), None)
        problems = []
        if not pj.runtime(ctx, *JWT_PACKAGES):
            problems.append(_dependencies_evidence(ctx, "declare pyjwt (or python-jose)"))
        if scheme is None:
            problems.append(_app_evidence(ctx, "no OAuth2PasswordBearer/HTTPBearer scheme"))
        if problems or scheme is None:
            return self.failed("OAuth2 with JWT is not fully in place.", problems)
        mod, node, name = scheme
        return self.passed(f"{name.rsplit('.', 1)[-1]} at {mod.path}:{node.lineno}.")


@register
class BcryptPasswords(Rule):
    """Passwords are hashed with bcrypt, never with md5 or sha1."""

    id = "SEC-002"
    heuristic = (
        "bcrypt, passlib[bcrypt] or pwdlib[bcrypt] must be a runtime dependency, imported by "
        "app code. md5/sha1 (hashlib.md5/sha1/new) over a password-named value or inside a "
        "password-named function, and passlib md5/sha1/plaintext schemes, fail. Without a "
        "bcrypt library the rule only applies when app code mentions passwords."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check the declared library, its use, and weak digests of passwords."""
        weak = [Evidence(w.path, w.line, w.what) for w in weak_password_hashes(ctx)]
        if weak:
            return self.failed("Passwords are hashed with md5/sha1.", capped(weak))
        if not BCRYPT_PACKAGES & ctx.runtime_names():
            if not any("password" in (m.source or "").lower() for m in ctx.app_files):
                return self.not_applicable("The app code handles no passwords.")
            return self.failed(
                "No bcrypt library declared for password hashing.",
                [_dependencies_evidence(ctx, "declare bcrypt (or passlib[bcrypt])")],
            )
        graph = ctx.import_graph
        if not any(graph.imports_external(m.path, HASHING_IMPORTS) for m in ctx.app_files):
            return self.warned(
                "A bcrypt library is declared but no app code imports it.",
                [_dependencies_evidence(ctx, "bcrypt declared, never imported")],
            )
        return self.passed("Passwords are hashed with bcrypt.")


@register
class TokenLifetimes(Rule):
    """Settings default to 30-minute access and 7-day refresh tokens."""

    id = "SEC-003"
    heuristic = (
        "Reads the defaults of settings fields (nested settings models included) whose names "
        "say access/refresh and expire/lifetime/ttl; the unit comes from the name (minutes, "
        "days, ...) or a timedelta default; a unitless int may be in any unit."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Compare the lifetime defaults with 30 minutes and 7 days."""
        main = st.find_settings(ctx).main
        if main is None:
            where = Evidence(st.expected_settings_path(ctx), None, "no Settings class")
            return self.failed("No Settings class holds the token lifetimes.", [where])
        fields = settings_fields(ctx)
        problems: list[Evidence] = []
        for kind, (seconds, text) in LIFETIMES.items():
            found = [f for f in fields if lifetime_kind(f.name) == kind]
            if not found:
                problems.append(Evidence(main.path, main.line, f"no {kind}-token lifetime"))
            elif not any(seconds in lifetime_seconds(f.name, f.value) for f in found):
                problems.extend(
                    Evidence(f.path, f.line, f"{f.owner}.{f.name} should default to {text}")
                    for f in found
                )
        if problems:
            return self.failed("Token lifetimes are not 30 minutes / 7 days.", problems)
        return self.passed("Access tokens last 30 minutes, refresh tokens 7 days.")


def _is_refresh_model(node: ast.ClassDef, in_models: bool) -> bool:
    if "refreshtoken" not in node.name.lower().replace("_", ""):
        return False
    table = any(
        isinstance(stmt, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(t, ast.Name) and t.id in ("__tablename__", "__table__")
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
        )
        for stmt in node.body
    )
    sqlmodel = any(kw.arg == "table" for kw in node.keywords)
    return table or sqlmodel or in_models


@register
class RefreshTokenStore(Rule):
    """Refresh tokens are stored server-side in a model or table."""

    id = "SEC-004"
    heuristic = (
        "Passes on an app class named *RefreshToken* that is a table (__tablename__, "
        "SQLModel table=True, or defined in a models/ folder), or a Table('...refresh...')."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Look for a refresh-token model or table."""
        models = {m.path for m in ctx.layer_files("models")}
        for mod, tree in parsed(ctx.app_files, "efresh"):
            for node in walk(tree):  # the shared index: `ast.walk` order
                if isinstance(node, ast.ClassDef) and _is_refresh_model(node, mod.path in models):
                    return self.passed(f"{node.name} in {mod.path}:{node.lineno}.")
                if _is_refresh_table(node):
                    return self.passed(f"refresh-token table in {mod.path}.")
        where = ctx.layer_dirs("models")[0] if ctx.layer_dirs("models") else None
        return self.failed(
            "No model or table stores refresh tokens server-side.",
            [Evidence(where or ctx.app_package_rel, None, "add a RefreshToken model")],
        )


def _is_refresh_table(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
    first = node.args[0] if node.args else None
    return (
        name == "Table"
        and isinstance(first, ast.Constant)
        and "refresh" in str(first.value).lower()
    )


@register
class ExplicitCorsOrigins(Rule):
    """CORSMiddleware admits explicit origins, never a literal "*"."""

    id = "SEC-005"
    heuristic = (
        "Finds CORSMiddleware installed with add_middleware, Middleware(...) or a direct call. "
        'A literal "*" in allow_origins (also via a module constant) or a match-all '
        "allow_origin_regex fails; origins from Settings pass, but warn when that field "
        'defaults to "*"; no allow_origins at all warns.'
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Judge every CORSMiddleware installation."""
        verdicts = cors_verdicts(ctx)
        if not verdicts:
            return self.failed(
                "No CORSMiddleware: enable CORS with explicit origins.",
                [_app_evidence(ctx, "CORSMiddleware is not installed")],
            )
        evidence = [Evidence(v.path, v.line, v.reason) for v in verdicts if v.status != "pass"]
        if any(v.status == "fail" for v in verdicts):
            return self.failed('CORS admits every origin ("*").', evidence)
        if evidence:
            return self.warned("CORS origins may not be explicit.", evidence)
        first = verdicts[0]
        return self.passed(f"CORS origins are explicit ({first.path}:{first.line}).")


@register
class RateLimiting(Rule):
    """slowapi or fastapi-limiter is declared and wired into the app."""

    id = "SEC-006"
    heuristic = (
        "Declared: slowapi or fastapi-limiter is a runtime dependency. Wired: slowapi's "
        "Limiter plus SlowAPIMiddleware or a @limiter.limit(...) decorator; or "
        "FastAPILimiter plus a RateLimiter dependency. Imported but not wired warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check declaration, import and wiring of the rate limiter."""
        declared = pj.runtime(ctx, "slowapi", "fastapi-limiter")
        if not declared:
            return self.failed(
                "No rate limiter declared.",
                [_dependencies_evidence(ctx, "declare slowapi (or fastapi-limiter)")],
            )
        names = ("slowapi", "fastapi_limiter")
        graph = ctx.import_graph
        if not any(graph.imports_external(m.path, names) for m in ctx.app_files):
            where = pj.requirement_evidence(ctx, declared[0], "declared, never imported")
            return self.failed("The rate limiter is declared but never used.", [where])
        if not rate_limit_wired(ctx):
            where = pj.requirement_evidence(ctx, declared[0], "imported, not wired")
            return self.warned(
                "The rate limiter is imported but not wired (middleware, decorator or "
                "RateLimiter dependency).",
                [where],
            )
        return self.passed(f"Rate limiting with {declared[0].name}.")


@register
class SecurityHeaders(Rule):
    """Responses carry Content-Security-Policy, X-Frame-Options and X-Content-Type-Options."""

    id = "SEC-007"
    heuristic = (
        "Looks for the three header names as string or bytes literals (any case) in app code, "
        "e.g. in a middleware's header dict; the `secure` package, declared and imported, "
        "counts for all three. Some but not all headers warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Find where each security header is set."""
        graph = ctx.import_graph
        if pj.runtime(ctx, "secure") and any(
            graph.imports_external(m.path, ["secure"]) for m in ctx.app_files
        ):
            return self.passed("Security headers set with the secure package.")
        scan = security_headers(ctx)
        if not scan.missing:
            return self.passed("All three security headers are set.")
        evidence = [
            Evidence(path, line, f"{name} set here") for name, (path, line) in scan.found.items()
        ]
        evidence.append(_app_evidence(ctx, f"missing: {', '.join(scan.missing)}"))
        if scan.found:
            return self.warned("Some security headers are missing.", evidence)
        return self.failed("No security headers are set.", evidence)


@register
class NoStringSql(Rule):
    """No SQL is built with f-strings, `%` or `.format` (ruff S608 and an AST check)."""

    id = "SEC-008"
    heuristic = (
        "ruff S608 outside tests, plus f-strings, % formatting, str.format() and "
        "concatenation passed to sqlalchemy text() or an execute/fetch method, directly or "
        "through a local variable. Interpolated module-level string constants and "
        "__tablename__ are treated as safe (S608 findings on such f-strings are dropped)."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Combine ruff's S608 with the formatted-string check."""
        own = [
            Evidence(s.path, s.line, f"SQL built with {s.how} passed to {s.sink}")
            for s in sql_strings(ctx)
        ]
        safe = safe_interpolations(ctx)
        ruff = [f for f in ctx.lint.select("S608") if (f.path, f.line) not in safe]
        problems = dedupe([*own, *finding_evidence(ruff)])
        if problems:
            return self.failed("SQL is built from strings: use bound parameters.", capped(problems))
        error = lint_error(ctx)
        if error is not None:
            return self.warned("No string-built SQL found, but ruff did not run.", [error])
        return self.passed("No SQL is built from strings.")


@register
class NoHighSeverityBandit(Rule):
    """No high-severity ruff flake8-bandit (S) finding outside tests."""

    id = "SEC-009"
    heuristic = (
        "ruff's S rules over app code (tests excluded). High severity, which fails: "
        + ", ".join(sorted(HIGH_SEVERITY_S))
        + ". Any other S finding warns."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Split the S findings into high severity and the rest."""
        error = lint_error(ctx)
        if error is not None:
            return self.warned("ruff did not run, so bandit findings are unknown.", [error])
        findings = ctx.lint.select("S")
        high = [f for f in findings if f.code in HIGH_SEVERITY_S]
        if high:
            return self.failed(
                f"{len(high)} high-severity security finding(s).",
                capped(finding_evidence(high)),
            )
        if findings:
            return self.warned(
                f"{len(findings)} lower-severity security finding(s).",
                capped(finding_evidence(findings)),
            )
        return self.passed("No bandit findings outside tests.")


@register
class SecureCookies(Rule):
    """Every `set_cookie` sets httponly, secure and samesite."""

    id = "SEC-010"
    heuristic = (
        "Reads every .set_cookie(...) call of app code: httponly or secure missing or "
        "literally false, or samesite=None, fails; samesite left out warns (Starlette "
        "defaults to lax). Flags hidden in **kwargs are not judged."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Check the flags of every cookie the app sets."""
        calls = cookie_calls(ctx)
        if not calls:
            return self.not_applicable("The app code sets no cookies.")
        failing = [Evidence(c.path, c.line, "; ".join(c.problems)) for c in calls if c.problems]
        if failing:
            return self.failed("Cookies are set without security flags.", capped(failing))
        noted = [Evidence(c.path, c.line, "; ".join(c.notes)) for c in calls if c.notes]
        if noted:
            return self.warned("Cookies rely on the default SameSite policy.", capped(noted))
        return self.passed(f"{len(calls)} cookie(s) set with httponly, secure and samesite.")

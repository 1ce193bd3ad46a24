"""Fill a PostgreSQL database with an organisation: 200 teams, 5,000 repositories, a year.

Teams, repositories, scans with a result for every rule of the standard (the latest scan of
each repository and `--scans-per-repo - 1` older ones), and a year of daily roll-ups
(RepositoryDailyScore, TeamDailyScore, RuleDailyStats), loaded with COPY. Also a signed-in
member `bench` for the page benchmarks. Idempotent: an already-filled database is left as it
is; `--reset` empties the organisation's tables first.

    createdb -h 127.0.0.1 -U postgres yardstick_bench
    export DATABASE_URL=postgresql://postgres@127.0.0.1/yardstick_bench
    uv run manage.py migrate
    uv run python benchmarks/orgscale/generate.py --reset
"""

from __future__ import annotations

import argparse
import json
import operator
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, django_setup, say

sys.path.insert(0, str(ROOT))
ORG_TABLES = (
    "dashboard_team",
    "dashboard_repository",
    "dashboard_scan",
    "dashboard_checkresult",
    "dashboard_repositorydailyscore",
    "dashboard_teamdailyscore",
    "dashboard_ruledailystats",
    "dashboard_webhookdelivery",
    "dashboard_membership",
)
BENCH_USER = "bench"


class Loader:
    """COPY rows into a table, keeping only the columns the database has."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.rows: dict[str, int] = {}

    def copy(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
        """COPY `rows` (values in `columns` order) into `table`, timed."""
        from django.db import connection

        described = connection.introspection.get_table_description(self.cursor, table)
        existing = {c.name: c for c in described}
        extra = _defaults(table, [c.name for c in described if c.name not in columns])
        keep = [i for i, name in enumerate(columns) if name in existing]
        names = [columns[i] for i in keep] + list(extra)
        pick: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None
        if len(keep) != len(columns) or extra:
            getter = operator.itemgetter(*keep)
            tail = tuple(extra.values())
            pick = lambda row: (*getter(row), *tail)  # noqa: E731
        started = time.perf_counter()
        count = 0
        sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with self.cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(pick(row) if pick else row)
                count += 1
        self.rows[table] = count
        say(f"  {table}: {count:,} rows in {time.perf_counter() - started:.1f} s")


def _defaults(table: str, columns: list[str]) -> dict[str, Any]:
    """Model defaults of NOT NULL columns the generator does not know (added by later models)."""
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    out: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.column not in columns or field.null or field.primary_key:
            continue
        value = field.get_default()  # "" for text fields without a default
        if value is None:
            raise SystemExit(f"{table}.{field.column} has no default: teach generate.py to fill it")
        out[field.column] = json.dumps(value) if isinstance(value, dict | list) else value
    return out


def _at(day: Any, seconds: int) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=UTC) + timedelta(seconds=seconds)


def _reset(cursor: Any) -> None:
    cursor.execute(f"TRUNCATE {', '.join(ORG_TABLES)} RESTART IDENTITY CASCADE")
    cursor.execute("DELETE FROM auth_user WHERE username = %s", [BENCH_USER])


def load(org: Any, loader: Loader, standard_pk: int, version: str) -> None:  # noqa: C901
    """COPY the organisation into every table."""
    from dashboard.models import Rule

    rules = list(Rule.objects.filter(standard_id=standard_pk).values_list("pk", "rule_id"))
    by_id = dict((rule_id, pk) for pk, rule_id in rules)
    rule_pks = [by_id[spec.id] for spec in org.rules]
    statuses = ("pass", "fail", "warn", "not_applicable", "manual", "error")
    evidence = [
        [
            json.dumps(
                [
                    {"path": f"app/{area}/module_{k}.py", "line": 10 + 7 * k, "message": "here"}
                    for k in range(n)
                ]
            )
            for n in range(4)
        ]
        for area in ("services", "routers", "repositories", "models")
    ]
    messages = [{s: f"{spec.id}: {spec.title[:60]} ({s})" for s in statuses} for spec in org.rules]
    now = datetime.now(UTC)
    loader.copy(
        "dashboard_team",
        ("id", "name", "slug", "description", "created_at"),
        (
            (t, f"Team {t:03}", f"team-{t:03}", f"Benchmark team number {t}.", now)
            for t in range(1, org.teams + 1)
        ),
    )
    loader.copy(
        "dashboard_repository",
        (
            "id",
            "team_id",
            "name",
            "clone_url",
            "url_key",
            "default_branch",
            "project_dir",
            "webhook_secret_encrypted",
            "active",
            "created_at",
            "latest_scan_id",
            "score",
            "level",
        ),
        (
            (
                r.id,
                r.team,
                r.name,
                f"https://git.example.com/org/{r.name}.git",
                f"git.example.com/org/{r.name}",
                "main",
                "",
                "",
                r.active,
                now,
                r.scans[-1].id if r.scans else None,
                r.scans[-1].score if r.scans else None,
                r.scans[-1].level if r.scans else "",
            )
            for r in org.repos
        ),
    )

    def scans() -> Iterator[tuple[Any, ...]]:
        for r in org.repos:
            for plan in r.scans:
                queued = _at(plan.day, 3600 + (r.id * 37) % 40000)
                duration = 2000 + (plan.id * 131) % 7000
                yield (
                    plan.id,
                    r.id,
                    standard_pk,
                    "refs/heads/main",
                    f"{(plan.id * 2654435761) % 2**160:040x}",
                    "webhook" if plan.id % 3 else "schedule",
                    "succeeded",
                    queued,
                    queued + timedelta(seconds=2),
                    queued + timedelta(milliseconds=duration + 2000),
                    "bench@worker",
                    1,
                    plan.score,
                    plan.level,
                    "bench",
                    version,
                    "{}",
                    json.dumps(plan.sections),
                    json.dumps(plan.counts),
                    duration,
                    "",
                    "",
                )

    loader.copy(
        "dashboard_scan",
        (
            "id",
            "repository_id",
            "standard_id",
            "ref",
            "commit_sha",
            "trigger",
            "status",
            "queued_at",
            "started_at",
            "finished_at",
            "worker",
            "attempts",
            "score",
            "level",
            "engine_version",
            "standard_version",
            "tool_versions",
            "section_scores",
            "counts",
            "duration_ms",
            "error",
            "skipped_reason",
        ),
        scans(),
    )

    def results() -> Iterator[tuple[Any, ...]]:
        pk = 0
        for r in org.repos:
            area = evidence[r.id % 4]
            for plan in r.scans:
                for index, code in enumerate(plan.statuses):
                    pk += 1
                    n = (pk % 3) + 1 if code in (1, 2) else 0
                    yield (
                        pk,
                        plan.id,
                        rule_pks[index],
                        statuses[code],
                        messages[index][statuses[code]],
                        area[n],
                        n,
                        (pk % 97) / 10,
                    )

    loader.copy(
        "dashboard_checkresult",
        ("id", "scan_id", "rule_id", "status", "message", "evidence", "findings", "duration_ms"),
        results(),
    )
    open_code = {1, 2, 4, 5}  # fail, warn, manual, error: not met

    def repository_days() -> Iterator[tuple[Any, ...]]:
        pk = 0
        cache: dict[int, tuple[str, str]] = {}
        for r in org.repos:
            for day, plan in org.repository_days(r):
                pk += 1
                if plan.id not in cache:
                    cache.clear()
                    open_rules = [
                        spec.id
                        for spec, code in zip(org.rules, plan.statuses, strict=True)
                        if code in open_code
                    ]
                    cache[plan.id] = (json.dumps(plan.sections), json.dumps(open_rules))
                sections, open_rules_json = cache[plan.id]
                yield (pk, r.id, day, plan.score, plan.level, plan.id, sections, open_rules_json)

    loader.copy(
        "dashboard_repositorydailyscore",
        (
            "id",
            "repository_id",
            "date",
            "score",
            "level",
            "scan_id",
            "section_scores",
            "open_rules",
        ),
        repository_days(),
    )
    team_rows: list[tuple[Any, ...]] = []

    def rule_days() -> Iterator[tuple[Any, ...]]:
        pk = 0
        for team in range(1, org.teams + 1):
            for td in org.team_days(team, loader.rule_days):
                team_rows.append(
                    (
                        len(team_rows) + 1,
                        team,
                        td.day,
                        td.score,
                        td.repositories,
                        json.dumps(td.sections),
                    )
                )
                if td.rules is None:
                    continue
                for index, (passed, failed, warned, other) in enumerate(td.rules):
                    pk += 1
                    yield (pk, rule_pks[index], team, td.day, passed, failed, warned, other)

    loader.copy(
        "dashboard_ruledailystats",
        ("id", "rule_id", "team_id", "date", "passed", "failed", "warned", "other"),
        rule_days(),
    )
    loader.copy(
        "dashboard_teamdailyscore",
        ("id", "team_id", "date", "score", "repositories", "section_scores"),
        team_rows,
    )


def _user(password: str) -> None:
    from django.contrib.auth.models import User

    from dashboard.models import Membership, Team

    user = User.objects.create_user(BENCH_USER, f"{BENCH_USER}@example.com", password)
    Membership.objects.create(user=user, team=Team.objects.get(slug="team-001"), role="member")


def _finish(cursor: Any) -> None:
    for table in ORG_TABLES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )
    cursor.execute("SET session_replication_role = DEFAULT")
    for table in ORG_TABLES:
        cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> int:
    """Parse options, generate, load, report timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--repositories", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rule-days", type=int, default=365, help="days of RuleDailyStats")
    parser.add_argument("--scans-per-repo", type=int, default=6, help="each with every result")
    parser.add_argument("--password", default="bench-password-2026", help="of the user `bench`")
    parser.add_argument("--reset", action="store_true", help="empty the organisation first")
    parser.add_argument("--force", action="store_true", help="allow a database not named *bench*")
    args = parser.parse_args()
    started = time.perf_counter()
    connection = django_setup()
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise SystemExit("DATABASE_URL must point at PostgreSQL (COPY)")
    if "bench" not in name and not args.force:
        raise SystemExit(f"refusing to fill {name!r}: use a database named *bench* or --force")
    from django.db import transaction
    from django.utils import timezone

    from dashboard.models import Team
    from dashboard.services.standard.sync import current_standard
    from scanners.standard import default_standard

    with connection.cursor() as cursor:
        if args.reset:
            _reset(cursor)
        elif Team.objects.exists():
            say(f"{name} already holds an organisation: nothing to do (--reset to rebuild)")
            return 0
        from synth import Organisation

        tick = time.perf_counter()
        org = Organisation(
            default_standard(),
            teams=args.teams,
            repositories=args.repositories,
            days=args.days,
            scans_per_repo=max(2, args.scans_per_repo),
            today=timezone.now().date(),
        )
        say(f"synthesised {len(org.repos):,} repositories in {time.perf_counter() - tick:.1f} s")
        standard = current_standard()
        loader = Loader(cursor)
        loader.rule_days = min(args.rule_days, args.days)  # type: ignore[attr-defined]
        tick = time.perf_counter()
        with transaction.atomic():
            # Rows are consistent by construction: skip per-row foreign-key triggers.
            cursor.execute("SET session_replication_role = replica")
            load(org, loader, standard.pk, standard.version)
            _user(args.password)
        say(f"loaded in {time.perf_counter() - tick:.1f} s")
        tick = time.perf_counter()
        _finish(cursor)
        say(f"sequences, VACUUM ANALYZE in {time.perf_counter() - tick:.1f} s")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    total = sum(loader.rows.values())
    say(f"done: {total:,} rows, database {size}, {time.perf_counter() - started:.1f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())

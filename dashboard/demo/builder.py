"""Build (or remove) the demo: people, generated repositories, a year of real scans, roll-ups.

Every score comes from the engine through the normal services:

- each repository is registered with `register_repository` and its first scan (the head of
  its history, today) runs through `run_scan`, exactly as a worker would run it;
- older commits, sampled every few weeks, are scanned by the engine (in one process per core)
  and stored with `store_report`; each of those scans is then dated at its commit, so the
  history is what the code was at the time (rules that compare with today's date, such as
  DEP-006's lock age, judge old commits as of today);
- the daily roll-ups are then replayed day by day as the product keeps them: each day's scans
  update their repository's and team's rows (`record_scan_day`) and the nightly `close_day`
  carries every row to the next day. That is the incremental path a property test holds equal
  to `recompute_range`, which is too slow for a year of 24 repositories (about 0.8 s a day).
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from dashboard.demo import catalog, gitgen
from dashboard.demo.history import Job, Point, Scanned, default_workers, sample, scan_jobs
from dashboard.demo.marker import (
    READY,
    Marker,
    demo_present,
    read_marker,
    remove_marker,
    repos_dir,
    write_marker,
)
from dashboard.demo.org import Org, build_org, username
from dashboard.models import (
    Repository,
    RepositoryDailyScore,
    Rule,
    RuleDailyStats,
    Scan,
    Team,
    TeamDailyScore,
)
from dashboard.services.governance import waiver_requests
from dashboard.services.governance import waivers as governance
from dashboard.services.repos.registration import register_repository
from dashboard.services.scans.pipeline import run_scan
from dashboard.services.scans.results import store_report
from dashboard.services.scoring import rollups
from dashboard.services.standard.sync import current_standard

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    """The demo's size and randomness."""

    teams: int = 6
    repos: int = 24
    days: int = 365
    seed: int = 7
    interval_days: int = 21
    workers: int = 0  # 0: one engine process per core


@dataclass
class Summary:
    """What a run did."""

    created: bool
    repositories: int = 0
    scans: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _quiet(_message: str) -> None:
    return None


def _timed(log: Log, started: float) -> Log:
    return lambda message: log(f"{message} ({time.monotonic() - started:.0f}s)")


def build(options: Options, log: Log = _quiet) -> Summary:
    """Create the demo unless it is already there (a partial one is removed first)."""
    started = time.monotonic()
    log = _timed(log, started)
    if demo_present() and (marker := read_marker()) is not None and marker.status == READY:
        return Summary(created=False)
    reset()
    marker = Marker(
        seed=options.seed,
        repos_dir=str(repos_dir()),
        created_at=timezone.now().isoformat(),
    )
    write_marker(marker)
    org = build_org(marker, options.teams)
    log(f"{len(org.teams)} teams with members and roles")
    repositories = _generate(options, org, log)
    scans = _backfill(options, repositories, log)
    for repository, _ in repositories:
        run_scan(_head_scan(repository).pk, worker="demo")
    log(f"scanned the head of {len(repositories)} repositories through the pipeline")
    _governance(org, [r for r, _ in repositories])
    today = timezone.now().date()
    replay_rollups(today - timedelta(days=options.days), today)
    log(f"daily roll-ups replayed over {options.days} days")
    marker.status = READY
    write_marker(marker)
    return Summary(
        created=True,
        repositories=len(repositories),
        scans=scans + len(repositories),
        passwords=org.passwords,
        seconds=time.monotonic() - started,
    )


def _generate(options: Options, org: Org, log: Log) -> list[tuple[Repository, list[Point]]]:
    root = repos_dir()
    root.mkdir(parents=True, exist_ok=True)
    now = gitgen.utc_now()
    out = []
    for index, profile in enumerate(catalog.profiles(options.repos)):
        team = org.teams[index % len(org.teams)]
        commits = gitgen.history(profile, org.people[team.pk], now, options.seed, options.days)
        path = root / profile.name
        shas = gitgen.write_repository(path, commits)
        registered = register_repository(
            team, str(path), name=profile.name, project_dir=profile.project_dir
        )
        Repository.objects.filter(pk=registered.repository.pk).update(created_at=commits[0].when)
        points = [Point(sha, c.when) for sha, c in zip(shas, commits, strict=True)]
        out.append((registered.repository, points))
    log(f"{len(out)} git repositories generated under {root} and registered")
    return out


def _head_scan(repository: Repository) -> Scan:
    """The head's scan (the one registration queued, if any), recorded as the demo's."""
    queued = repository.scans.filter(status=Scan.Status.QUEUED).first()
    if queued is None:
        return Scan.objects.create(
            repository=repository, standard=current_standard(), trigger=Scan.Trigger.DEMO
        )
    Scan.objects.filter(pk=queued.pk).update(trigger=Scan.Trigger.DEMO)
    return queued


def _backfill(
    options: Options, repositories: list[tuple[Repository, list[Point]]], log: Log
) -> int:
    by_key = {str(r.pk): r for r, _ in repositories}
    interval = timedelta(days=options.interval_days)
    jobs = [
        Job(str(r.pk), Path(r.clone_url), r.project_dir, tuple(sample(points, interval)))
        for r, points in repositories
    ]
    jobs = [job for job in jobs if job.points]
    rng = random.Random(options.seed)  # noqa: S311 - demo data, not security
    stored = 0
    for key, results in scan_jobs(jobs, options.workers or default_workers()):
        with transaction.atomic():  # one commit per repository, not three per scan
            for scanned in results:
                _store(by_key[key], scanned, rng)
                stored += 1
    log(f"{stored} older commits scanned (one every {options.interval_days} days at most)")
    return stored


def _store(repository: Repository, scanned: Scanned, rng: random.Random) -> None:
    """Store one older commit's report, then date the scan at its commit (plus CI latency)."""
    scan = Scan.objects.create(
        repository=repository,
        trigger=Scan.Trigger.DEMO,  # no push asked for it: no webhook delivery to show
        ref=scanned.point.sha,
        commit_sha=scanned.point.sha,
        status=Scan.Status.RUNNING,
        standard=current_standard(),
        worker="demo-backfill",
        attempts=1,
        started_at=timezone.now(),
    )
    store_report(scan, scanned.report, duration_ms=scanned.duration_ms)
    finished = scanned.point.when + timedelta(minutes=rng.randint(2, 20))
    took = timedelta(milliseconds=scanned.duration_ms)
    Scan.objects.filter(pk=scan.pk).update(
        queued_at=finished - took - timedelta(seconds=rng.randint(1, 30)),
        started_at=finished - took,
        finished_at=finished,
    )


def _governance(org: Org, repositories: list[Repository]) -> None:
    """A few waivers (requested by each team's maintainer, approved by the manager) and
    attestations, for the pages."""
    manager = User.objects.get(username="manager")
    rules = {r.rule_id: r for r in Rule.objects.filter(standard=current_standard())}
    attest_ids = sorted(i for i, r in rules.items() if r.evaluation == "attest")
    for index, repository in enumerate(repositories):
        team = next(t for t in org.teams if t.pk == repository.team_id)
        maintainer = team.memberships.get(
            user__username=f"demo.{username(org.people[team.pk][0])}"
        ).user
        if index % 3 == 0 and attest_ids:
            rule = rules[attest_ids[index % len(attest_ids)]]
            governance.attest(
                maintainer, repository, rule, "https://wiki.example.com/runbooks/" + rule.rule_id
            )
        repository.refresh_from_db()
        latest = repository.latest_scan
        failing = latest.results.filter(status="fail") if latest is not None else None
        first = failing.order_by("rule__rule_id").first() if failing is not None else None
        if index % 4 == 1 and first is not None:
            request = waiver_requests.request_waiver(
                maintainer,
                repository,
                first.rule,
                "Planned for next quarter; tracked in the team's backlog.",
                timezone.now() + timedelta(days=60 + index),
            )
            waiver_requests.approve(manager, request, "Agreed: keep it on the roadmap.")


@transaction.atomic
def replay_rollups(start: date, end: date) -> None:
    """Rebuild the roll-ups from `start` to `end` as the scans and the nightly job would have.

    Each day's scans go through `rollups.record_scan_day`, then `rollups.carry_forward` copies
    the day to the next as the nightly `close_day` does. A test holds the result equal to
    `recompute_range`.
    """
    RepositoryDailyScore.objects.filter(date__gte=start, date__lte=end).delete()
    TeamDailyScore.objects.filter(date__gte=start, date__lte=end).delete()
    RuleDailyStats.objects.filter(date__gte=start, date__lte=end).delete()
    scanned: dict[date, set[int]] = {}
    for repository_id, finished in Scan.objects.filter(
        status=Scan.Status.SUCCEEDED, finished_at__lt=rollups.end_of_day(end)
    ).values_list("repository_id", "finished_at"):
        if finished is None:
            continue
        scanned.setdefault(max(finished.date(), start), set()).add(repository_id)
    repositories = Repository.objects.in_bulk(set().union(*scanned.values()))
    day = start
    while day <= end:
        for repository_id in sorted(scanned.get(day, ())):
            rollups.record_scan_day(repositories[repository_id], day)
        if day < end:
            rollups.carry_forward(day, day + timedelta(days=1))
        day += timedelta(days=1)


def reset() -> bool:
    """Remove the demo's teams, repositories, scans, accounts and files; True if any."""
    marker = read_marker()
    if marker is None:
        return False
    with transaction.atomic():
        teams = Team.objects.filter(slug__in=marker.teams)
        Repository.objects.filter(team__in=teams).delete()
        teams.delete()
        User.objects.filter(username__in=marker.users).exclude(is_superuser=True).delete()
    shutil.rmtree(marker.repos_dir or repos_dir(), ignore_errors=True)
    remove_marker()
    return True

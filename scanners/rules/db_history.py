"""DB (history): committed Alembic revisions are never edited afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.analysis.history import HistoryUnavailable
from scanners.analysis.migrations import migration_files
from scanners.results import Evidence, RuleResult
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import RepoContext

MAX_EVIDENCE = 50


@register
class MigrationsUnchanged(Rule):
    """No migration file was modified after the commit that added it."""

    id = "DB-004"
    heuristic = (
        "Follows each revision file of a `versions/` folder (as DB-003 finds them) through "
        "one `git log` (renames not followed): any commit after the one that added it that "
        "modified it counts, formatting-only edits included. Merges are not counted twice."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with the file and the commits that changed it after it was added."""
        paths = [m.path for m in migration_files(ctx)]
        if not paths:
            return self.not_applicable("no Alembic revision files")
        try:
            histories = ctx.history.file_histories(paths)
        except HistoryUnavailable as exc:
            return self.not_applicable(exc.reason)
        edited = [h for h in histories.values() if h.added is not None and h.modified]
        if not edited:
            return self.passed(f"{len(paths)} revision file(s) unchanged since they were added")
        evidence = [
            Evidence(
                h.path,
                None,
                f"added in {h.added.short if h.added else '?'}, then modified in "
                + ", ".join(f"{c.short} {c.subject!r}" for c in h.modified[-3:]),
            )
            for h in edited[:MAX_EVIDENCE]
        ]
        return self.failed(
            f"{len(edited)} committed revision(s) modified after they were added", evidence
        )

"""Keep the Standard and Rule tables in step with the engine's standard file."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import timezone

from dashboard.models import Rule, Standard, StandardRelease
from dashboard.services.infra import dispatch
from scanners.standard import Standard as EngineStandard
from scanners.standard import default_standard


@transaction.atomic
def sync_standard(engine_standard: EngineStandard | None = None) -> Standard:
    """Upsert the standard and its rules; rules gone from the file are retired, never deleted.

    Safe to run at every start and after every migration: it only writes what changed, and
    only the bundled values: the organisation's overrides (`Rule.severity_override`,
    `weight_override`, `enabled`) are never in `fields`, so they survive every sync.
    """
    source = engine_standard or default_standard()
    before = Standard.objects.filter(key=source.key).values_list("version", flat=True).first()
    standard, _ = Standard.objects.update_or_create(
        key=source.key, defaults={"name": source.name, "version": source.version}
    )
    existing = {rule.rule_id: rule for rule in standard.rules.all()}
    # Rules a new version adds get the version's grace period unless they name their own.
    upgrade = before is not None and before != source.version and bool(existing)
    to_create: list[Rule] = []
    to_update: list[Rule] = []
    fields = (
        "section",
        "section_title",
        "severity",
        "weight",
        "evaluation",
        "title",
        "rationale",
        "remediation",
        "heading",
        "position",
        "retired",
        "effective_from",
        "countable",
    )
    for position, spec in enumerate(source.rules.values()):
        values: dict[str, object] = {
            "section": spec.section,
            "section_title": source.sections[spec.section].title,
            "severity": spec.severity.value,
            "weight": spec.weight,
            "evaluation": spec.evaluation,
            "title": spec.title,
            "rationale": spec.rationale,
            "remediation": spec.remediation,
            "heading": spec.heading,
            "position": position,
            "retired": False,
            "countable": spec.countable,
        }
        rule = existing.pop(spec.id, None)
        # The file's date wins when it names one; otherwise a date set in Admin stays.
        if spec.effective_from is not None:
            values["effective_from"] = spec.effective_from
        if rule is None:
            if spec.effective_from is None and upgrade:
                values["effective_from"] = source.effective_from
            to_create.append(Rule(standard=standard, rule_id=spec.id, **values))
        elif any(getattr(rule, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(rule, key, value)
            to_update.append(rule)
    for rule in existing.values():
        if not rule.retired:
            rule.retired = True
            to_update.append(rule)
    Rule.objects.bulk_create(to_create)
    Rule.objects.bulk_update(to_update, fields)
    _record_release(standard, before)
    return standard


def _record_release(standard: Standard, before: str | None) -> None:
    """Remember when each version arrived; a new one re-evaluates every latest commit.

    Recorded as the effective version: the organisation's rule configuration, which the
    sync never touches, carries over to a new bundled version (`1.5.0+org.3`).
    """
    previous = (
        f"{before}+org.{standard.org_revision}" if before and standard.org_revision else before
    )
    _, created = StandardRelease.objects.get_or_create(
        standard=standard,
        version=standard.effective_version,
        defaults={"previous_version": previous or "", "synced_at": timezone.now()},
    )
    if created and before is not None and before != standard.version:
        reevaluate = dispatch.task(dispatch.REEVALUATE_STANDARD)
        transaction.on_commit(partial(reevaluate.delay, standard.pk), robust=True)


def current_standard() -> Standard:
    """The database row of the engine's default standard, synced when missing or stale."""
    source = default_standard()
    standard = Standard.objects.filter(key=source.key).first()
    if standard is None or standard.version != source.version or not standard.rules.exists():
        standard = sync_standard(source)
    return standard

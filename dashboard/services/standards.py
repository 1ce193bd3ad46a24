"""Keep the Standard and Rule tables in step with the engine's standard file."""

from __future__ import annotations

from django.db import transaction

from dashboard.models import Rule, Standard
from scanners.standard import Standard as EngineStandard
from scanners.standard import default_standard


@transaction.atomic
def sync_standard(engine_standard: EngineStandard | None = None) -> Standard:
    """Upsert the standard and its rules; rules gone from the file are retired, never deleted.

    Safe to run at every start and after every migration: it only writes what changed.
    """
    source = engine_standard or default_standard()
    standard, _ = Standard.objects.update_or_create(
        key=source.key, defaults={"name": source.name, "version": source.version}
    )
    existing = {rule.rule_id: rule for rule in standard.rules.all()}
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
    )
    for position, spec in enumerate(source.rules.values()):
        values = {
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
        }
        rule = existing.pop(spec.id, None)
        if rule is None:
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
    return standard


def current_standard() -> Standard:
    """The database row of the engine's default standard, synced when missing or stale."""
    source = default_standard()
    standard = Standard.objects.filter(key=source.key).first()
    if standard is None or standard.version != source.version or not standard.rules.exists():
        standard = sync_standard(source)
    return standard

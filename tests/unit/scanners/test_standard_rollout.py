"""The standard file's roll-out fields: `effective_from` (per rule and per version), `countable`."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
import yaml

from scanners.standard import DEFAULT_STANDARD_PATH, StandardError, default_standard, parse_standard


@pytest.fixture
def document() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_STANDARD_PATH.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def test_dates_parse_from_yaml_dates_and_iso_strings(document: dict[str, Any]) -> None:
    document["effective_from"] = "2027-01-04"
    document["rules"][0]["effective_from"] = date(2026, 3, 1)
    document["rules"][1]["effective_from"] = "2026-04-01"
    standard = parse_standard(document)
    assert standard.effective_from == date(2027, 1, 4)
    assert standard.rules["DEP-001"].effective_from == date(2026, 3, 1)
    assert standard.rules["DEP-002"].effective_from == date(2026, 4, 1)
    assert standard.rules["DEP-003"].effective_from is None


@pytest.mark.parametrize("value", ["next week", "2026-13-01", 20260301, ["2026-03-01"]])
def test_a_bad_date_names_the_rule(document: dict[str, Any], value: object) -> None:
    document["rules"][2]["effective_from"] = value
    with pytest.raises(StandardError, match=r"rule DEP-003: 'effective_from' must be a date"):
        parse_standard(document)


def test_countable_must_be_a_boolean(document: dict[str, Any]) -> None:
    document["rules"][0]["countable"] = "yes"
    with pytest.raises(StandardError, match="rule DEP-001: countable must be true or false"):
        parse_standard(document)


def test_the_default_standard_marks_count_based_rules() -> None:
    rules = default_standard().rules
    assert rules["STY-004"].countable  # functions over 50 lines: one finding each
    assert rules["LAY-001"].countable
    assert not rules["DEP-001"].countable  # a lock file is there or not
    assert all(not r.countable for r in rules.values() if r.evaluation != "static")

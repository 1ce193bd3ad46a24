"""docs/rules.md is generated from the standard and the registry, and is up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from scanners.standard import default_standard

ROOT = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_rules_doc", ROOT / "scripts/gen_rules_doc.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rules_doc_is_up_to_date() -> None:
    expected = generator().render(default_standard())
    actual = (ROOT / "docs" / "rules.md").read_text("utf-8")
    assert actual == expected, (
        "docs/rules.md is stale: run `uv run python scripts/gen_rules_doc.py`"
    )


def test_rules_doc_lists_every_rule_with_its_check() -> None:
    text = (ROOT / "docs" / "rules.md").read_text("utf-8")
    for rule_id in default_standard().rules:
        assert f"| {rule_id} |" in text
    assert "| TST-004 | major | static |" in text
    assert "Every test function asserts something." in text


def test_check_mode_reports_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = generator()
    monkeypatch.setattr(module, "DOC", tmp_path / "rules.md")
    assert module.main(["--check"]) == 1
    assert module.main([]) == 0
    assert module.main(["--check"]) == 0

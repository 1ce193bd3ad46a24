"""ENV-001: .env.example plus development/staging/production handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import golden_files
from tests.unit.scanners.rules.harness import FAIL, WARN, Case, case_ids, check
from tests.unit.scanners.rules.test_cfg import APP_LAYOUT, BASE, ENV_LINE, SETTINGS, line_of

CONFIG = "src/core/config.py"
EX = ".env.example"
NO_STAGE_FILES = {rel: None for rel in golden_files() if rel.startswith(".env.") and rel != EX}
NO_ENV_FIELD = {**NO_STAGE_FILES, CONFIG: SETTINGS.replace(ENV_LINE, "")}
ENV001 = [
    Case("golden passes"),
    Case("app layout passes", files=APP_LAYOUT),
    Case("backend subfolder passes", prefix="backend/"),
    Case(
        "stage files instead of a field pass",
        {**NO_ENV_FIELD, ".env.production.example": "DEBUG=false\n"},
    ),
    Case("short stage file names pass", {**NO_ENV_FIELD, ".env.dev.example": "DEBUG=true\n"}),
    Case("a force-committed stage file passes", NO_ENV_FIELD, forced={".env.staging": "X=1\n"}),
    Case(
        "an app_env field passes",
        {**NO_STAGE_FILES, CONFIG: SETTINGS.replace("environment:", "APP_ENV:")},
    ),
    Case("no .env.example warns", {EX: None}, WARN, path=EX),
    Case(
        "no environment handling warns",
        NO_ENV_FIELD,
        WARN,
        path=CONFIG,
        line=line_of(SETTINGS, "class Settings"),
    ),
    Case("neither fails", {**NO_ENV_FIELD, EX: None}, FAIL, path=EX, paths=(CONFIG,)),
    Case(
        "no settings and no stage files fail",
        {**NO_STAGE_FILES, EX: None, CONFIG: "X = 1\n"},
        FAIL,
        path=CONFIG,
    ),
]


@pytest.mark.parametrize("case", ENV001, ids=case_ids(ENV001))
def test_env001_environment_separation(tmp_path: Path, case: Case) -> None:
    check(tmp_path, "ENV-001", case, BASE)

"""Text prefilters that let analyses skip files must never hide a finding.

Each prefilter is a cheap search over a file's text that says "this file cannot hold a
finding"; these properties check it is a superset of what the analysis itself accepts.
"""

from __future__ import annotations

import ast
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanners.analysis import layering, secrets
from scanners.analysis.imports import ImportGraph
from scanners.analysis.sqla_models import sqla_name
from scanners.context import PyModule

_WORDS = ("key", "token", "secret", "credential", "credentials", "password", "passwd",
          "passphrase", "pass", "pwd", "paswd", "api", "client", "signing", "my", "db")  # fmt: skip
_names = st.lists(
    st.one_of(
        st.sampled_from(_WORDS),
        st.sampled_from([w.upper() for w in _WORDS] + [w.title() for w in _WORDS]),
        st.text(string.ascii_letters + string.digits + "_-. ä", min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "".join(parts))


@settings(max_examples=400, deadline=None)
@given(name=_names)
@example(name="apiToken")
@example(name="API-KEY")
@example(name="db_password__")
@example(name="tokenä")
@example(name="Passwd")
def test_a_name_the_classifier_accepts_always_passes_the_text_prefilter(name: str) -> None:
    value = "q8Zr3kLm9Xv2Tn7Wp4Ys6Ub1"  # long and random enough for every kind of name
    for in_tests in (False, True):
        if secrets._classify(name, value, in_tests) is not None:
            assert secrets.may_name_a_secret(f"{name} = {value!r}"), name
            assert secrets.may_name_a_secret(f'{{"{name}": "{value}"}}'), name


def test_the_prefilter_rejects_files_without_any_secret_like_name() -> None:
    text = "def total(items: list[int]) -> int:\n    return sum(items)\nkeyboard = 'qwerty'\n"
    assert not secrets.may_name_a_secret(text)
    assert secrets.may_name_a_secret(text.replace("keyboard", "API_KEY"))


@pytest.mark.parametrize(
    "annotation",
    ["AsyncSession", "orm.Session", "'Session'", "Optional[AsyncSession]", "Session | None"],
)
def test_session_typed_names_are_only_found_in_sources_that_spell_session(
    annotation: str,
) -> None:
    source = f"def f(db: {annotation}) -> None:\n    db.execute(q)\n"
    assert layering._session_typed_names(ast.parse(source)) == {"db"}
    assert "Session" in source  # what session_calls tests before looking for them
    renamed = source.replace("Session", "Sessio")
    assert layering._session_typed_names(ast.parse(renamed)) == set()


def build_import_graph_for(source: str) -> dict[str, str]:
    """The import aliases of `source` as a module `m.py` of a one-file project."""
    return ImportGraph([PyModule("m.py", source, ast.parse(source))], [""]).aliases("m.py")


@pytest.mark.parametrize(
    ("imports", "callee"),
    [
        ("from sqlalchemy import Index", "Index"),
        ("from sqlalchemy import Index as Ix", "Ix"),
        ("import sqlalchemy as sa", "sa.Index"),
        ("import sqlalchemy.schema as s", "s.Index"),
        ("from sqlalchemy import *", "Index"),
    ],
)
def test_sqlalchemy_names_resolve_only_from_callees_spelled_in_the_module(
    imports: str, callee: str
) -> None:
    source = f"{imports}\n{callee}('ix_a', Model.owner_id)\n"
    tree = ast.parse(source)
    aliases = build_import_graph_for(source)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert sqla_name(call.func, aliases) == "Index"
    assert "Index" in source  # the prefilter of sqla_usage's Index and Table searches


def test_a_name_imported_from_elsewhere_is_not_sqlalchemys() -> None:
    source = "from app.db import Ix\nIx('ix_a', Model.owner_id)\n"
    call = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call))
    assert sqla_name(call.func, build_import_graph_for(source)) is None

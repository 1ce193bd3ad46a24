"""The strict JSON reader: what `json.loads` lets through is refused, with its place named."""

from __future__ import annotations

import pytest

from scanners import strict_json
from scanners.formats import ReportFormatError, load_json
from scanners.strict_json import JSONInputError


@pytest.mark.parametrize(
    ("data", "pointer", "message"),
    [
        (b'{"a": NaN}', "", "NaN is not a JSON number"),
        (b'{"a": [Infinity]}', "", "Infinity is not a JSON number"),
        (b'{"a": -Infinity}', "", "-Infinity is not a JSON number"),
        (b'{"a": -1e999}', "", "-1e999 is out of range"),
        (b'{"a": 1, "b": {"c": 1, "c": 2}}', "/c", "duplicate key 'c'"),
        (b'{"a": "\\ud800"}', "/a", "/a contains a lone surrogate"),
        (b'{"a": ["x", "\\udfff y"]}', "/a/1", "/a/1 contains a lone surrogate"),
        (b'{"\\ud800": 1}', "/\\ud800", "contains a lone surrogate"),
        (b'{"a": {"b": "x\\u0000"}}', "/a/b", "/a/b contains a NUL character"),
        (b'"\\u0000"', "/", "/ contains a NUL character"),
        (b"[" * 65 + b"]" * 65, "", "nested deeper than 64 levels"),
        (b"[" * 50_000 + b"]" * 50_000, "", "nested deeper than 64 levels"),
        (b"[" * 1_000_000, "", "nested deeper than 64 levels"),
    ],
)
def test_well_formed_but_forbidden_json_is_refused(data: bytes, pointer: str, message: str) -> None:
    with pytest.raises(JSONInputError) as caught:
        strict_json.loads(data)
    assert message in caught.value.message
    assert caught.value.pointer == pointer
    assert not caught.value.malformed


@pytest.mark.parametrize(
    "data",
    [
        b'"\xed\xa0\x80"',
        b"\xff\xfe{}",
        b'{"a": ',
        b"",
        b"1" * 5000,
        "\ud800".encode("utf-8", "surrogatepass"),
    ],
    ids=["utf8-surrogate", "not-utf8", "truncated", "empty", "huge-int", "raw-surrogate"],
)
def test_malformed_json_is_refused_as_malformed(data: bytes) -> None:
    with pytest.raises(JSONInputError) as caught:
        strict_json.loads(data)
    assert caught.value.malformed


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"a": "' + "[{" * 1000 + '\\"[", "b": [[["ok"]]]}'
    assert strict_json.loads(text)["b"] == [[["ok"]]]
    assert strict_json.nesting_depth(("[" * 64 + "]" * 64).encode()) == 64
    assert isinstance(strict_json.loads("[" * 64 + "]" * 64), list)


def test_ordinary_json_reads_as_json_loads_reads_it() -> None:
    data = '{"a": [1, 2.5, -3e2, true, null, "é ✓ 𝄞"], "b": {"c": ""}}'
    assert strict_json.loads(data) == {
        "a": [1, 2.5, -300.0, True, None, "é ✓ 𝄞"],
        "b": {"c": ""},
    }


def test_parse_keeps_bad_text_for_the_caller_to_locate() -> None:
    document = strict_json.parse(b'{"ref": "main\\u0000", "ok": "x"}')
    assert strict_json.find_bad_text(document) == ("/ref", "a NUL character")
    assert strict_json.find_bad_text({"ok": ["x", {"y": "z"}]}) is None


def test_a_report_with_nan_is_not_a_report() -> None:
    with pytest.raises(ReportFormatError, match="NaN is not a JSON number"):
        load_json(b'{"schema_version": "1.0", "score": NaN}')

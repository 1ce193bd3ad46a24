"""The standard's text as HTML: the subset renders, nothing hostile gets through."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboard.markdown import render
from scanners.standard import default_standard

BARE = {
    f"<{slash}{name}>"
    for slash in ("", "/")
    for name in ("p", "h3", "ul", "ol", "li", "strong", "em", "code", "pre", "a")
} | {"<hr>"}
LINK_TAG = r'<a href="https?://[^"<>\s]*" rel="nofollow noopener noreferrer">'


def test_paragraphs_headings_and_emphasis() -> None:
    html = render("# Title\n\nSome **strong** and *light*\nwords.\n\n### Sub")
    assert html == (
        "<h3>Title</h3>\n<p>Some <strong>strong</strong> and <em>light</em> words.</p>\n"
        "<h3>Sub</h3>"
    )
    assert render("#### Deep") == "<h4>Deep</h4>"


def test_lists_nest_by_indentation() -> None:
    html = render("- one\n- two\n  - two a\n  - two b\n- three\n\n1. first\n2. second")
    assert html == (
        "<ul><li>one</li><li>two<ul><li>two a</li><li>two b</li></ul></li><li>three</li></ul>\n"
        "<ol><li>first</li><li>second</li></ol>"
    )


def test_code_spans_and_blocks_are_verbatim() -> None:
    html = render("Run `uv add **x** <pkg>`.\n\n```python\nif a < b and *c*:\n    pass\n```")
    assert "<code>uv add **x** &lt;pkg&gt;</code>" in html
    assert "<pre><code>if a &lt; b and *c*:\n    pass</code></pre>" in html
    assert "<em>" not in html


def test_http_links_only() -> None:
    assert render("[docs](https://docs.example.com/a?b=1&c=2)") == (
        '<p><a href="https://docs.example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">'
        "docs</a></p>"
    )
    for address in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:x",
        "/relative",
        "//evil.example.com",
        "&#106;avascript:alert(1)",
    ):
        html = render(f"[click]({address})")
        assert html == "<p>click</p>", address


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "**<script>x</script>**",
        "- <iframe src=https://evil.example.com>",
        "# <b onclick=alert(1)>x</b>",
        '[<img src=x onerror=alert(1)>](https://ok.example.com/"onmouseover="alert(1))',
        "`</code><script>x</script>`",
        "```\n</code></pre><script>x</script>\n```",
        "text\x00<script>x</script>",
    ],
)
def test_hostile_input_never_becomes_markup(hostile: str) -> None:
    html = render(hostile)
    assert "<script" not in html
    assert "<img" not in html
    assert "<iframe" not in html
    assert "<b " not in html
    # Only the subset's own tags remain, with no attribute but a link's href and rel.
    for tag in re.findall(r"<[^>]*>", html):
        assert tag in BARE or re.fullmatch(LINK_TAG, tag), tag


def test_the_quote_in_a_link_cannot_leave_the_attribute() -> None:
    html = render('[x](https://ok.example.com/"onmouseover="alert(1))')
    assert html == "<p>x</p>"  # an address with a quote is no address


def test_empty_text_renders_nothing() -> None:
    assert render("") == ""
    assert render("\n\n  \n") == ""


def test_the_bundled_standard_renders_with_its_lists_and_code() -> None:
    standard = default_standard()
    html = render(standard.section_text("Project Structure"))
    assert html.startswith("<p><strong>MANDATORY: Follow this structure</strong></p>\n")
    assert "<pre><code>project/\n" in html
    html = render(standard.section_text("Framework Requirements"))
    assert "<li>Enable in development environment</li>" in html
    assert "<code>/docs</code>" in html
    assert "**" not in html


@pytest.mark.django_db
def test_the_rule_page_shows_the_standard_as_html(
    client: Client, personas: dict[str, object]
) -> None:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    html = client.get("/rules/FW-001/").content.decode()
    text = html[html.index('<div class="standard-text">') :]
    assert text.startswith(
        '<div class="standard-text"><p><strong>MANDATORY: Use FastAPI exclusively'
    )
    assert "<li>Use Uvicorn as the ASGI server</li>" in text
    assert "**MANDATORY" not in html
    assert '<pre class="standard-text">' not in html


@pytest.mark.django_db
def test_the_rule_page_renders_why_and_how_to_fix_as_html(
    client: Client, personas: dict[str, object]
) -> None:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    html = client.get("/rules/DEP-001/").content.decode()
    fix = html[html.index("<h2>How to fix</h2>") :]
    assert fix.startswith("<h2>How to fix</h2><p>Run <code>uv init</code>")
    assert "`uv" not in html[: html.index('<div class="standard-text">')]

"""A safe, small Markdown subset rendered to HTML, for the standard's text on rule pages.

Supported: paragraphs, `#` headings, `-`/`*`/`+` and numbered lists (nested by indentation),
fenced code blocks, inline code, `**strong**`, `*emphasis*`, horizontal rules and
`[links](https://...)` to http(s) addresses only. Everything is escaped before any markup is
added, so raw HTML in the text shows as text; a link to any other scheme (`javascript:`,
`data:`, relative paths) keeps its label and loses its address. The standard is data an
organisation may ship, so this never trusts it.
"""

from __future__ import annotations

import re
from html import escape, unescape
from urllib.parse import urlsplit

from django.utils.safestring import SafeString, mark_safe

__all__ = ["render"]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$")
RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"\[([^\]\n]+)\]\(((?:[^()\s]|\([^()\s]*\))+)\)")  # one level of (parens)
STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
EMPHASIS = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
TOKEN = re.compile("\x00(\\d+)\x00")
SCHEMES = frozenset({"http", "https"})
MIN_HEADING = 3  # the text sits under the page's own h1 and h2


def render(text: str) -> SafeString:
    """`text` (Markdown) as HTML in which only the subset's own tags can appear."""
    lines = text.replace("\x00", "").replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif FENCE.match(line):
            i = _code_block(lines, i, blocks)
        elif heading := HEADING.match(line):
            level = max(len(heading.group(1)), MIN_HEADING)
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
        elif RULE.match(line):
            blocks.append("<hr>")
            i += 1
        elif ITEM.match(line):
            i = _list(lines, i, blocks)
        else:
            i = _paragraph(lines, i, blocks)
    return mark_safe("\n".join(blocks))  # noqa: S308 - built from escaped text only  # nosec B703


def _starts_block(line: str) -> bool:
    return bool(
        not line.strip()
        or FENCE.match(line)
        or HEADING.match(line)
        or RULE.match(line)
        or ITEM.match(line)
    )


def _code_block(lines: list[str], i: int, blocks: list[str]) -> int:
    """A fenced block, verbatim (escaped) up to the closing fence or the end of the text."""
    fence = FENCE.match(lines[i]).group(1)  # type: ignore[union-attr]  # matched by the caller
    body: list[str] = []
    i += 1
    while i < len(lines) and not lines[i].strip().startswith(fence):
        body.append(lines[i])
        i += 1
    blocks.append(f"<pre><code>{escape(chr(10).join(body))}</code></pre>")
    return i + 1


def _paragraph(lines: list[str], i: int, blocks: list[str]) -> int:
    body = [lines[i].strip()]
    i += 1
    while i < len(lines) and not _starts_block(lines[i]):
        body.append(lines[i].strip())
        i += 1
    blocks.append(f"<p>{_inline(' '.join(body))}</p>")
    return i


def _list(lines: list[str], i: int, blocks: list[str]) -> int:
    """Consecutive items (and their indented continuation lines) as nested lists."""
    items: list[tuple[int, str, str]] = []  # (indent, tag, text)
    while i < len(lines) and lines[i].strip() and not FENCE.match(lines[i]):
        item = ITEM.match(lines[i])
        if item:
            tag = "ul" if item.group(2) in "-*+" else "ol"
            items.append((len(item.group(1).expandtabs(4)), tag, item.group(3)))
        elif lines[i][:1].isspace() and items:
            indent, tag, text = items[-1]
            items[-1] = (indent, tag, f"{text} {lines[i].strip()}")
        else:
            break
        i += 1
    out: list[str] = []
    open_lists: list[tuple[int, str]] = []  # (indent, tag) from the outermost
    for indent, tag, text in items:
        if not open_lists or indent > open_lists[-1][0]:
            out.append(f"<{tag}>")
            open_lists.append((indent, tag))
        else:
            while len(open_lists) > 1 and indent < open_lists[-1][0]:
                out.append(f"</li></{open_lists.pop()[1]}>")
            out.append("</li>")
        out.append(f"<li>{_inline(text)}")
    while open_lists:
        out.append(f"</li></{open_lists.pop()[1]}>")
    blocks.append("".join(out))
    return i


def _inline(text: str) -> str:
    """One line's inline markup; code spans and links are set aside first, so emphasis
    never reaches inside them."""
    kept: list[str] = []

    def keep(html: str) -> str:
        kept.append(html)
        return f"\x00{len(kept) - 1}\x00"

    parts = CODE_SPAN.split(text)
    # split() yields [text, fence, code, text, fence, code, ..., text].
    pieces = []
    for n in range(0, len(parts), 3):
        pieces.append(escape(parts[n]))
        if n + 2 < len(parts):
            pieces.append(keep(f"<code>{escape(parts[n + 2].strip())}</code>"))
    html = "".join(pieces)
    html = LINK.sub(lambda m: keep(_link(m.group(1), m.group(2))), html)
    html = STRONG.sub(r"<strong>\1</strong>", html)
    html = EMPHASIS.sub(r"<em>\1</em>", html)
    while TOKEN.search(html):  # a link's label may hold a kept code span
        html = TOKEN.sub(lambda m: kept[int(m.group(1))], html)
    return html


def _link(label: str, address: str) -> str:
    """A link from escaped `label` and `address`: http(s) only, else the label alone."""
    raw = unescape(address).strip()
    try:
        scheme = urlsplit(raw).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in SCHEMES or any(c in raw for c in "\"'<>\\ \t\n"):
        return label
    return f'<a href="{escape(raw, quote=True)}" rel="nofollow noopener noreferrer">{label}</a>'

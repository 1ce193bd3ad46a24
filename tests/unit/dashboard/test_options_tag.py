"""The `options` template tag: pickers of every team or rule, escaped, the chosen one marked."""

from __future__ import annotations

from django.template import Context, Template


def _render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_options_escape_values_and_texts_and_mark_the_chosen_one() -> None:
    html = _render(
        "{% options teams chosen %}",
        teams=[("a", "Alpha"), ("b&c", '<script>"x"</script>')],
        chosen="b&c",
    )
    assert html == (
        '<option value="a">Alpha</option>'
        '<option value="b&amp;c" selected>&lt;script&gt;&quot;x&quot;&lt;/script&gt;</option>'
    )


def test_options_without_a_choice_mark_none_and_show_rule_ids() -> None:
    html = _render('{% options rules "" "id title" %}', rules=[("LAY-001", "Layers")])
    assert html == '<option value="LAY-001">LAY-001 Layers</option>'
    # An empty value is never "chosen" by an empty filter.
    assert "selected" not in _render("{% options pairs '' %}", pairs=[("", "Any")])

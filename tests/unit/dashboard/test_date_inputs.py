"""Every `type=date` input of the project's forms renders the ISO date a date picker accepts."""

from __future__ import annotations

import inspect
from datetime import date

import pytest
from django import forms
from django.utils import translation

import dashboard.forms.governance
import dashboard.forms.notify
import dashboard.forms.repos

FORM_MODULES = (dashboard.forms.governance, dashboard.forms.notify, dashboard.forms.repos)


def _date_fields() -> list[tuple[str, forms.Field]]:
    found = []
    for module in FORM_MODULES:
        for name, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, forms.BaseForm) and form.__module__ == module.__name__:
                for field_name, field in form.base_fields.items():
                    if isinstance(field, forms.DateField):
                        found.append((f"{name}.{field_name}", field))
    return found


def test_the_forms_have_date_fields_to_check() -> None:
    assert {"InitiativeForm.start_date", "WaiverForm.expires_on"} <= {n for n, _ in _date_fields()}


@pytest.mark.parametrize(("name", "field"), _date_fields(), ids=[n for n, _ in _date_fields()])
@pytest.mark.parametrize("language", ["en-gb", "en-us", "de"])
def test_date_inputs_render_iso_dates_in_any_locale(
    name: str, field: forms.Field, language: str
) -> None:
    with translation.override(language):
        html = field.widget.render("day", date(2026, 12, 7))
    assert 'type="date"' in html
    assert 'value="2026-12-07"' in html, html

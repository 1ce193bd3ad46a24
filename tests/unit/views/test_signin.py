"""Brute-force protection on sign-in: failures per address and per username are limited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _small_limit(settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = (3, 300)
    cache.clear()


def _client() -> Client:
    return Client(REMOTE_ADDR=f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")


def _sign_in(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def _user(name: str) -> Any:
    user = UserFactory(username=name)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_correct_password_signs_in() -> None:
    _user("ann")
    response = _sign_in(_client(), "ann", PASSWORD)
    assert response.status_code == 302


def test_guessing_from_one_address_is_refused_even_with_the_right_password() -> None:
    _user("ann")
    client = _client()
    for guess in ("a", "b", "c"):
        assert _sign_in(client, "ann", guess).status_code == 200  # the form, with its error
    refused = _sign_in(client, "ann", PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_guessing_one_account_from_many_addresses_is_refused() -> None:
    _user("ann")
    for guess in ("a", "b", "c"):
        _sign_in(_client(), "ANN ", guess)  # spelling variants count as the same account
    assert _sign_in(_client(), "ann", PASSWORD).status_code == 429


def test_successful_sign_ins_do_not_count() -> None:
    _user("ann")
    client = _client()
    for _ in range(6):
        assert _sign_in(client, "ann", PASSWORD).status_code == 302
        client.logout()


def test_other_accounts_and_addresses_are_unaffected() -> None:
    _user("ann")
    _user("bob")
    attacker = _client()
    for guess in ("a", "b", "c"):
        _sign_in(attacker, "ann", guess)
    assert _sign_in(_client(), "bob", PASSWORD).status_code == 302

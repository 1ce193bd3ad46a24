"""Sign-in lockout (django-axes): failures are counted per (username, address) pair only.

Finding 9: ten wrong passwords used to lock the named account for everyone, and every user
behind the same address (behind the TLS proxy: the whole organisation).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.factories import UserFactory
from tests.unit.test_health import CACHE_DOWN

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT


def _address() -> str:
    return f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _client(address: str | None = None) -> Client:
    return Client(REMOTE_ADDR=address or _address())


def _sign_in(client: Client, username: str, password: str, url: str = "/accounts/login/") -> Any:
    return client.post(url, {"username": username, "password": password})


def _user(name: str, **fields: Any) -> Any:
    user = UserFactory(username=name, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def _attempts() -> Any:
    """Axes' failed-attempt rows (imported here, so the module also runs on pre-axes code)."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects


def _fail(client: Client, username: str, times: int = LIMIT) -> list[int]:
    return [_sign_in(client, username, f"wrong-{n}").status_code for n in range(times)]


def test_correct_password_signs_in() -> None:
    _user("ann")
    response = _sign_in(_client(), "ann", PASSWORD)
    assert response.status_code == 302


def test_guessing_from_one_address_is_refused_even_with_the_right_password() -> None:
    _user("ann")
    client = _client()
    # The form (with its error) until the limit; the failure that reaches it is refused.
    assert _fail(client, "ann") == [200] * (LIMIT - 1) + [429]
    refused = _sign_in(client, "ann", PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 300  # LOGIN_COOLOFF_MINUTES, restarted by the attempt
    assert b"Too many failed sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session


def test_spelling_variants_of_a_username_count_as_one_account() -> None:
    _user("ann")
    client = _client()
    for variant in ("ANN ", "Ann", "ann"):
        _sign_in(client, variant, "wrong")
    assert _sign_in(client, "ann", PASSWORD).status_code == 429


def test_failures_from_x_for_u_lock_neither_u_elsewhere_nor_v_from_x() -> None:
    _user("ann")
    _user("bob")
    x = _address()
    for _ in range(3):  # well past the limit: the attacker keeps going
        _fail(_client(x), "ann")
    assert _sign_in(_client(x), "ann", PASSWORD).status_code == 429
    # The account's owner, from her own address, signs in.
    assert _sign_in(_client(), "ann", PASSWORD).status_code == 302
    # Another user behind the same address (the same TLS proxy) signs in.
    assert _sign_in(_client(x), "bob", PASSWORD).status_code == 302


def test_guessing_many_accounts_from_one_address_locks_only_each_pair() -> None:
    x = _address()
    for name in ("u1", "u2", "u3"):
        _user(name)
        _fail(_client(x), name)
    assert _attempts().filter(ip_address=x).count() == 3
    assert _sign_in(_client(x), "carol", "x").status_code == 200  # an untouched pair


def test_behind_the_trusted_proxy_each_client_is_its_own_pair(settings: Any) -> None:
    settings.TRUSTED_PROXY_META_KEY = "HTTP_X_FORWARDED_FOR"
    _user("ann")
    proxy = _client("127.0.0.9")
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    for n in range(LIMIT):
        proxy.post("/accounts/login/", {"username": "ann", "password": f"x{n}"}, headers=attacker)
    owner = proxy.post(
        "/accounts/login/",
        {"username": "ann", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.7"},
    )
    assert owner.status_code == 302
    assert set(_attempts().values_list("ip_address", flat=True)) == {"203.0.113.66"}


def test_forged_forwarded_for_does_not_change_the_counted_address_without_a_proxy() -> None:
    _user("ann")
    client = _client("10.9.250.1")
    for n in range(LIMIT):
        forged = {"X-Forwarded-For": f"203.0.113.{n}"}
        client.post("/accounts/login/", {"username": "ann", "password": "x"}, headers=forged)
    assert set(_attempts().values_list("ip_address", flat=True)) == {"10.9.250.1"}
    assert _sign_in(client, "ann", PASSWORD).status_code == 429


def test_successful_sign_ins_do_not_count_and_reset_the_pair() -> None:
    _user("ann")
    client = _client()
    _fail(client, "ann", LIMIT - 1)
    for _ in range(3):
        assert _sign_in(client, "ann", PASSWORD).status_code == 302
        client.logout()
    assert not _attempts().exists()
    assert _fail(client, "ann", LIMIT - 1) == [200] * (LIMIT - 1)


def test_the_lockout_ends_after_the_cool_off() -> None:
    _user("ann")
    client = _client()
    _fail(client, "ann")
    _attempts().update(attempt_time=_attempts().get().attempt_time - timedelta(minutes=6))
    assert _sign_in(client, "ann", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_covered_too() -> None:
    _user("root", is_staff=True, is_superuser=True)
    client = _client()
    statuses = _fail(client, "root")
    assert statuses[-1] == 429
    refused = _sign_in(client, "root", PASSWORD, url="/admin/login/")
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert _sign_in(_client(), "root", PASSWORD, url="/admin/login/").status_code == 302


def test_sign_in_works_with_the_cache_down() -> None:
    # Finding 8: failures were counted in the cache, so a cache outage made sign-in a 500.
    _user("ann")
    client = _client()
    with override_settings(CACHES=CACHE_DOWN):
        assert client.get("/accounts/login/").status_code == 200
        assert _fail(client, "ann") == [200] * (LIMIT - 1) + [429]  # still counted (database)
        assert _sign_in(_client(), "ann", PASSWORD).status_code == 302

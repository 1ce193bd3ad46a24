"""Notification and outgoing-webhook receivers go through the address policy: refused by
text and resolution when registered, decided again when each send connects, and never
redirected. Receivers are loopback servers; names are resolved by injected resolvers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboard.admin.notify import OutgoingWebhookForm, TeamNotificationSettingsForm
from dashboard.forms.notify import NotificationSettingsForm
from dashboard.models import Delivery
from dashboard.services.notify import events as notifications
from dashboard.services.notify.delivery import deliver
from dashboard.services.notify.events import save_team_settings
from dashboard.services.notify.http_post import SendError, check_url, post_json
from scanners import netpolicy
from tests.factories import RepositoryFactory


@dataclass
class Recorder:
    """A loopback HTTP server recording every request (any method) it receives."""

    host: str
    port: int = 0
    seen: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture
def serve() -> Iterator[Callable[..., Recorder]]:
    """`serve(host="127.0.0.1", location=None)`: a recorder; `location` makes it answer 302."""
    running: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(host: str = "127.0.0.1", location: str | None = None) -> Recorder:
        record = Recorder(host)

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                record.seen.append((self.command, self.path))
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(302 if location else 200)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                """Quiet."""

        server = ThreadingHTTPServer((host, 0), Handler)
        record.port = server.server_port
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return record

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed(settings: Any) -> None:
    """Internal addresses not allowed (production), plain http still allowed (development)."""
    settings.ENVIRONMENT = "development"
    settings.ALLOW_INTERNAL_HOSTS = False


def use_resolver(monkeypatch: pytest.MonkeyPatch, *answers: Sequence[str]) -> list[str]:
    """Make the policy's resolver give `answers` in turn (the last one again); returns the
    names it was asked for."""
    asked: list[str] = []
    queue = list(answers)

    def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(netpolicy, "system_resolver", resolve)
    return asked


# ----- sending ---------------------------------------------------------------------------
@pytest.mark.usefixtures("closed")
def test_a_loopback_receiver_is_refused_at_connect_time(serve: Callable[..., Recorder]) -> None:
    receiver = serve()
    with pytest.raises(SendError, match="internal address") as caught:
        post_json(f"{receiver.url}/hook", b"{}")
    assert not caught.value.transient
    assert receiver.seen == []


@pytest.mark.usefixtures("closed")
def test_a_name_rebound_to_loopback_after_registration_is_refused_at_send(
    serve: Callable[..., Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = serve()
    url = f"http://hooks.example:{receiver.port}/hook"
    asked = use_resolver(monkeypatch, ["140.82.112.3"], ["127.0.0.1"])
    assert check_url(url, resolve=True) == url  # registration: public
    with pytest.raises(SendError, match="resolves to an internal address") as caught:
        post_json(url, b"{}")  # the send: loopback now
    assert not caught.value.transient
    assert asked == ["hooks.example", "hooks.example"]
    assert receiver.seen == []


def test_a_redirect_is_not_followed(
    settings: Any, serve: Callable[..., Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ALLOW_INTERNAL_HOSTS = True  # loopback receivers in this test
    elsewhere = serve("127.0.0.2")
    redirecting = serve(location=f"{elsewhere.url}/stolen")
    with pytest.raises(SendError, match="redirects are not followed") as caught:
        post_json(f"{redirecting.url}/hook", b"{}")
    assert (caught.value.status, caught.value.transient) == (302, False)
    assert redirecting.seen == [("POST", "/hook")]
    assert elsewhere.seen == []


def test_development_still_posts_to_loopback_by_name(
    settings: Any, serve: Callable[..., Recorder]
) -> None:
    settings.ALLOW_INTERNAL_HOSTS = True
    receiver = serve()
    assert post_json(f"http://localhost:{receiver.port}/hook?x=1", b"{}") == 200
    assert receiver.seen == [("POST", "/hook?x=1")]


@pytest.mark.django_db
def test_a_stored_slack_url_to_an_internal_address_fails_for_good(
    personas: dict[str, Any], serve: Callable[..., Recorder], settings: Any
) -> None:
    receiver = serve()
    team = personas["team"]
    save_team_settings(
        personas["maintainer"], team, emails="", slack_url=f"{receiver.url}/slack"
    )  # stored while internal hosts were allowed
    settings.ALLOW_INTERNAL_HOSTS = False
    notifications.level_dropped(RepositoryFactory(team=team), "gold", "none", "k")
    slack = Delivery.objects.get(channel="slack")
    assert deliver(slack.pk) == "failed"
    assert "internal address" in Delivery.objects.get(pk=slack.pk).last_error
    assert receiver.seen == []


# ----- registering -----------------------------------------------------------------------
REFUSED = [
    ("http://127.0.0.1/hook", "internal address"),
    ("http://localhost/hook", "internal address"),
    ("http://[::127.0.0.1]/hook", "internal address"),
    ("https://169.254.169.254/latest", "internal address"),
    ("https://%31%32%37.0.0.1/hook", "percent-encoded"),
    ("https://%31%36%39.254.169.254/latest", "percent-encoded"),
    ("https://inside.example/hook", "resolves to an internal address"),
    ("https://nowhere.example/hook", "cannot be resolved"),
]


def _resolve_names(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"inside.example": ["10.0.0.1"], "hooks.example": ["140.82.112.3"]}

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    monkeypatch.setattr(netpolicy, "system_resolver", resolve)


@pytest.mark.usefixtures("closed")
@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_the_team_form_refuses_internal_receivers(
    url: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _resolve_names(monkeypatch)
    form = NotificationSettingsForm(data={"email_recipients": "", "slack_webhook_url": url})
    assert not form.is_valid()
    assert message in str(form.errors["slack_webhook_url"])


@pytest.mark.django_db
@pytest.mark.usefixtures("closed")
@pytest.mark.parametrize(("url", "message"), REFUSED[:4] + REFUSED[6:])
def test_the_admin_forms_refuse_internal_receivers(
    url: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _resolve_names(monkeypatch)
    hook = OutgoingWebhookForm(data={"name": "ci", "url": url, "active": "on"})
    assert not hook.is_valid()
    assert message in str(hook.errors["url"])
    prefs = TeamNotificationSettingsForm(data={"slack_webhook_url": url})
    assert not prefs.is_valid()
    assert message in str(prefs.errors["slack_webhook_url"])


@pytest.mark.usefixtures("closed")
def test_a_public_receiver_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolve_names(monkeypatch)
    url = "https://hooks.example/T0/B0/x"
    form = NotificationSettingsForm(data={"email_recipients": "", "slack_webhook_url": url})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["slack_webhook_url"] == url


def test_internal_receivers_are_accepted_where_settings_allow(settings: Any) -> None:
    settings.ENVIRONMENT = "development"
    settings.ALLOW_INTERNAL_HOSTS = True
    assert check_url("http://127.0.0.1:8000/hook", resolve=True)

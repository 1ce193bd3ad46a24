"""The permission matrix: every URL the resolver knows, every role, safe and unsafe methods.

For each HTML route the table below says what each role gets for GET and for POST: the page
(200), a redirect to sign-in, 403, 404 or 405, or "acts" (an allowed write, proved by its
effect). A refused request must change nothing (every row of every dashboard and auth table
is compared before and after), and no response may carry a secret of the world (webhook
secrets, API tokens, Slack URLs, in plain text or encrypted). A URL pattern without an
entry fails `test_every_url_pattern_has_an_entry`: new views join the matrix.

The JSON API is enumerated from its OpenAPI schema the same way (`API_CASES`), the Django
admin from the resolver (every admin pattern, for anonymous, non-staff and admin users).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from dashboard.api.app import api
from dashboard.models import (
    ApiToken,
    Attestation,
    CheckResult,
    DigestSubscription,
    Initiative,
    Membership,
    Ratchet,
    Repository,
    RepositoryTransfer,
    ReviewScan,
    Rule,
    Scan,
    Team,
    TeamNotificationSettings,
    Waiver,
    WaiverRequest,
)
from dashboard.services.access import api_tokens, secrets
from dashboard.services.access.permissions import MANAGERS_GROUP
from dashboard.services.governance import ratchets, waiver_requests
from dashboard.services.governance import waivers as governance
from dashboard.services.notify.events import save_team_settings
from dashboard.services.scoring.scores import refresh_repository_score
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "member", "maintainer", "manager", "admin")
LOGIN = "sign-in"  # 302 to the sign-in page
ACTS = "acts"  # allowed: 200 or a redirect elsewhere than sign-in, and the effect shows
Expect = int | str


# ----- the world every case runs in --------------------------------------------------------
@dataclass
class World:
    """Two teams, each with a scanned repository, governance, tokens and secrets."""

    alpha: Team
    beta: Team
    repo: Repository
    beta_repo: Repository
    scan: Scan
    waiver: Waiver
    beta_waiver: Waiver
    waiver_request: WaiverRequest  # pending, by Alpha's maintainer
    attestation: Attestation
    ratchet: Ratchet
    initiative: Initiative
    waive_rule: Rule
    attest_rule: Rule
    ratchet_rule: Rule
    users: dict[str, User]
    tokens: dict[str, str]
    # Beta's maintainer offers Beta's repository to Alpha: Alpha accepts or declines.
    transfer: RepositoryTransfer | None = None
    secrets: list[str] = field(default_factory=list)
    # A password in Alpha's clone URL: the admin's edit form shows it to administrators (who
    # edit the URL), and nothing else shows it to anyone.
    credentials: list[str] = field(default_factory=list)
    own_token: ApiToken | None = None  # Maya's personal token (the tokens page revokes it)


#: What the engine found in each scanned repository: a service at the root and a worker.
DISCOVERY = {
    "chosen": "",
    "reason": "2 projects hold a web app; judged the shallowest",
    "named": False,
    "candidates": [
        {"folder": "", "kind": "standalone", "manifest": "pyproject.toml"},
        {"folder": "worker", "kind": "standalone", "manifest": "worker/pyproject.toml"},
    ],
}


def _scanned(team: Team, results: Mapping[Rule, tuple[str, int]], password: str = "") -> Repository:
    name = f"{team.slug}-service"
    userinfo = f"ci-bot:{password}@" if password else ""
    repository = RepositoryFactory(
        team=team,
        name=name,
        clone_url=f"https://{userinfo}git.example.com/{team.slug}/{name}.git",
        url_key=f"git.example.com/{team.slug}/{name}",
        webhook_secret_encrypted=secrets.encrypt(f"whsec-{uuid.uuid4().hex}"),
    )
    scan = ScanFactory(repository=repository, discovery=DISCOVERY)
    CheckResult.objects.bulk_create(
        CheckResult(scan=scan, rule=rule, status=status, findings=findings)
        for rule, (status, findings) in results.items()
    )
    repository.latest_scan = scan
    repository.save()
    return refresh_repository_score(repository)


def build_world() -> World:
    """The fixture behind every case; returns what the URLs and checks need."""
    alpha = TeamFactory(name="Alpha", slug="alpha")
    beta = TeamFactory(name="Beta", slug="beta")
    users = {
        "outsider": UserFactory(username="otto"),  # maintains Beta, not Alpha
        "member": UserFactory(username="milo"),
        "maintainer": UserFactory(username="maya"),
        "manager": UserFactory(username="manon"),
        "admin": UserFactory(username="ada", is_superuser=True, is_staff=True),
    }
    users["manager"].groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])
    Membership.objects.create(user=users["outsider"], team=beta, role="maintainer")
    Membership.objects.create(user=users["member"], team=alpha, role="member")
    Membership.objects.create(user=users["maintainer"], team=alpha, role="maintainer")

    rule = {r.rule_id: r for r in Rule.objects.filter(retired=False)}
    countable = list(Rule.objects.filter(countable=True, retired=False).order_by("position")[:2])
    results = {
        rule["DEP-002"]: ("fail", 1),
        rule["DEP-003"]: ("fail", 1),
        rule["VER-005"]: ("manual", 0),
        rule["SEC-011"]: ("manual", 0),
        countable[0]: ("fail", 3),
        countable[1]: ("fail", 2),
    }
    password = f"glpat{uuid.uuid4().hex}"
    repo = _scanned(alpha, results, password)
    beta_repo = _scanned(beta, results)
    maya, otto = users["maintainer"], users["outsider"]
    later = timezone.now() + timedelta(days=30)
    # Maintainers request waivers; a manager grants these two directly.
    manon = users["manager"]
    waiver = governance.grant_waiver(manon, repo, rule["DEP-002"], "legacy, planned", later)
    beta_waiver = governance.grant_waiver(
        manon, beta_repo, rule["DEP-002"], "legacy, planned", later
    )
    waiver_request = waiver_requests.request_waiver(
        maya, repo, countable[0], "being split up this quarter", later
    )
    attestation = governance.attest(maya, repo, rule["VER-005"], "https://wiki.example.com/r")
    ratchet = ratchets.freeze(maya, repo, countable[0])
    initiative = Initiative.objects.create(
        name="Alpha at Silver",
        goal="level",
        target_level="silver",
        start_date=timezone.now().date(),
        target_date=timezone.now().date() + timedelta(days=60),
        owner=users["manager"],
    )
    initiative.teams.set([alpha])
    slack = {
        team.slug: f"https://hooks.example.com/services/{team.slug}/{uuid.uuid4().hex}"
        for team in (alpha, beta)
    }
    save_team_settings(maya, alpha, emails="alpha@example.com", slack_url=slack["alpha"])
    save_team_settings(otto, beta, emails="beta@example.com", slack_url=slack["beta"])
    tokens = {
        "alpha-read": api_tokens.issue(alpha, "read").plaintext,
        "alpha-write": api_tokens.issue(alpha, "write", write=True).plaintext,
        "beta-write": api_tokens.issue(beta, "write", write=True).plaintext,
    }
    revoked = api_tokens.issue(alpha, "revoked", write=True)
    api_tokens.revoke(revoked.token)
    tokens["alpha-revoked-write"] = revoked.plaintext
    expired = api_tokens.issue(alpha, "expired", write=True, days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now())
    tokens["alpha-expired-write"] = expired.plaintext
    # Personal tokens for every team their owner may act on: Maya maintains Alpha, Otto Beta.
    own = api_tokens.issue(None, "maya's CI", write=True, owner=maya)
    tokens["maya-write"] = own.plaintext
    tokens["otto-write"] = api_tokens.issue(None, "otto's CI", write=True, owner=otto).plaintext
    world = World(
        alpha=alpha,
        beta=beta,
        repo=repo,
        beta_repo=beta_repo,
        scan=repo.latest_scan,  # type: ignore[arg-type]
        waiver=waiver,
        beta_waiver=beta_waiver,
        waiver_request=waiver_request,
        attestation=attestation,
        ratchet=ratchet,
        initiative=initiative,
        waive_rule=rule["DEP-003"],
        attest_rule=rule["SEC-011"],
        ratchet_rule=countable[1],
        users=users,
        tokens=tokens,
        credentials=[password],
        transfer=RepositoryTransfer.objects.create(
            repository=beta_repo, from_team=beta, to_team=alpha, proposed_by=otto
        ),
        own_token=own.token,
    )
    for repository in (repo, beta_repo):
        world.secrets += [
            repository.webhook_secret_encrypted,
            secrets.decrypt(repository.webhook_secret_encrypted) or "unreadable",
        ]
    for prefs in TeamNotificationSettings.objects.all():
        world.secrets.append(prefs.slack_webhook_encrypted)
    ReviewScan.objects.create(repository=repo, provider="github", number=7, head_sha="1" * 40)
    world.secrets += [*slack.values(), *tokens.values()]
    world.secrets += [api_tokens.hash_token(t) for t in tokens.values()]
    return world


@pytest.fixture
def world() -> World:
    return build_world()


def client_for(role: str, world: World) -> Client:
    """A browser for `role`, from its own address (sign-in and webhook limits are per address)."""
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    client = Client(REMOTE_ADDR=address)
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


# ----- what the database holds, to prove a refused request changed nothing ---------------
IGNORED_COLUMNS = frozenset({"last_login", "last_used_at", "last_used_ip"})


def snapshot(skip: frozenset[str] = frozenset()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every dashboard and auth table (ordered), but the columns reads touch."""
    models = [*apps.get_app_config("dashboard").get_models(), User, Group, User.groups.through]
    state: dict[str, list[tuple[Any, ...]]] = {}
    for model in models:
        if model._meta.label in skip:
            continue
        columns = [
            f.attname for f in model._meta.concrete_fields if f.attname not in IGNORED_COLUMNS
        ]
        state[model._meta.label] = list(model.objects.order_by("pk").values_list(*columns))
    return state


def body_of(response: Any) -> bytes:
    """The whole body, streamed or not."""
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content


def leaked(body: bytes, world: World, *, admin_form: bool = False) -> list[str]:
    """The world's secrets found in a response body (`admin_form`: but the clone URL's)."""
    text = body.decode(errors="replace")
    found = [*world.secrets, *([] if admin_form else world.credentials)]
    return [secret[:12] + "…" for secret in found if secret and secret in text]


# ----- the HTML matrix --------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One URL: how to build it, what each role gets, and what an allowed POST does."""

    url: Callable[[World], str]
    get: Mapping[str, Expect]
    post: Mapping[str, Expect]
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    effect: Callable[[World], bool] | None = None
    # Models a refused POST may still write (webhooks record every delivery, refused or not).
    records: frozenset[str] = frozenset()


def everyone(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(ROLES, expect)


def signed_in(expect: Expect, **overrides: Expect) -> dict[str, Expect]:
    """Anonymous is sent to sign in; signed-in roles get `expect` unless overridden."""
    return {**everyone(expect), "anonymous": LOGIN, **overrides}


def browse(url: Callable[[World], str]) -> Case:
    """A page every signed-in user reads (reading is organisation-wide); GET only."""
    return Case(url, get=signed_in(200), post=signed_in(405))


MAINTAINERS = {"outsider": 403, "member": 403, "manager": 403, "maintainer": ACTS, "admin": ACTS}
MANAGERS = {"outsider": 403, "member": 403, "maintainer": 403, "manager": ACTS, "admin": ACTS}
# A repository's settings: its team's maintainers, managers and admins.
EDITORS = {"outsider": 403, "member": 403, "maintainer": ACTS, "manager": ACTS, "admin": ACTS}
# Alpha's answer to Beta's offer (the world's transfer); Beta's side (the outsider) cancels.
RECEIVERS = EDITORS
PROPOSERS = {"outsider": ACTS, "member": 403, "maintainer": 403, "manager": ACTS, "admin": ACTS}


def editors_act(
    url: Callable[[World], str],
    effect: Callable[[World], bool],
    data: Callable[[World], dict[str, Any]] = lambda w: {},
    roles: Mapping[str, Expect] = EDITORS,
) -> Case:
    """A write (POST only) for a repository's editors, or a transfer's side (`roles`)."""
    return Case(url, get=signed_in(405), post=signed_in(403, **roles), data=data, effect=effect)


def _transfer_status(w: World) -> str:
    return _fresh(RepositoryTransfer, w.transfer.pk).status if w.transfer else ""


MEMBER_MANAGERS = {**MAINTAINERS, "manager": ACTS}  # a team's members: managers too


def _milo(w: World) -> int:
    """Alpha's plain member's membership (the member persona)."""
    return Membership.objects.get(team=w.alpha, user=w.users["member"]).pk


def maintainers_act(
    url: Callable[[World], str],
    effect: Callable[[World], bool],
    data: Callable[[World], dict[str, Any]] = lambda w: {},
) -> Case:
    """A write (POST only) for the team's maintainers and admins."""
    return Case(
        url, get=signed_in(405), post=signed_in(403, **MAINTAINERS), data=data, effect=effect
    )


def _today(days: int = 0) -> str:
    return (timezone.now() + timedelta(days=days)).date().isoformat()


def _repo(path: str = "") -> Callable[[World], str]:
    return lambda w: f"/repositories/{w.repo.pk}/{path}"


def _fresh(model: type[Any], pk: int) -> Any:
    return model.objects.filter(pk=pk).first()


def webhook(url: Callable[[World], str]) -> Case:
    """Public by design: a delivery proves itself with the repository's secret. Unsigned
    ones are refused (401); the refusal itself is recorded as a delivery, nothing else."""
    return Case(
        url,
        get=everyone(405),
        post=everyone(401),
        data=lambda w: {"ref": "refs/heads/main"},
        records=frozenset({"dashboard.WebhookDelivery"}),
    )


CASES: dict[str, Case] = {
    "home": browse(lambda w: "/"),
    "favicon.ico": Case(lambda w: "/favicon.ico", get=everyone(301), post=everyone(301)),
    "login": Case(
        lambda w: "/accounts/login/",
        get=everyone(200),
        post=everyone(200),  # wrong password: the form again, nobody signed in
        data=lambda w: {"username": "maya", "password": "not the password"},
    ),
    "logout": Case(lambda w: "/accounts/logout/", get=everyone(405), post=everyone(302)),
    # Password reset by e-mail (local accounts): an unknown address is answered like a known
    # one, and nothing is written; a bad link says so on both methods.
    "password_reset": Case(
        lambda w: "/accounts/password/reset/",
        get=everyone(200),
        post=everyone(302),
        # A new address each time: reset e-mails are limited per address, in a lasting cache.
        data=lambda w: {"email": f"nobody-{uuid.uuid4().hex[:12]}@example.com"},
    ),
    "password_reset_done": Case(
        lambda w: "/accounts/password/reset/sent/", get=everyone(200), post=everyone(405)
    ),
    "password_reset_confirm": Case(
        lambda w: "/accounts/password/reset/MQ/not-a-token/", get=everyone(200), post=everyone(200)
    ),
    "password_reset_complete": Case(
        lambda w: "/accounts/password/reset/complete/", get=everyone(200), post=everyone(405)
    ),
    # Single sign-on: 404 while its provider is not configured (tests/unit/views/test_sso.py
    # and tests/e2e/test_single_sign_on.py cover a configured one).
    **{
        name: Case(lambda w, url=url: url, get=everyone(404), post=everyone(404))
        for name, url in (
            ("openid_connect_login", "/accounts/sso/oidc/oidc/login/"),
            ("openid_connect_callback", "/accounts/sso/oidc/oidc/login/callback/"),
            ("github_login", "/accounts/sso/github/login/"),
            ("github_callback", "/accounts/sso/github/login/callback/"),
            ("gitlab_login", "/accounts/sso/gitlab/login/"),
            ("gitlab_callback", "/accounts/sso/gitlab/login/callback/"),
        )
    },
    "teams": browse(lambda w: "/teams/"),
    "team": browse(lambda w: f"/teams/{w.alpha.slug}/"),
    "team-notifications": Case(
        lambda w: f"/teams/{w.alpha.slug}/notifications/",
        get=signed_in(403, maintainer=200, admin=200),
        post=signed_in(403, **MAINTAINERS),
        data=lambda w: {"email_recipients": "changed@example.com"},
        effect=lambda w: (
            TeamNotificationSettings.objects.get(team=w.alpha).email_recipients
            == "changed@example.com"
        ),
    ),
    # Everyone signed in reads a team's members; its maintainers, managers and admins add
    # (by username or e-mail), change roles and remove (milo, Alpha's plain member).
    "team-members": Case(
        lambda w: f"/teams/{w.alpha.slug}/members/",
        get=signed_in(200),
        post=signed_in(403, **MEMBER_MANAGERS),
        data=lambda w: {"user": "OTTO@example.com", "role": "member"},
        effect=lambda w: Membership.objects.filter(team=w.alpha, user__username="otto").exists(),
    ),
    "team-member-role": Case(
        lambda w: f"/teams/{w.alpha.slug}/members/{_milo(w)}/role/",
        get=signed_in(405),
        post=signed_in(403, **MEMBER_MANAGERS),
        data=lambda w: {"role": "maintainer"},
        effect=lambda w: Membership.objects.get(pk=_milo(w)).role == "maintainer",
    ),
    "team-member-remove": Case(
        lambda w: f"/teams/{w.alpha.slug}/members/{_milo(w)}/remove/",
        get=signed_in(405),
        post=signed_in(403, **MEMBER_MANAGERS),
        effect=lambda w: (
            not Membership.objects.filter(team=w.alpha, user__username="milo").exists()
        ),
    ),
    # Every signed-in user sees the weekly digests they may turn on (none for most); the
    # organisation's is for managers: the others are refused with the reason (403).
    "digest": Case(
        lambda w: "/digest/",
        get=signed_in(200),
        post=signed_in(403, **MANAGERS),
        data=lambda w: {"scope": "org", "enabled": "on"},
        effect=lambda w: DigestSubscription.objects.filter(team=None, enabled=True).exists(),
    ),
    # A team's digest, previewed by those who may receive it: its maintainers (and admins).
    "digest-preview": Case(
        lambda w: f"/digest/preview/?scope={w.alpha.slug}",
        get=signed_in(403, maintainer=200, admin=200),
        post=signed_in(405),
    ),
    "initiatives": browse(lambda w: "/initiatives/"),
    "initiative-new": Case(
        lambda w: "/initiatives/new/",
        get=signed_in(403, manager=200, admin=200),
        post=signed_in(403, **MANAGERS),
        data=lambda w: {
            "name": "Everyone at Bronze",
            "goal": "level",
            "target_level": "bronze",
            "teams": [w.alpha.pk, w.beta.pk],
            "start_date": _today(),
            "target_date": _today(30),
        },
        effect=lambda w: Initiative.objects.filter(name="Everyone at Bronze").exists(),
    ),
    "initiative": browse(lambda w: f"/initiatives/{w.initiative.pk}/"),
    "initiative-close": Case(
        lambda w: f"/initiatives/{w.initiative.pk}/close/",
        get=signed_in(405),
        post=signed_in(403, **MANAGERS),
        effect=lambda w: _fresh(Initiative, w.initiative.pk).closed_at is not None,
    ),
    "export-initiative": browse(lambda w: f"/initiatives/{w.initiative.pk}/status.csv"),
    "export-initiatives": browse(lambda w: "/exports/initiatives.csv"),
    "ratchet-add": maintainers_act(
        _repo("ratchets/"),
        data=lambda w: {"ratchet-rule": w.ratchet_rule.pk},
        effect=lambda w: Ratchet.objects.filter(repository=w.repo, rule=w.ratchet_rule).exists(),
    ),
    "ratchet-release": maintainers_act(
        lambda w: f"/repositories/{w.repo.pk}/ratchets/{w.ratchet.pk}/release/",
        effect=lambda w: _fresh(Ratchet, w.ratchet.pk) is None,
    ),
    "repositories": browse(lambda w: "/repositories/"),
    "register": Case(
        lambda w: "/repositories/new/",
        # Beta's maintainer may register, for Beta only: Alpha is not a choice (200, errors).
        get=signed_in(403, outsider=200, maintainer=200, admin=200),
        post=signed_in(403, outsider=200, maintainer=ACTS, admin=ACTS),
        data=lambda w: {
            "team": w.alpha.pk,
            "clone_url": "https://git.example.com/alpha/fresh.git",
            "default_branch": "main",
        },
        effect=lambda w: Repository.objects.filter(name="fresh", team=w.alpha).exists(),
    ),
    "repository": browse(_repo()),
    "scan-now": maintainers_act(
        _repo("scan/"),
        effect=lambda w: Scan.objects.filter(repository=w.repo, status="queued").exists(),
    ),
    "deep-scan": maintainers_act(
        _repo("deep-scan/"),
        data=lambda w: {"enabled": "1"},
        effect=lambda w: _fresh(Repository, w.repo.pk).deep_scan,
    ),
    "project-judge": maintainers_act(
        _repo("project/"),
        data=lambda w: {"folder": "worker"},
        effect=lambda w: _fresh(Repository, w.repo.pk).project_dir == "worker",
    ),
    # Alpha's clone URL holds a credential: only Alpha's maintainers (and admins) may copy
    # it into a row of their own; Beta's maintainer is refused for Beta too (test_sibling_rows).
    "project-register": maintainers_act(
        _repo("project/register/"),
        data=lambda w: {"folder": "worker", "team": w.alpha.pk},
        effect=lambda w: Repository.objects.filter(
            url_key=w.repo.url_key, project_dir="worker", team=w.alpha
        ).exists(),
    ),
    "repository-settings": Case(
        _repo("settings/"),
        get=signed_in(403, maintainer=200, manager=200, admin=200),
        post=signed_in(403, **EDITORS),
        data=lambda w: {"name": "renamed", "default_branch": "main", "project_dir": ""},
        effect=lambda w: _fresh(Repository, w.repo.pk).name == "renamed",
    ),
    "repository-archive": editors_act(
        _repo("archive/"), effect=lambda w: not _fresh(Repository, w.repo.pk).active
    ),
    # The repository is active: an allowed restore changes nothing (test_repository_settings
    # restores an archived one for each role).
    "repository-restore": editors_act(
        _repo("restore/"), effect=lambda w: _fresh(Repository, w.repo.pk).active
    ),
    # Alpha's maintainer proposes (Beta consents later); managers and admins move it at once.
    "repository-transfer": editors_act(
        _repo("transfer/"),
        data=lambda w: {"to_team": w.beta.pk},
        effect=lambda w: (
            RepositoryTransfer.objects.filter(repository=w.repo).exists()
            or _fresh(Repository, w.repo.pk).team_id == w.beta.pk
        ),
    ),
    "transfer-accept": editors_act(
        lambda w: f"/transfers/{w.transfer.pk if w.transfer else 0}/accept/",
        effect=lambda w: _fresh(Repository, w.beta_repo.pk).team_id == w.alpha.pk,
        roles=RECEIVERS,
    ),
    "transfer-decline": editors_act(
        lambda w: f"/transfers/{w.transfer.pk if w.transfer else 0}/decline/",
        effect=lambda w: _transfer_status(w) == "declined",
        roles=RECEIVERS,
    ),
    "transfer-cancel": editors_act(
        lambda w: f"/transfers/{w.transfer.pk if w.transfer else 0}/cancel/",
        effect=lambda w: _transfer_status(w) == "cancelled",
        roles=PROPOSERS,
    ),
    # Maintainers request a waiver, managers and admins grant one directly.
    "waiver-add": Case(
        _repo("waivers/"),
        get=signed_in(405),
        post=signed_in(403, maintainer=ACTS, manager=ACTS, admin=ACTS),
        data=lambda w: {
            "rule": w.waive_rule.pk,
            "reason": "waived for the matrix",
            "expires_on": _today(10),
        },
        effect=lambda w: (
            Waiver.objects.filter(repository=w.repo, rule=w.waive_rule).exists()
            or WaiverRequest.objects.filter(repository=w.repo, rule=w.waive_rule).exists()
        ),
    ),
    "waiver-requests": browse(lambda w: "/waivers/requests/"),
    # Managers and admins decide; the requester (Alpha's maintainer) never does.
    "waiver-request-approve": Case(
        lambda w: f"/waivers/requests/{w.waiver_request.pk}/approve/",
        get=signed_in(405),
        post=signed_in(403, manager=ACTS, admin=ACTS),
        effect=lambda w: _fresh(WaiverRequest, w.waiver_request.pk).status == "approved",
    ),
    "waiver-request-reject": Case(
        lambda w: f"/waivers/requests/{w.waiver_request.pk}/reject/",
        get=signed_in(405),
        post=signed_in(403, manager=ACTS, admin=ACTS),
        data=lambda w: {"reason": "split it up first, then ask again"},
        effect=lambda w: _fresh(WaiverRequest, w.waiver_request.pk).status == "rejected",
    ),
    "waiver-request-withdraw": Case(
        lambda w: f"/waivers/requests/{w.waiver_request.pk}/withdraw/",
        get=signed_in(405),
        post=signed_in(403, maintainer=ACTS),
        effect=lambda w: _fresh(WaiverRequest, w.waiver_request.pk).status == "withdrawn",
    ),
    "waiver-revoke": maintainers_act(
        lambda w: f"/repositories/{w.repo.pk}/waivers/{w.waiver.pk}/revoke/",
        effect=lambda w: _fresh(Waiver, w.waiver.pk).revoked_at is not None,
    ),
    "attestation-add": maintainers_act(
        _repo("attestations/"),
        data=lambda w: {
            "att-rule": w.attest_rule.pk,
            "att-evidence_url": "https://wiki.example.com/matrix",
            "att-days": 30,
        },
        effect=lambda w: Attestation.objects.filter(repository=w.repo, rule=w.attest_rule).exists(),
    ),
    "attestation-revoke": maintainers_act(
        lambda w: f"/repositories/{w.repo.pk}/attestations/{w.attestation.pk}/revoke/",
        effect=lambda w: _fresh(Attestation, w.attestation.pk).revoked_at is not None,
    ),
    "rules": browse(lambda w: "/rules/"),
    "rule": browse(lambda w: "/rules/DEP-002/"),
    "scan": browse(lambda w: f"/scans/{w.scan.pk}/"),
    "review": browse(lambda w: f"/repositories/{w.repo.pk}/reviews/{ReviewScan.objects.get().pk}/"),
    "audit": Case(lambda w: "/audit/", get=signed_in(403, admin=200), post=signed_in(405)),
    "export-audit": Case(
        lambda w: "/exports/audit.csv", get=signed_in(403, admin=200), post=signed_in(405)
    ),
    "health": Case(lambda w: "/health", get=everyone(200), post=everyone(405)),
    "health-ready": Case(lambda w: "/health/ready", get=everyone(200), post=everyone(405)),
    "metrics": Case(lambda w: "/metrics", get=everyone(200), post=everyone(405)),
    "webhook-github": webhook(lambda w: "/webhooks/github/"),
    "webhook-gitlab": webhook(lambda w: "/webhooks/gitlab/"),
    "webhook-gitea": webhook(lambda w: "/webhooks/gitea/"),
    "webhook-generic": webhook(lambda w: f"/webhooks/generic/{w.repo.pk}/"),
    "waivers": browse(lambda w: "/waivers/"),
    "attestations": browse(lambda w: "/attestations/"),
    "exports": browse(lambda w: "/exports/"),
    "export-waivers": browse(lambda w: "/exports/waivers.csv"),
    "export-attestations": browse(lambda w: "/exports/attestations.csv"),
    "export-organisation": browse(lambda w: "/exports/organisation.csv"),
    "export-team": browse(lambda w: f"/exports/teams/{w.alpha.slug}.csv"),
    "export-results": browse(lambda w: "/exports/results.csv"),
    "export-history": browse(lambda w: "/exports/history.csv"),
    "export-rule": browse(lambda w: "/exports/rules/DEP-002.csv"),
    "api-docs": browse(lambda w: "/api/"),  # the API reference, generated from its schema
    # Everyone's own tokens: any signed-in user may create a (read) token for themselves.
    "tokens": Case(
        lambda w: "/tokens/",
        get=signed_in(200),
        post=signed_in(ACTS),
        data=lambda w: {"name": "matrix", "scope": "read", "team": "", "days": 30},
        effect=lambda w: ApiToken.objects.filter(name="matrix").exists(),
    ),
    # Only the owner revokes (Maya's token): anyone else's is not found, admins included.
    "token-revoke": Case(
        lambda w: f"/tokens/{w.own_token.pk}/revoke/",  # type: ignore[union-attr]
        get=signed_in(405),
        post=signed_in(404, maintainer=ACTS),
        effect=lambda w: _fresh(ApiToken, w.own_token.pk).revoked_at is not None,  # type: ignore[union-attr]
    ),
    # Public: shields for READMEs (scores only, nothing else of the repository).
    "badge-repository": Case(
        lambda w: f"/badges/{w.repo.pk}.svg", get=everyone(200), post=everyone(405)
    ),
    "badge-team": Case(
        lambda w: f"/badges/teams/{w.alpha.slug}.svg", get=everyone(200), post=everyone(405)
    ),
}


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str | None = None
) -> Iterator[tuple[str | None, str | None, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(
                pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace
            )
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern.name, prefix + str(pattern.pattern)


def url_patterns(namespace: str | None) -> list[tuple[str | None, str]]:
    """(name, route) of every pattern in `namespace` (None: the project's own views)."""
    return [
        (name, route) for ns, name, route in _walk(get_resolver().url_patterns) if ns == namespace
    ]


def test_every_url_pattern_has_an_entry() -> None:
    own = {name or route for name, route in url_patterns(None)}
    assert own == set(CASES), (
        f"missing from the matrix: {sorted(own - set(CASES))}; "
        f"stale entries: {sorted(set(CASES) - own)}"
    )
    namespaces = {ns for ns, _, _ in _walk(get_resolver().url_patterns)}
    assert namespaces == {None, "admin", "api"}, "a new URL namespace needs its own matrix"
    api_routes = {_openapi_path(route) for name, route in url_patterns("api")}
    schema_paths = set(api.get_openapi_schema()["paths"])
    assert api_routes == schema_paths | {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/"}
    operations = {  # every method of every path: a new operation needs an API_CASES entry
        (path, method.upper())
        for path, methods in api.get_openapi_schema()["paths"].items()
        for method in methods
    }
    missing, stale = operations - set(API_CASES), set(API_CASES) - operations
    assert not missing, f"API operations missing from API_CASES: {sorted(missing)}"
    assert not stale, f"stale API_CASES entries: {sorted(stale)}"


def check(
    response: Any, expect: Expect, world: World, effect: Callable[[World], bool] | None
) -> str | None:
    """Why the response breaks the expectation, or None."""
    status = response.status_code
    location = response.get("Location", "")
    if expect == LOGIN:
        ok = status == 302 and location.startswith("/accounts/login/")
    elif expect == ACTS:
        ok = status in {200, 302} and "/login/" not in location
        if ok and effect is not None and not effect(world):
            return "allowed, but the write did not happen"
    else:
        ok = status == expect
    return None if ok else f"expected {expect}, got {status} {location}".strip()


def run_case(case: Case, world: World, role: str, method: str) -> list[str]:
    """One request in a savepoint that is rolled back, so roles never see each other's writes."""
    expect = (case.get if method == "GET" else case.post)[role]
    problems: list[str] = []
    with transaction.atomic():
        before = snapshot(case.records) if method != "GET" else None
        client = client_for(role, world)
        url = case.url(world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.generic(
                method,
                url,
                data=_encode(case.data(world)),
                content_type="application/x-www-form-urlencoded",
            )
        body = body_of(response)
        if why := check(response, expect, world, case.effect):
            problems.append(f"{role} {method} {url}: {why}")
        if secrets_found := leaked(body, world):
            problems.append(f"{role} {method} {url}: leaks {secrets_found}")
        if before is not None and expect != ACTS and snapshot(case.records) != before:
            problems.append(f"{role} {method} {url}: refused, yet the database changed")
        transaction.set_rollback(True)
    return problems


def _encode(data: Mapping[str, Any]) -> str:
    return urlencode(data, doseq=True)


@pytest.mark.parametrize("name", sorted(CASES))
def test_html_route(name: str, world: World) -> None:
    case = CASES[name]
    problems = [
        problem
        for role in ROLES
        for method in ("GET", "POST")
        for problem in run_case(case, world, role, method)
    ]
    assert not problems, "\n".join(problems)


OTHER_UNSAFE = ("PUT", "PATCH", "DELETE")
REFUSED = {302, 401, 403, 404, 405}
# Django's sign-in view treats PUT as POST: an empty form, nobody signed in (200).
OTHER_METHODS_ANSWER = {
    "login": {200},
    "favicon.ico": {301},
    "password_reset": {200},  # as the sign-in form: PUT is a POST of an empty form
    "password_reset_confirm": {200},  # a bad link says so, whatever the method
}


def test_other_unsafe_methods_change_nothing(world: World) -> None:
    """PUT, PATCH and DELETE on every route: never allowed, never a change, never a 5xx."""
    problems = []
    before = snapshot()
    for name, case in sorted(CASES.items()):
        for role in ("anonymous", "member", "maintainer"):
            client = client_for(role, world)
            for method in OTHER_UNSAFE:
                status = client.generic(method, case.url(world)).status_code
                if status not in REFUSED | OTHER_METHODS_ANSWER.get(name, set()):
                    problems.append(f"{name} {role} {method}: {status}")
    assert not problems, "\n".join(problems)
    assert snapshot() == before


def test_outsiders_cannot_reach_another_teams_objects_through_their_own_repository(
    world: World,
) -> None:
    """Beta's maintainer revoking Beta's waiver through Alpha's URL (or Alpha's through
    Beta's): 404, nothing changed; ids do not cross repositories."""
    cases = [
        (
            world.users["outsider"],
            f"/repositories/{world.beta_repo.pk}/waivers/{world.waiver.pk}/revoke/",
        ),
        (
            world.users["maintainer"],
            f"/repositories/{world.repo.pk}/waivers/{world.beta_waiver.pk}/revoke/",
        ),
        (
            world.users["outsider"],
            f"/repositories/{world.beta_repo.pk}/ratchets/{world.ratchet.pk}/release/",
        ),
        (
            world.users["outsider"],
            f"/repositories/{world.beta_repo.pk}/attestations/{world.attestation.pk}/revoke/",
        ),
    ]
    for user, url in cases:
        before = snapshot()
        client = Client()
        client.force_login(user)
        assert client.post(url).status_code == 404, url
        assert snapshot() == before, url


def test_a_password_in_a_clone_url_is_never_shown_nor_searchable(world: World) -> None:
    """Found by the matrix: pages, the API and the team export showed clone URLs as stored,
    and the repository search matched inside them (a way to guess a password letter by
    letter). They now show `https://ci-bot:***@…` and search the credential-free url_key."""
    client = client_for("outsider", world)
    password = world.credentials[0]
    page = client.get(f"/repositories/{world.repo.pk}/").content.decode()
    assert "https://ci-bot:***@git.example.com/alpha/alpha-service.git" in page
    assert password not in page
    export = body_of(client.get("/exports/teams/alpha.csv")).decode()
    assert "ci-bot:***@" in export
    assert password not in export
    api_body = client.get(f"/api/v1/repositories/{world.repo.pk}").json()
    assert api_body["clone_url"] == "https://ci-bot:***@git.example.com/alpha/alpha-service.git"
    for query in (password[:8], "ci-bot:glpat", "glpat"):
        table = client.get(f"/repositories/?q={query}", headers={"HX-Request": "true"})
        assert "alpha-service" not in table.content.decode(), query
    assert "alpha-service" in client.get("/repositories/?q=alpha-serv").content.decode()


WRITES = sorted(name for name, case in CASES.items() if ACTS in case.post.values())


@pytest.mark.parametrize("name", WRITES)
def test_html_writes_need_the_csrf_token(name: str, world: World) -> None:
    """Every form action of the pages, by a user allowed to do it: refused (403, nothing
    changed) without the CSRF token or with a forged one; done with the page's token, sent
    the way htmx sends it (the X-CSRFToken header from `hx-headers`)."""
    case = CASES[name]
    role = "maintainer" if case.post["maintainer"] == ACTS else "manager"
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[role])
    url, data = case.url(world), case.data(world)
    before = snapshot()
    missing = client.post(url, data)
    assert missing.status_code == 403
    assert b"CSRF" in missing.content
    client.cookies["csrftoken"] = "a" * 32
    forged = client.post(url, {**data, "csrfmiddlewaretoken": "b" * 32})
    assert forged.status_code == 403
    assert snapshot() == before
    page = client.get("/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token, "every page hands htmx the token"
    done = client.post(url, data, headers={"X-CSRFToken": token.group(1)})
    assert check(done, ACTS, world, case.effect) is None


def test_sign_in_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "maya", "password": "x"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# ----- the Django admin -------------------------------------------------------------------
ADMIN_KWARGS = {
    "id": "1",
    "object_id": "1",
    "content_type_id": "1",
    "app_label": "dashboard",
    "url": "nowhere/",
}


def _admin_url(name: str | None, route: str) -> str:
    if name is None:  # the catch-all
        return "/admin/nowhere/"
    keys = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
    kwargs = {a or b: ADMIN_KWARGS[a or b] for a, b in keys}
    return reverse(f"admin:{name}", kwargs=kwargs)


def _refused_by_admin(name: str | None, response: Any) -> bool:
    status, location = response.status_code, response.get("Location", "")
    if name == "login":  # the admin's sign-in form itself (non-staff: "not authorised")
        return status == 200
    if name == "logout":
        return status in {200, 302, 405}
    return status == 302 and location.startswith("/admin/login/")


@pytest.mark.slow
def test_admin_is_for_staff_only(world: World) -> None:
    """Every admin URL: anonymous and non-staff users (maintainers and managers included) are
    sent to the admin's sign-in for GET and POST, see no secret and change nothing."""
    problems = []
    patterns = url_patterns("admin")
    assert len(patterns) > 100  # every registered model's pages
    before = snapshot()
    for role in ("anonymous", "member", "maintainer", "manager"):
        client = client_for(role, world)
        for name, route in patterns:
            url = _admin_url(name, route)
            for method in ("GET", "POST"):
                response = client.generic(method, url)
                if not _refused_by_admin(name, response):
                    problems.append(f"{role} {method} {url}: {response.status_code}")
                if found := leaked(body_of(response), world):
                    problems.append(f"{role} {method} {url}: leaks {found}")
    assert not problems, "\n".join(problems)
    assert snapshot() == before


def test_admin_pages_answer_admins_without_secrets(world: World) -> None:
    """An administrator gets every admin page (or a redirect within the admin), no 5xx, and
    no secret: webhook secrets, Slack URLs and tokens (nor their hashes) are never shown."""
    problems = []
    admin = client_for("admin", world)
    for name, route in url_patterns("admin"):
        if name == "logout":
            continue
        url = _admin_url(name, route)
        response = admin.get(url)
        if response.status_code >= 500 or "/login/" in response.get("Location", ""):
            problems.append(f"GET {url}: {response.status_code}")
        if found := leaked(
            body_of(response), world, admin_form=name == "dashboard_repository_change"
        ):
            problems.append(f"GET {url}: leaks {found}")
    for model, pk in (
        ("repository", world.repo.pk),
        ("apitoken", ApiToken.objects.filter(team=world.alpha).values_list("pk", flat=True)[0]),
        ("teamnotificationsettings", TeamNotificationSettings.objects.get(team=world.alpha).pk),
        ("waiver", world.waiver.pk),
    ):
        response = admin.get(f"/admin/dashboard/{model}/{pk}/change/")
        if response.status_code != 200:
            problems.append(f"{model} {pk}: {response.status_code}")
        if found := leaked(body_of(response), world, admin_form=model == "repository"):
            problems.append(f"{model} {pk}: leaks {found}")
    assert not problems, "\n".join(problems)


# ----- the JSON API, operation by operation from the OpenAPI schema -----------------------
API_PERSONAS = (
    "anonymous",
    "bogus-token",
    "alpha-revoked-write",
    "alpha-expired-write",
    "alpha-read",
    "beta-write",
    "alpha-write",
    "maya-write",
    "otto-write",
    "session-outsider",
    "session-member",
    "session-maintainer",
    "session-manager",
    "session-admin",
)
READ = dict.fromkeys(API_PERSONAS, 200) | {
    "anonymous": 401,
    "bogus-token": 401,
    "alpha-revoked-write": 401,
    "alpha-expired-write": 401,
}
WRITE = (
    READ
    | dict.fromkeys(
        (
            "alpha-read",
            "beta-write",
            "otto-write",
            "session-outsider",
            "session-member",
            "session-manager",
        ),
        403,
    )
    | {"alpha-write": ACTS, "maya-write": ACTS, "session-maintainer": ACTS, "session-admin": ACTS}
)


@dataclass(frozen=True)
class ApiCase:
    """One operation: its URL, its request, who may call it and what an allowed call does."""

    url: Callable[[World], str]
    expect: Mapping[str, Expect]
    body: Callable[[World], bytes] = lambda w: b""
    content_type: str = "application/json"
    ok_status: int = 200
    effect: Callable[[World], bool] | None = None


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _json(data: object) -> Callable[[World], bytes]:
    return lambda w: json.dumps(data).encode()


API_CASES: dict[tuple[str, str], ApiCase] = {
    ("/api/v1/teams", "GET"): ApiCase(lambda w: "/api/v1/teams", READ),
    ("/api/v1/teams/{slug}", "GET"): ApiCase(lambda w: "/api/v1/teams/alpha", READ),
    ("/api/v1/rules", "GET"): ApiCase(lambda w: "/api/v1/rules", READ),
    ("/api/v1/rules/{rule_id}", "GET"): ApiCase(lambda w: "/api/v1/rules/DEP-002", READ),
    ("/api/v1/repositories", "GET"): ApiCase(lambda w: "/api/v1/repositories", READ),
    ("/api/v1/repositories", "POST"): ApiCase(
        lambda w: "/api/v1/repositories",
        WRITE,
        body=_json({"team": "alpha", "clone_url": "https://git.example.com/alpha/api-new.git"}),
        ok_status=201,
        effect=lambda w: Repository.objects.filter(name="api-new").exists(),
    ),
    ("/api/v1/repositories/{repository_id}", "GET"): ApiCase(
        lambda w: f"/api/v1/repositories/{w.repo.pk}", READ
    ),
    ("/api/v1/repositories/{repository_id}/scans", "POST"): ApiCase(
        lambda w: f"/api/v1/repositories/{w.repo.pk}/scans",
        WRITE,
        body=_json({"ref": "main"}),
        ok_status=202,
        effect=lambda w: Scan.objects.filter(repository=w.repo, status="queued").exists(),
    ),
    # Uploads: an allowed caller gets past the permission check to the body's validation
    # (422 for this empty report): the permission is what the matrix is about.
    ("/api/v1/repositories/{repository_id}/reports", "POST"): ApiCase(
        lambda w: f"/api/v1/repositories/{w.repo.pk}/reports",
        WRITE,
        body=_json({}),
        ok_status=422,
    ),
    ("/api/v1/repositories/{repository_id}/coverage", "POST"): ApiCase(
        lambda w: f"/api/v1/repositories/{w.repo.pk}/coverage?commit={'a' * 40}",
        WRITE,
        body=lambda w: b"<coverage/>",
        content_type="application/xml",
        ok_status=422,
    ),
    ("/api/v1/scans", "GET"): ApiCase(lambda w: "/api/v1/scans", READ),
    ("/api/v1/scans/{scan_id}", "GET"): ApiCase(lambda w: f"/api/v1/scans/{w.scan.pk}", READ),
    ("/api/v1/results", "GET"): ApiCase(lambda w: "/api/v1/results", READ),
}


def api_client(persona: str, world: World) -> Client:
    """A caller of the API: a token (CSRF enforced, as for any script) or a browser session."""
    if persona.startswith("session-"):
        return client_for(persona.removeprefix("session-"), world)
    client = Client(enforce_csrf_checks=True)
    if persona == "bogus-token":
        client.defaults["HTTP_AUTHORIZATION"] = "Bearer ys_not-a-real-token"
    elif persona != "anonymous":
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[persona]}"
    return client


def api_problem(case: ApiCase, persona: str, response: Any, world: World) -> str | None:
    """Why an API answer breaks the matrix, or None."""
    expect, status = case.expect[persona], response.status_code
    got = f"got {status} {response.content[:200]!r}"
    if expect == ACTS:
        if status != case.ok_status:
            return f"expected {case.ok_status}, {got}"
        if case.effect is not None and not case.effect(world):
            return f"{status}, but the write did not happen"
        return None
    if status != expect:
        return f"expected {expect}, {got}"
    if status in {401, 403}:
        code = response.json().get("code")
        if code != {401: "unauthenticated", 403: "forbidden"}[status]:
            return f"error code {code}"
    return None


@pytest.mark.parametrize("operation", sorted(API_CASES), ids=lambda op: f"{op[1]} {op[0]}")
def test_api_operation(operation: tuple[str, str], world: World) -> None:
    case, method = API_CASES[operation], operation[1]
    problems = []
    for persona in API_PERSONAS:
        with transaction.atomic():
            before = snapshot() if method != "GET" else None
            client, url = api_client(persona, world), case.url(world)
            if method == "GET":
                response = client.get(url)
            else:
                body = case.body(world)
                response = client.generic(method, url, body, content_type=case.content_type)
            if why := api_problem(case, persona, response, world):
                problems.append(f"{persona}: {why}")
            if before is not None and case.expect[persona] != ACTS and snapshot() != before:
                problems.append(f"{persona}: refused, yet the database changed")
            if found := leaked(response.content, world):
                problems.append(f"{persona}: leaks {found}")
            transaction.set_rollback(True)
    assert not problems, "\n".join(problems)


def test_api_docs_and_root_are_not_served_in_production(world: World) -> None:
    """The Swagger page (a CDN script the CSP forbids) and ninja's root are development only;
    the OpenAPI document is for the API's callers (a live token or a session), 401 otherwise."""
    for url in ("/api/v1/docs", "/api/v1/"):
        for persona in ("anonymous", "alpha-write", "session-admin"):
            response = api_client(persona, world).get(url)
            assert response.status_code == 404, (url, persona, response.status_code)
    for persona in API_PERSONAS:
        response = api_client(persona, world).get("/api/v1/openapi.json")
        assert response.status_code == READ[persona], (persona, response.status_code)
        assert not leaked(response.content, world), persona

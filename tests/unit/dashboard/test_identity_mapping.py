"""The identity provider's group mapping: the language (parsed, resolved) and its application
at a sign-in (memberships and roles it owns, and only those; every change audited)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User

from dashboard.config import ConfigError, load_config
from dashboard.domain.identity import (
    Grant,
    MappingError,
    email_domain_allowed,
    parse_mapping,
    resolve,
)
from dashboard.models import AuditAction, AuditEvent, Membership
from dashboard.services.access.accounts import ensure_admin
from dashboard.services.access.identity import ADMIN_MARKER, MANAGER_MARKER, apply_groups
from dashboard.services.access.permissions import MANAGERS_GROUP, is_admin, is_manager
from dashboard.services.access.provider_groups import claim_values
from tests.factories import MembershipFactory, TeamFactory, UserFactory

MAPPING = parse_mapping(
    json.dumps(
        {
            "payments-devs": "payments:member",
            "payments-leads": ["payments:maintainer", "search:member"],
            "eng-managers": "manager",
            "yardstick-admins": "admin",
        }
    )
)


# ----- the language ------------------------------------------------------------------------
def test_a_mapping_parses_single_grants_and_lists() -> None:
    assert MAPPING["payments-devs"] == (Grant(role="member", team="payments"),)
    assert MAPPING["payments-leads"] == (
        Grant(role="maintainer", team="payments"),
        Grant(role="member", team="search"),
    )
    assert MAPPING["eng-managers"] == (Grant(role="manager"),)
    assert parse_mapping("") == {}
    assert parse_mapping("  ") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ('["payments:member"]', "a JSON object is expected"),
        ('{"devs": "payments:owner"}', "group 'devs': 'payments:owner' is not a grant"),
        ('{"devs": "payments"}', "is not a grant"),
        ('{"devs": ":member"}', "is not a grant"),
        ('{"devs": "pay ments:member"}', "is not a grant"),
        ('{"devs": "superuser"}', "is not a grant"),
        ('{"devs": 3}', "a grant or a list of grants"),
        ('{"devs": []}', "a grant or a list of grants"),
        ('{"devs": ["payments:member", 1]}', "a grant or a list of grants"),
    ],
)
def test_a_malformed_mapping_is_refused_naming_the_entry(text: str, says: str) -> None:
    with pytest.raises(MappingError, match=says):
        parse_mapping(text)


def test_a_malformed_mapping_stops_start_up_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="SSO_GROUP_MAPPING: group 'devs'"):
        load_config(SSO_GROUP_MAPPING='{"devs": "payments:owner"}')


def test_the_strongest_role_per_team_wins_and_unknown_groups_give_nothing() -> None:
    roles = resolve(MAPPING, ["payments-devs", "payments-leads", "someone-elses-group"])
    assert roles.teams == {"payments": "maintainer", "search": "member"}
    assert (roles.manager, roles.admin) == (False, False)
    assert resolve(MAPPING, ["payments-leads", "payments-devs"]).teams["payments"] == "maintainer"
    assert resolve(MAPPING, []).teams == {}
    org = resolve(MAPPING, ["eng-managers", "yardstick-admins"])
    assert (org.teams, org.manager, org.admin) == ({}, True, True)


@pytest.mark.parametrize(
    ("email", "allowed", "ok"),
    [
        ("ann@acme.example", ["acme.example"], True),
        ("Ann@ACME.example ", ["acme.example"], True),
        ("ann@acme.example", ["@acme.example", "other.example"], True),
        ("ann@sub.acme.example", ["acme.example"], False),  # subdomains are listed explicitly
        ("ann@acme.example.evil", ["acme.example"], False),
        ("ann@evil.example", ["acme.example"], False),
        ("", ["acme.example"], False),
        ("@acme.example", ["acme.example"], False),
        ("ann@evil.example", [], True),  # no list: every address
    ],
)
def test_email_domains(email: str, allowed: list[str], ok: bool) -> None:
    assert email_domain_allowed(email, allowed) is ok


def test_a_group_claim_is_a_list_or_one_name() -> None:
    assert claim_values(["a", "b", 3]) == ["a", "b"]
    assert claim_values("a") == ["a"]
    assert claim_values(None) == []
    assert claim_values({"a": 1}) == []


# ----- applying it at a sign-in ------------------------------------------------------------
pytestmark_db = pytest.mark.django_db


def _user() -> User:
    return UserFactory(username="nina")


def _memberships(user: User) -> dict[str, tuple[str, str]]:
    return {m.team.slug: (m.role, m.source) for m in Membership.objects.filter(user=user)}


IDP = Membership.Source.IDENTITY_PROVIDER
MANUAL = Membership.Source.MANUAL


@pytestmark_db
def test_groups_add_change_and_remove_the_memberships_the_mapping_owns() -> None:
    TeamFactory(slug="payments", name="Payments")
    TeamFactory(slug="search", name="Search")
    user = _user()

    apply_groups(user, ["payments-devs"], MAPPING, provider="oidc")
    assert _memberships(user) == {"payments": ("member", IDP)}

    apply_groups(user, ["payments-leads"], MAPPING, provider="oidc")
    assert _memberships(user) == {"payments": ("maintainer", IDP), "search": ("member", IDP)}

    apply_groups(user, [], MAPPING, provider="oidc")
    assert _memberships(user) == {}
    actions = list(
        AuditEvent.objects.order_by("id").values_list("action", "actor_label", "details__role")
    )
    who = "identity provider (oidc)"
    assert actions == [
        (AuditAction.MEMBERSHIP_ADDED, who, "member"),
        (AuditAction.MEMBERSHIP_CHANGED, who, None),
        (AuditAction.MEMBERSHIP_ADDED, who, "member"),
        (AuditAction.MEMBERSHIP_REMOVED, who, "maintainer"),
        (AuditAction.MEMBERSHIP_REMOVED, who, "member"),
    ]
    changed = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_CHANGED)
    assert changed.details["changed"] == {"role": ["member", "maintainer"]}
    assert changed.details["source"] == "idp"


@pytestmark_db
def test_a_membership_added_by_hand_is_never_touched() -> None:
    payments = TeamFactory(slug="payments", name="Payments")
    user = _user()
    MembershipFactory(user=user, team=payments, role=Membership.Role.MEMBER)

    apply_groups(user, ["payments-leads"], MAPPING, provider="oidc")  # would be maintainer
    assert _memberships(user)["payments"] == ("member", MANUAL)
    apply_groups(user, [], MAPPING, provider="oidc")  # would be removed
    assert _memberships(user)["payments"] == ("member", MANUAL)
    assert not AuditEvent.objects.filter(target_type="membership").exists()


@pytestmark_db
def test_a_team_the_mapping_names_but_yardstick_lacks_is_skipped_not_created() -> None:
    user = _user()
    outcome = apply_groups(user, ["payments-leads"], MAPPING, provider="oidc")
    assert outcome.unknown_teams == ["payments", "search"]
    assert _memberships(user) == {}


@pytestmark_db
def test_an_unchanged_sign_in_writes_nothing() -> None:
    TeamFactory(slug="payments", name="Payments")
    user = _user()
    apply_groups(user, ["payments-devs", "eng-managers"], MAPPING, provider="oidc")
    before = AuditEvent.objects.count()
    outcome = apply_groups(user, ["payments-devs", "eng-managers"], MAPPING, provider="oidc")
    assert (outcome.teams, outcome.privileges) == ({}, {})
    assert AuditEvent.objects.count() == before


@pytestmark_db
def test_the_mapping_grants_and_takes_back_the_manager_role_it_granted() -> None:
    user = _user()
    apply_groups(user, ["eng-managers"], MAPPING, provider="github")
    assert is_manager(user)
    assert set(user.groups.values_list("name", flat=True)) == {MANAGERS_GROUP, MANAGER_MARKER}

    apply_groups(user, [], MAPPING, provider="github")
    user = User.objects.get(pk=user.pk)
    assert not is_manager(user)
    event = AuditEvent.objects.filter(action=AuditAction.USER_ROLES_CHANGED).latest("id")
    assert event.details["changed"]["groups"] == [sorted([MANAGERS_GROUP, MANAGER_MARKER]), []]
    assert event.actor_label == "identity provider (github)"


@pytestmark_db
def test_a_manager_made_by_hand_stays_a_manager() -> None:
    user = _user()
    user.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])
    apply_groups(user, ["eng-managers"], MAPPING, provider="oidc")  # no marker added
    apply_groups(user, [], MAPPING, provider="oidc")
    assert is_manager(user)
    assert not user.groups.filter(name=MANAGER_MARKER).exists()


@pytestmark_db
def test_the_mapping_grants_and_takes_back_admin_it_granted() -> None:
    user = _user()
    apply_groups(user, ["yardstick-admins"], MAPPING, provider="oidc")
    user = User.objects.get(pk=user.pk)
    assert is_admin(user)
    assert user.is_staff
    assert user.groups.filter(name=ADMIN_MARKER).exists()

    apply_groups(user, ["payments-devs"], MAPPING, provider="oidc")
    user = User.objects.get(pk=user.pk)
    assert not is_admin(user)
    assert not user.is_staff
    assert not user.groups.filter(name=ADMIN_MARKER).exists()


@pytestmark_db
def test_the_first_admin_is_never_demoted_by_a_sign_in() -> None:
    assert ensure_admin("root")
    root = User.objects.get(username="root")
    apply_groups(root, ["yardstick-admins"], MAPPING, provider="oidc")
    apply_groups(root, [], MAPPING, provider="oidc")
    root = User.objects.get(pk=root.pk)
    assert is_admin(root)
    assert not root.groups.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.USER_ROLES_CHANGED).exists()

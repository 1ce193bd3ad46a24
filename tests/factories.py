"""factory-boy factories for the dashboard's models."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from dashboard import models
from dashboard.services.access import secrets


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class TeamFactory(factory.django.DjangoModelFactory[models.Team]):
    class Meta:
        model = models.Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory[models.Membership]):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = models.Membership.Role.MEMBER


class RepositoryFactory(factory.django.DjangoModelFactory[models.Repository]):
    class Meta:
        model = models.Repository

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"service-{n}")
    clone_url = factory.LazyAttribute(lambda r: f"https://git.example.com/org/{r.name}.git")
    url_key = factory.LazyAttribute(lambda r: f"git.example.com/org/{r.name}")
    webhook_secret_encrypted = factory.LazyFunction(lambda: secrets.encrypt("s3cret-webhook"))


class ScanFactory(factory.django.DjangoModelFactory[models.Scan]):
    class Meta:
        model = models.Scan

    repository = factory.SubFactory(RepositoryFactory)
    status = models.Scan.Status.SUCCEEDED
    commit_sha = factory.Sequence(lambda n: f"{n:040x}")
    finished_at = factory.LazyFunction(timezone.now)


class WaiverFactory(factory.django.DjangoModelFactory[models.Waiver]):
    class Meta:
        model = models.Waiver

    repository = factory.SubFactory(RepositoryFactory)
    reason = "Legacy service, migration planned for next quarter."
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class AttestationFactory(factory.django.DjangoModelFactory[models.Attestation]):
    class Meta:
        model = models.Attestation

    repository = factory.SubFactory(RepositoryFactory)
    evidence_url = "https://wiki.example.com/runbooks/alerts"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=90))

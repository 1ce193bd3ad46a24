"""Pull/merge request reviews end to end: a signed event, a review scan of the head against
the base branch's latest scan, and the status and comment posted to a fake code host."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dashboard.domain.clone_urls import url_key
from dashboard.models import CodeHostConnection, Repository, ReviewScan, Scan
from dashboard.services.access import secrets
from dashboard.services.reviews import review as reviews
from dashboard.services.reviews.hosts import MARKER
from dashboard.services.scans import pipeline as scanning
from scanners.repo_url import RepositoryError
from scanners.workspace import Workspace
from tests.factories import RepositoryFactory
from tests.fakehost import TOKEN, FakeHost, fake_host
from tests.gitrepo import commit_all, git, golden_files, golden_repo, write_files
from tests.webhooks import ENDPOINTS, SAMPLE_CLONE_URLS, body_of, payload, signed_headers

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook"  # what RepositoryFactory stores
PROVIDERS = ("github", "gitlab", "gitea")
SAMPLES = {
    "github": ("github-pull_request", "pull_request"),
    "gitlab": ("gitlab-merge_request", "Merge Request Hook"),
    "gitea": ("gitea-pull_request", "pull_request"),
}
ROUTE = "src/api/routes/notes.py"
ANCHOR = "from src.schemas.common import ErrorResponse\n"  # sorted imports: STY-001 stays quiet
VIOLATION = "from src.repositories import note_repository  # noqa: F401\n"  # route -> repository
NOTES = str(golden_files()[ROUTE])
BAD_NOTES = NOTES.replace(ANCHOR, VIOLATION + ANCHOR, 1)
BAD_LINE = BAD_NOTES.splitlines().index(VIOLATION.strip()) + 1


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9")


@pytest.fixture(params=PROVIDERS)
def host(request: pytest.FixtureRequest) -> Any:
    with fake_host(request.param) as running:
        yield running


def _repository(host: FakeHost, source: Path, **fields: Any) -> Repository:
    """A repository cloned from `source`, known to the webhooks by the sample's URL."""
    connection = CodeHostConnection.objects.create(
        name=f"{host.provider} host",
        provider=host.provider,
        api_base_url=host.api_base_url,
        token_encrypted=secrets.encrypt(TOKEN),
    )
    sample = SAMPLE_CLONE_URLS[host.provider]
    fields.setdefault("pr_gate", True)
    return RepositoryFactory(
        name=source.name,
        clone_url=str(source),
        url_key=url_key(sample),
        code_host=connection,
        **fields,
    )


def _scan_main(repository: Repository) -> Scan:
    """The base branch scanned through the real pipeline."""
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    assert scanning.run_scan(scan.pk, "w").status == "succeeded"
    scan.refresh_from_db()
    return scan


def _branch(source: Path, name: str, files: dict[str, str | None]) -> str:
    """Commit `files` on a new branch `name` off main; main stays checked out."""
    git(source, "checkout", "-q", "-b", name, "main")
    write_files(source, files)
    sha = commit_all(source, f"feat: {name}")
    git(source, "checkout", "-q", "main")
    return sha


def _event(host: FakeHost, head: str, *, action: str = "opened", number: int = 42) -> Any:
    """The provider's pull/merge request payload for `head`."""
    sample, _ = SAMPLES[host.provider]
    data = payload(sample)
    if host.provider == "gitlab":
        attributes = data["object_attributes"]
        attributes["iid"], attributes["last_commit"]["id"] = number, head
        attributes["action"] = "update" if action == "synchronize" else action.removesuffix("ed")
        if action == "synchronize":
            attributes["oldrev"] = "0" * 39 + "1"
    else:
        data["action"] = (
            "synchronized" if action == "synchronize" and host.provider == "gitea" else action
        )
        data["number"] = number
        data["pull_request"]["head"]["sha"] = head
    return data


def _deliver(client: Client, host: FakeHost, data: Any) -> Any:
    body = body_of(data)
    _, event = SAMPLES[host.provider]
    headers = signed_headers(host.provider, body, SECRET, event=event)
    return client.post(
        ENDPOINTS[host.provider], data=body, content_type="application/json", headers=headers
    )


def _review(client: Client, host: FakeHost, head: str, **kwargs: Any) -> ReviewScan:
    """Deliver the event and run the review the worker would run."""
    response = _deliver(client, host, _event(host, head, **kwargs))
    assert response.status_code == 202, response.json()
    assert response.json()["outcome"] == "review_requested"
    review = ReviewScan.objects.order_by("-pk").first()
    assert review is not None
    reviews.run_review(review.pk)
    review.refresh_from_db()
    return review


def _state(host: FakeHost) -> str:
    state = host.statuses[-1]["state"]
    return {"failed": "failure"}.get(state, state)


def test_a_change_adding_a_lay001_violation_gets_a_failing_status_naming_it(
    client: Client, host: FakeHost, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden")
    repository = _repository(host, source)
    base = _scan_main(repository)
    head = _branch(source, "feature", {ROUTE: BAD_NOTES})

    review = _review(client, host, head)

    assert review.status == "succeeded", review.error
    assert review.base_sha == base.commit_sha
    assert [f["rule_id"] for f in review.new_findings] == ["LAY-001"]
    assert len(host.statuses) == 1
    status = host.statuses[0]
    assert status["sha"] == head
    assert _state(host) == "failure"
    assert f"new failure: LAY-001 {ROUTE}:{BAD_LINE}" in status["description"]
    assert len(status["description"]) <= 140
    assert status["target_url"].endswith(f"/repositories/{repository.pk}/reviews/{review.pk}/")
    (comment,) = host.comments.values()
    assert comment["body"].startswith(MARKER)
    assert f"`{ROUTE}:{BAD_LINE}`" in comment["body"]
    assert "/rules/LAY-001/" in comment["body"]
    # Kept apart from the branch's history: no scan was added, the latest is unchanged.
    repository.refresh_from_db()
    assert repository.latest_scan_id == base.pk
    assert Scan.objects.filter(repository=repository).count() == 1


def test_a_change_fixing_a_violation_passes_saying_so_and_the_comment_is_updated(
    client: Client, host: FakeHost, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden", {ROUTE: BAD_NOTES})
    repository = _repository(host, source)
    _scan_main(repository)
    still_bad = _branch(source, "feature", {"CHANGELOG.md": "# Changelog\n\n## 1.1\n- more\n"})
    first = _review(client, host, still_bad)
    assert _state(host) == "success"  # the violation was there before: nothing new
    assert first.new_findings == []
    assert first.fixed_findings == []
    git(source, "checkout", "-q", "feature")
    write_files(source, {ROUTE: NOTES})
    fixed = commit_all(source, "fix: route uses the service")
    git(source, "checkout", "-q", "main")

    second = _review(client, host, fixed, action="synchronize")

    assert [f["rule_id"] for f in second.fixed_findings] == ["LAY-001"]
    assert _state(host) == "success"
    assert f"fixes 1: LAY-001 {ROUTE}:{BAD_LINE}" in host.statuses[-1]["description"]
    assert host.statuses[-1]["sha"] == fixed
    (comment,) = host.comments.values()  # updated in place, never a second one
    assert second.comment_id == first.comment_id == str(comment["id"])
    assert "**Fixed (1)**" in comment["body"]
    assert "LAY-001" in comment["body"]


def test_without_a_base_scan_every_finding_is_new_and_the_review_says_so(
    client: Client, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden")
    head = _branch(source, "feature", {ROUTE: BAD_NOTES})
    with fake_host("github") as github:
        repository = _repository(github, source, pr_gate=False)
        review = _review(client, github, head)
        assert review.base_sha == ""
        assert review.notes == [reviews.NO_BASE_NOTE]
        assert "LAY-001" in {f["rule_id"] for f in review.new_findings}
        assert github.statuses[-1]["description"].endswith("(base branch never scanned)")
        (comment,) = github.comments.values()
        assert "every finding counts as new" in comment["body"]
    assert not Scan.objects.filter(repository=repository).exists()


def test_a_head_the_repository_does_not_have_fails_the_review_with_an_error_status(
    client: Client, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden")
    with fake_host("gitea") as gitea:
        _repository(gitea, source)
        review = _review(client, gitea, "c" * 40)
        assert review.status == "failed"
        assert review.error
        (status,) = gitea.statuses  # the pull request says why there is no verdict
        assert status["state"] == "error"
        assert status["description"].startswith("review scan failed: ")
        assert len(status["description"]) <= 140
        assert gitea.comments == {}


@pytest.mark.parametrize(
    ("provider", "ref"),
    [("github", "refs/pull/42/head"), ("gitlab", "refs/merge-requests/42/head")],
)
def test_a_forks_head_is_fetched_through_the_hosts_pull_request_ref(
    client: Client, tmp_path: Path, provider: str, ref: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = golden_repo(tmp_path / "golden")
    head = _branch(source, "fork-feature", {ROUTE: BAD_NOTES})
    git(source, "update-ref", ref, head)
    git(source, "branch", "-q", "-D", "fork-feature")  # on no branch: only at the pull ref
    resolve = Workspace.resolve

    def refuse_by_id(self: Workspace, url: str, wanted: str | None = None) -> tuple[str, str]:
        if wanted == head:  # as hosts that serve no unadvertised commit by id
            raise RepositoryError("not our ref")
        return resolve(self, url, wanted)

    monkeypatch.setattr(Workspace, "resolve", refuse_by_id)
    with fake_host(provider) as host:
        _repository(host, source)
        review = _review(client, host, head)
        assert review.status == "succeeded", review.error
        assert "LAY-001" in {f["rule_id"] for f in review.new_findings}
        assert host.statuses[-1]["sha"] == head

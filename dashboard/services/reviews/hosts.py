"""Posting back to code hosts: one commit status and one summary comment per pull request.

One small client per provider, in the providers' documented shapes:

- GitHub: `POST /repos/{repo}/statuses/{sha}` (state success/failure/error/pending),
  `GET|POST /repos/{repo}/issues/{n}/comments`, `PATCH /repos/{repo}/issues/comments/{id}`;
  `Authorization: Bearer <token>`.
- GitLab: `POST /projects/{id}/statuses/{sha}` (state success/failed/running/pending),
  `GET|POST /projects/{id}/merge_requests/{iid}/notes`, `PUT .../notes/{id}`;
  `PRIVATE-TOKEN: <token>`.
- Gitea/Forgejo: as GitHub, with `Authorization: token <token>`.

Requests go through `notify.http_post.request` (address policy, pinned connections, no
redirects). The token is only ever put in a header: errors name the HTTP status, never it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dashboard.services.notify.http_post import SendError, request

#: Hidden marker that finds our summary comment again when its stored id is gone.
MARKER = "<!-- yardstick:review -->"
CONTEXT = "yardstick"
DESCRIPTION_LIMIT = 140  # GitHub's and Gitea's limit on a status description


class HostError(SendError):
    """The code host refused or could not be reached (or answered nonsense); `transient`: try
    again later. Raised with the request named, never with the token."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to post: the API root, the token, the repository's API name, the request."""

    provider: str
    api_base_url: str
    token: str
    host_repo: str
    number: int


def _headers(target: Target) -> dict[str, str]:
    if target.provider == "gitlab":
        return {"PRIVATE-TOKEN": target.token}
    scheme = "Bearer" if target.provider == "github" else "token"
    return {"Authorization": f"{scheme} {target.token}"}


def _call(target: Target, method: str, path: str, payload: object = None) -> Any:
    url = target.api_base_url.rstrip("/") + path
    body = None if payload is None else json.dumps(payload).encode()
    try:
        _, answer = request(method, url, body, _headers(target))
    except SendError as exc:
        raise HostError(
            f"{method} {path}: {exc}", transient=exc.transient, status=exc.status
        ) from None
    try:
        return json.loads(answer) if answer.strip() else None
    except ValueError:
        raise HostError(f"{method} {path}: the answer is not JSON", transient=False) from None


def _repo(target: Target) -> str:
    if target.provider == "gitlab":
        return f"/projects/{quote(target.host_repo, safe='')}"
    return "/repos/" + "/".join(quote(part, safe="") for part in target.host_repo.split("/"))


_GITLAB_STATES = {"failure": "failed", "error": "failed"}


def post_status(target: Target, sha: str, state: str, description: str, target_url: str) -> None:
    """Set the commit status `yardstick` of `sha` (`state`: success, failure, error, pending)."""
    text = description[:DESCRIPTION_LIMIT]
    path = f"{_repo(target)}/statuses/{quote(sha, safe='')}"
    if target.provider == "gitlab":
        body = {
            "state": _GITLAB_STATES.get(state, state),
            "name": CONTEXT,
            "description": text,
            "target_url": target_url,
        }
    else:
        body = {"state": state, "context": CONTEXT, "description": text, "target_url": target_url}
    _call(target, "POST", path, body)


def _comments_path(target: Target) -> str:
    if target.provider == "gitlab":
        return f"{_repo(target)}/merge_requests/{target.number}/notes"
    return f"{_repo(target)}/issues/{target.number}/comments"


def _comment_path(target: Target, comment_id: str) -> str:
    if target.provider == "gitlab":
        return f"{_comments_path(target)}/{quote(comment_id, safe='')}"
    return f"{_repo(target)}/issues/comments/{quote(comment_id, safe='')}"


def find_comment(target: Target) -> str | None:
    """The id of our summary comment (the one carrying `MARKER`), or None. Only the first
    100 comments are read: ours is among the first, posted when the request opened."""
    listed = _call(target, "GET", f"{_comments_path(target)}?per_page=100")
    for comment in listed if isinstance(listed, list) else []:
        if isinstance(comment, dict) and MARKER in str(comment.get("body") or ""):
            return str(comment.get("id"))
    return None


def upsert_comment(target: Target, body: str, comment_id: str = "") -> str:
    """Update our one summary comment in place, or create it; its id.

    The stored id first; if it is gone (404: deleted by someone), the comment found by its
    marker; only then a new one, so a pull request never holds two.
    """
    text = f"{MARKER}\n{body}"
    method = "PUT" if target.provider == "gitlab" else "PATCH"
    if comment_id:
        try:
            _call(target, method, _comment_path(target, comment_id), {"body": text})
            return comment_id
        except HostError as exc:
            if exc.status != 404:
                raise
    found = find_comment(target)
    if found:
        _call(target, method, _comment_path(target, found), {"body": text})
        return found
    created = _call(target, "POST", _comments_path(target), {"body": text})
    if not isinstance(created, dict) or created.get("id") is None:
        raise HostError("the code host answered a new comment without an id", transient=False)
    return str(created["id"])

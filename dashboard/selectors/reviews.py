"""Review scans of pull/merge requests, as pages read them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from dashboard.models import ReviewScan


def review_of(repository_pk: int, review_pk: int) -> ReviewScan:
    """The review scan `review_pk` of repository `repository_pk`, with its team (1 query);
    404 when it is another repository's."""
    return get_object_or_404(
        ReviewScan.objects.select_related("repository__team"),
        pk=review_pk,
        repository_id=repository_pk,
    )

"""The page of one review scan: what a pull/merge request adds and fixes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.selectors.reviews import review_of


@login_required
@require_GET
def detail(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    """Reading is organisation-wide, as for scans: every signed-in user."""
    review = review_of(pk, review_pk)
    return render(request, "review.html", {"review": review})

"""The signed-in person's own API tokens: list, create (the secret shown once), revoke."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.forms.tokens import TokenForm
from dashboard.selectors.tokens import tokens_of
from dashboard.services.access import api_tokens


@never_cache  # the answer to a creation holds the token's only plain-text copy
@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """Your tokens and the form for a new one; after creating, the secret, once."""
    user = cast(User, request.user)
    form = TokenForm(request.POST or None, user=user)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = api_tokens.issue(
                data["team"],
                data["name"],
                write=data["scope"] == "write",
                owner=user,
                days=data["days"],
            )
        except api_tokens.TokenError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = TokenForm(user=user)  # a fresh form: the next token starts from the defaults
    now = timezone.now()
    tokens = [(token, token.status(now)) for token in tokens_of(user)]
    context = {"form": form, "issued": issued, "tokens": tokens}
    return render(request, "tokens.html", context)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your tokens (anyone else's is not found)."""
    token = get_object_or_404(tokens_of(cast(User, request.user)), pk=pk)
    api_tokens.revoke(token, actor=request.user)
    messages.success(request, f"Token {token.prefix}… “{token.name}” revoked: it no longer works.")
    return redirect("tokens")

"""A team's notification settings and recent deliveries (maintainers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from dashboard.forms.notify import NotificationSettingsForm
from dashboard.models import Delivery, Team, TeamNotificationSettings
from dashboard.services.access.permissions import can_manage_team
from dashboard.services.notify.events import save_team_settings


@login_required
@require_http_methods(["GET", "POST"])
def team_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Email recipients, a Slack-compatible webhook and the digest option of one team."""
    team = get_object_or_404(Team, slug=slug)
    if not can_manage_team(request.user, team):
        raise PermissionDenied("only the team's maintainers may change its notifications")
    prefs = TeamNotificationSettings.objects.filter(team=team).first()
    initial = {"email_recipients": prefs.email_recipients, "digest": prefs.digest} if prefs else {}
    form = NotificationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        save_team_settings(
            request.user,
            team,
            emails=data["email_recipients"],
            slack_url=data["slack_webhook_url"],
            remove_slack=data["remove_slack"],
            digest=data["digest"],
        )
        messages.success(request, "Notification settings saved.")
        return redirect("team-notifications", slug=slug)
    deliveries = list(
        Delivery.objects.filter(notification__team=team)
        .select_related("notification")
        .order_by("-created_at", "-id")[:20]
    )
    context = {
        "team": team,
        "form": form,
        "slack_configured": bool(prefs and prefs.slack_webhook_encrypted),
        "deliveries": deliveries,
    }
    return render(request, "team_notifications.html", context)

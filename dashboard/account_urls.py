"""Accounts: the local sign-in form, password reset by e-mail, and single sign-on.

Local accounts (the first admin, small installs) sign in with a password on Django's form,
guarded by django-axes; they reset a forgotten password by e-mail with Django's own views.
Single sign-on runs allauth's provider views, each answering 404 until its provider is
configured (dashboard/views/sso.py).
"""

from allauth.socialaccount.providers.github import views as github
from allauth.socialaccount.providers.gitlab import views as gitlab
from allauth.socialaccount.providers.openid_connect import views as oidc
from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard.views import signin, sso

urlpatterns = [
    path("accounts/login/", signin.login_page, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/reset/", signin.password_reset, name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/sso/oidc/<slug:provider_id>/login/",
        sso.configured("openid_connect", oidc.login),
        name="openid_connect_login",
    ),
    path(
        "accounts/sso/oidc/<slug:provider_id>/login/callback/",
        sso.configured("openid_connect", oidc.callback),
        name="openid_connect_callback",
    ),
    path(
        "accounts/sso/github/login/",
        sso.configured("github", github.oauth2_login),
        name="github_login",
    ),
    path(
        "accounts/sso/github/login/callback/",
        sso.configured("github", github.oauth2_callback),
        name="github_callback",
    ),
    path(
        "accounts/sso/gitlab/login/",
        sso.configured("gitlab", gitlab.oauth2_login),
        name="gitlab_login",
    ),
    path(
        "accounts/sso/gitlab/login/callback/",
        sso.configured("gitlab", gitlab.oauth2_callback),
        name="gitlab_callback",
    ),
]

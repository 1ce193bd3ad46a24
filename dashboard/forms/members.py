"""Forms: a team's members (add one by username or e-mail; change a role).

Shape and basic validation of input; `services/access/members.py` decides the rest (who the
text names, whether the change is allowed).
"""

from __future__ import annotations

from django import forms

from dashboard.models import Membership


class AddMemberForm(forms.Form):
    """Who to add, and as what."""

    user = forms.CharField(
        max_length=254,
        label="Username or e-mail address",
        help_text="An existing account; capitals do not matter.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Type a username or an e-mail address."},
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RoleForm(forms.Form):
    """The role a member gets."""

    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        error_messages={"required": "Choose a role: member or maintainer."},
    )

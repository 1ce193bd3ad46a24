# Repository transfers between teams, and their audit actions (issue 22).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0019_membership_source"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RepositoryTransfer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("proposed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("accepted", "Accepted"),
                            ("declined", "Declined"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ("-proposed_at", "-id"),
            },
        ),
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_action_valid",
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("waiver.granted", "Waiver granted"),
                    ("waiver.revoked", "Waiver revoked"),
                    ("waiver.changed", "Waiver changed"),
                    ("attestation.recorded", "Attestation recorded"),
                    ("attestation.revoked", "Attestation revoked"),
                    ("attestation.changed", "Attestation changed"),
                    ("ratchet.set", "Ratchet set"),
                    ("ratchet.released", "Ratchet released"),
                    ("token.created", "API token created"),
                    ("token.revoked", "API token revoked"),
                    ("repository.registered", "Repository registered"),
                    ("repository.changed", "Repository changed"),
                    ("repository.deleted", "Repository deleted"),
                    ("repository.deep_scan", "Deep scan switched"),
                    ("transfer.proposed", "Repository transfer proposed"),
                    ("transfer.accepted", "Repository transfer accepted"),
                    ("transfer.declined", "Repository transfer declined"),
                    ("transfer.cancelled", "Repository transfer cancelled"),
                    ("notifications.changed", "Notification settings changed"),
                    ("membership.added", "Member added"),
                    ("membership.changed", "Member's role changed"),
                    ("membership.removed", "Member removed"),
                    ("user.roles", "User's privileges changed"),
                    ("rule.configured", "Rule configuration changed"),
                    ("upload.report", "CI report uploaded"),
                    ("upload.coverage", "CI coverage uploaded"),
                    ("score.repaired", "Stored score repaired"),
                ],
                max_length=40,
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "action__in",
                        [
                            "waiver.granted",
                            "waiver.revoked",
                            "waiver.changed",
                            "attestation.recorded",
                            "attestation.revoked",
                            "attestation.changed",
                            "ratchet.set",
                            "ratchet.released",
                            "token.created",
                            "token.revoked",
                            "repository.registered",
                            "repository.changed",
                            "repository.deleted",
                            "repository.deep_scan",
                            "transfer.proposed",
                            "transfer.accepted",
                            "transfer.declined",
                            "transfer.cancelled",
                            "notifications.changed",
                            "membership.added",
                            "membership.changed",
                            "membership.removed",
                            "user.roles",
                            "rule.configured",
                            "upload.report",
                            "upload.coverage",
                            "score.repaired",
                        ],
                    )
                ),
                name="audit_action_valid",
            ),
        ),
        migrations.AddField(
            model_name="repositorytransfer",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="repositorytransfer",
            name="from_team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="dashboard.team"
            ),
        ),
        migrations.AddField(
            model_name="repositorytransfer",
            name="proposed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="repositorytransfer",
            name="repository",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="transfers",
                to="dashboard.repository",
            ),
        ),
        migrations.AddField(
            model_name="repositorytransfer",
            name="to_team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="incoming_transfers",
                to="dashboard.team",
            ),
        ),
        migrations.AddIndex(
            model_name="repositorytransfer",
            index=models.Index(fields=["to_team", "status"], name="transfer_to_team_status"),
        ),
        migrations.AddConstraint(
            model_name="repositorytransfer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("repository",),
                name="transfer_one_pending_per_repository",
            ),
        ),
    ]

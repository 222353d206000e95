# The coach switch moved here from ops: this only records the model; ops' migration 0002
# renames its table to labs_coachswitch, so the stored switch is kept.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("labs", "0003_turn_reservation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CoachSwitch",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "backend",
                            models.CharField(
                                choices=[
                                    (
                                        "auto",
                                        "Automatic (API when a key is set, else offline coach)",
                                    ),
                                    ("offline", "Offline coach for everyone"),
                                ],
                                default="auto",
                                max_length=16,
                            ),
                        ),
                        (
                            "model_override",
                            models.CharField(
                                blank=True,
                                help_text=(
                                    "A model id to use instead of COACH_MODEL; blank for none."
                                ),
                                max_length=100,
                            ),
                        ),
                        (
                            "note",
                            models.CharField(
                                blank=True, help_text="Why it was changed.", max_length=200
                            ),
                        ),
                        ("updated", models.DateTimeField(auto_now=True)),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "coach switch",
                        "verbose_name_plural": "coach switch",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]

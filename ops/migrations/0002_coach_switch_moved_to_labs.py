# The coach switch moved to labs (labs never imports ops): its table is renamed to the one
# labs.CoachSwitch names, so the stored switch is kept, and ops forgets the model.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("labs", "0004_coach_switch"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="coachswitch", table="labs_coachswitch"),
            ],
            state_operations=[migrations.DeleteModel(name="coachswitch")],
        ),
    ]

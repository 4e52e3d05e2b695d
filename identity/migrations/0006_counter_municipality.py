import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def from_the_audit_log(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Accounts created at a counter before this field existed: the audit log names the
    municipality of each `account.create_at_counter`."""
    user_model = apps.get_model("identity", "User")
    entries = apps.get_model("identity", "AuditEntry").objects.filter(
        action="account.create_at_counter", target_type="identity.user"
    )
    for target_id, municipality_id in entries.values_list("target_id", "municipality_id"):
        if target_id.isdigit() and municipality_id is not None:
            user_model.objects.filter(pk=int(target_id), counter_municipality=None).update(
                counter_municipality_id=municipality_id
            )


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0005_leaner_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="counter_municipality",
            field=models.ForeignKey(
                blank=True,
                help_text="The municipality whose counter created this account; empty if made "
                "online.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="identity.municipality",
                verbose_name="created at the counter of",
            ),
        ),
        migrations.RunPython(from_the_audit_log, migrations.RunPython.noop, elidable=True),
    ]

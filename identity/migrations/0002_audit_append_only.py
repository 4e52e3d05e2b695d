"""The database itself refuses to change or delete audit entries and checkpoints.

The only update allowed is the sealer filling seq/prev_hash/chain_hash of an unsealed entry. The
hash chain still detects tampering by someone who can bypass triggers (the table owner). PostgreSQL
only: production runs on it, and the embedded SQLite default is for trying the site out.
"""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION identity_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit log is append-only: % of % refused', TG_OP, TG_TABLE_NAME;
  END IF;
  IF TG_TABLE_NAME = 'identity_auditcheckpoint' OR OLD.seq IS NOT NULL
     OR NEW.id IS DISTINCT FROM OLD.id
     OR NEW.chain IS DISTINCT FROM OLD.chain
     OR NEW.municipality_id IS DISTINCT FROM OLD.municipality_id
     OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
     OR NEW.action IS DISTINCT FROM OLD.action
     OR NEW.target_type IS DISTINCT FROM OLD.target_type
     OR NEW.target_id IS DISTINCT FROM OLD.target_id
     OR NEW.data IS DISTINCT FROM OLD.data
     OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.entry_hash IS DISTINCT FROM OLD.entry_hash THEN
    RAISE EXCEPTION 'audit log is append-only: % of % refused', TG_OP, TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER identity_auditentry_append_only BEFORE UPDATE OR DELETE "
    "ON identity_auditentry FOR EACH ROW EXECUTE FUNCTION identity_audit_append_only()",
    "CREATE TRIGGER identity_auditcheckpoint_append_only BEFORE UPDATE OR DELETE "
    "ON identity_auditcheckpoint FOR EACH ROW EXECUTE FUNCTION identity_audit_append_only()",
]

DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS identity_auditentry_append_only ON identity_auditentry",
        "DROP TRIGGER IF EXISTS identity_auditcheckpoint_append_only ON identity_auditcheckpoint",
        "DROP FUNCTION IF EXISTS identity_audit_append_only()",
    ],
}


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [PG_FUNCTION, *PG_TRIGGERS]}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("identity", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]

"""Certification notes stop carrying the inspection's end (a copy that went stale when the date
moved); the timeline now shows it from Proposal.inspection_ends_at. Notes were stored in the
language of the request that wrote them, Japanese or English."""

import re

from django.db import migrations

SUFFIXES = (
    (re.compile(r"; public inspection until \S+$"), "."),
    (re.compile(r"。縦覧期間は\S+までです$"), "。"),
)


def strip_inspection_dates(apps, schema_editor):  # type: ignore[no-untyped-def]
    TimelineEvent = apps.get_model("proposals", "TimelineEvent")
    for event in TimelineEvent.objects.filter(status="certification").exclude(note=""):
        note = event.note
        for pattern, end in SUFFIXES:
            note = pattern.sub(end, note)
        if note != event.note:
            event.note = note
            event.save(update_fields=["note"])


class Migration(migrations.Migration):
    dependencies = [("proposals", "0005_committee_invitation_state")]

    operations = [migrations.RunPython(strip_inspection_dates, migrations.RunPython.noop)]

"""Recompute every proposal's search text in the folded form (hyphens and long-vowel marks
dropped, hiragana as katakana) that queries are now compared in. The function is frozen here as
it was when this migration was written."""

import unicodedata

from django.db import migrations

_FOLDED_AWAY = dict.fromkeys(map(ord, "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"))
_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}


def _normalize(text):  # type: ignore[no-untyped-def]
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.translate(_FOLDED_AWAY).translate(_KATAKANA)
    return " ".join(folded.split())


def refold(apps, schema_editor):  # type: ignore[no-untyped-def]
    Proposal = apps.get_model("proposals", "Proposal")
    for proposal in Proposal.objects.only(
        "id", "title", "summary", "body", "category", "location"
    ).iterator(chunk_size=500):
        text = _normalize(
            " ".join(
                (proposal.title, proposal.summary, proposal.body, proposal.category, proposal.location)
            )
        )
        Proposal.objects.filter(pk=proposal.pk).update(search_text=text)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0007_proposal_revisions")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]

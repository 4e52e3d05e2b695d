"""The audit log's words for the voting app's actions (identity.audit_display). Ballots are
never in the audit log (see docs/decisions.md, secrecy)."""

from django.utils.translation import gettext_lazy as _

from identity.audit_display import register

register(
    {
        "election.create": _("Election created"),
        "election.update": _("Election changed"),
        "election.questions_set": _("Election questions set"),
        "election.trustee_appoint": _("Trustee appointed"),
        "election.trustee_remove": _("Trustee removed"),
        "election.trustee_key_upload": _("Trustee's public key accepted"),
        "election.freeze": _("Election frozen (voter roll fixed)"),
        "election.close": _("Voting closed"),
        "election.tally": _("Encrypted tally computed"),
        "election.decryption_upload": _("Trustee's decryption accepted"),
        "election.publish": _("Results published"),
    },
    {
        "election": _("Election"),
        "trustee": _("Trustee"),
        "public_key": _("Public key"),
        "questions": _("Questions"),
        "roll_size": _("Voter roll size"),
        "excluded": _("Left off the roll"),
        "election_hash": _("Election hash"),
        "results": _("Results"),
        "ballots_counted": _("Ballots counted"),
        "closed_at": _("Closed at"),
    },
)

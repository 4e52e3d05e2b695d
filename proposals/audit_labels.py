"""The audit log's words for the proposals app's actions (identity.audit_display)."""

from django.utils.translation import gettext_lazy as _

from identity.audit_display import register

register(
    {
        "proposal.file": _("Proposal filed"),
        "proposal.edit": _("Proposal text edited"),
        "proposal.collection_open": _("Signature collection opened"),
        "proposal.committee_invite": _("Promoter invited"),
        # Entries written before the invitation could be declined say "committee_confirm".
        "proposal.committee_confirm": _("Promoter confirmed"),
        "proposal.committee_accept": _("Promoter confirmed"),
        "proposal.committee_decline": _("Invitation declined"),
        "proposal.withdraw": _("Proposal withdrawn"),
        "proposal.follow": _("Proposal followed"),
        "proposal.unfollow": _("Proposal no longer followed"),
        "proposal.expired": _("Collection ended below the threshold"),
        "proposal.certification": _("Sent for certification"),
        "proposal.submitted": _("Submitted to the council"),
        "proposal.not_certified": _("Not certified"),
        "proposal.certification_publish": _("Certified count published"),
        "proposal.objection_file": _("Objection filed"),
        "proposal.objection_answer": _("Objection answered"),
        "proposal.signatory_list_download": _("Signatory list downloaded"),
        "proposal.signatories_purge": _("Signatory personal data purged"),
        "proposal.review_start": _("Council review started"),
        "proposal.clarification_request": _("Council asked a question"),
        "proposal.document_attach": _("Council document attached"),
        "proposal.answer": _("Council answer published"),
        "proposal_type.create": _("Proposal type saved"),
        "proposal_type.register_set": _("Register size entered"),
        "signature.add": _("Signature added"),
        "signature.withdraw": _("Signature withdrawn"),
        "signature.invalidate": _("Signature marked invalid"),
    },
    {
        "proposal": _("Proposal"),
        "type": _("Type"),
        "channel": _("Channel"),
        "sheet": _("Sheet"),
        "signatures": _("Signatures"),
        "threshold": _("Signatures required"),
        "certified_count": _("Certified count"),
        "register_size": _("Electoral register size"),
        "register_date": _("Register reference date"),
        "revision": _("Revision"),
        "member": _("Promoter"),
        "follow": _("Follow"),
        "decision": _("Decision"),
        "question": _("Question"),
        "early": _("Closed early"),
    },
)

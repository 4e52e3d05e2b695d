"""Every write of the proposals app: permission and state checked, atomic, audited."""

from proposals.services.certification import (
    certification_finalize,
    certification_publish,
    objection_answer,
    objection_file,
    signatory_list_open,
    signature_invalidate,
)
from proposals.services.council import (
    clarification_request,
    document_attach,
    proposal_answer,
    review_start,
)
from proposals.services.direct_demand import (
    BlackoutValues,
    blackout_add,
    collector_appoint,
    collector_revoke,
    representative_certificate_issue,
    signature_sheets_print,
)
from proposals.services.editing import ProposalChanges, proposal_edit
from proposals.services.filing import (
    ProposalDraft,
    collection_open,
    proposal_file,
    proposal_file_within,
)
from proposals.services.follows import follow_add, follow_remove
from proposals.services.lifecycle import (
    collection_close_early,
    collections_close_due,
    committee_accept,
    committee_decline,
    committee_invite,
    proposal_withdraw,
)
from proposals.services.retention import (
    signatories_purge,
    signatories_purge_all_due,
    signatories_purge_due,
)
from proposals.services.signatures import (
    OfflineSignature,
    SignatureResult,
    SignRequest,
    signature_add,
    signature_add_batched,
    signature_add_many,
    signature_add_offline,
    signature_withdraw,
)
from proposals.services.types import (
    ProposalTypeValues,
    TypeInvalid,
    proposal_type_register_set,
    proposal_type_save,
)

__all__ = [
    "BlackoutValues",
    "OfflineSignature",
    "ProposalChanges",
    "ProposalDraft",
    "ProposalTypeValues",
    "SignRequest",
    "SignatureResult",
    "TypeInvalid",
    "blackout_add",
    "certification_finalize",
    "certification_publish",
    "clarification_request",
    "collection_close_early",
    "collection_open",
    "collections_close_due",
    "collector_appoint",
    "collector_revoke",
    "committee_accept",
    "committee_decline",
    "committee_invite",
    "document_attach",
    "follow_add",
    "follow_remove",
    "objection_answer",
    "objection_file",
    "proposal_answer",
    "proposal_edit",
    "proposal_file",
    "proposal_file_within",
    "proposal_type_register_set",
    "proposal_type_save",
    "proposal_withdraw",
    "representative_certificate_issue",
    "review_start",
    "signatories_purge",
    "signatories_purge_all_due",
    "signatories_purge_due",
    "signatory_list_open",
    "signature_add",
    "signature_add_batched",
    "signature_add_many",
    "signature_add_offline",
    "signature_invalidate",
    "signature_sheets_print",
    "signature_withdraw",
]

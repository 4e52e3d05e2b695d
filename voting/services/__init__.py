"""Every write of the voting app: permission and state checked, atomic, audited.

Backend API for pages (views, API, tasks call only these and `voting.selectors`)
================================================================================
All services take keyword arguments `actor` (User; None only for tasks) and `municipality`
(Municipality), and raise `identity.errors` domain errors with a stable `code`:
403 PermissionDenied, 404 NotFound, 409 Conflict, 422 InvalidInput.

Election office (role election_office + MFA; else 403 `role_required` / `mfa_required`):
- election_create(actor, municipality, values: ElectionValues) -> Election
    422 title_required, period_invalid, period_past, min_age_invalid, methods_invalid
- election_update(actor, municipality, election_id, values: ElectionValues) -> Election
    draft only: 409 election_frozen; 422 as election_create
- questions_set(actor, municipality, election_id, questions: Sequence[QuestionValues])
    -> list[Question]   replaces all questions; draft only; 422 question_invalid
    (QuestionValues.yes_no(text), QuestionValues.choose_up_to(text, options, k))
- trustee_appoint(actor, municipality, election_id, email: str) -> Trustee
    404 user_not_found, 409 already_trustee, 409 election_frozen
- trustee_remove(actor, municipality, election_id, trustee_id: int) -> None   (draft only)
- election_freeze(actor, municipality, election_id) -> FreezeResult(election, roll_size, excluded)
    409 no_questions, too_few_trustees (< 2), keys_missing, period_past, election_frozen
- election_close(actor, municipality, election_id) -> Election      409 illegal_transition
- tally_compute(actor, municipality, election_id) -> EncryptedTally (normally a task after close)
- election_publish(actor, municipality, election_id) -> Result
    (normally automatic after the last decryption) 409 decryptions_missing

Trustee (any account appointed as trustee of the election; else 403 `not_trustee`):
- trustee_key_upload(actor, municipality, election_id, upload: dict) -> Trustee
    upload = {"public_key", "pok"} printed by `python -m voting.trustee keygen`
    422 key_invalid (reason in message), 422 secret_key_uploaded, 409 key_duplicate,
    409 election_frozen
- decryption_upload(actor, municipality, election_id, factors_json: dict) -> DecryptionShare
    factors.json of `python -m voting.trustee decrypt`; 422 decryption_invalid (reason),
    409 decryption_exists, 409 illegal_transition (not tallied yet)
  (tally.json to download: selectors.trustee_tally_request(user, election) -> dict)

Voter:
- ballot_cast(actor, municipality, election_id, ballot_json: dict) -> CastReceipt
    CastReceipt(ballot_id, tracker, cast_at, replaced_previous)
    403 <eligibility code> (e.g. under_age, not_verified) or not_on_roll / not_signed_in;
    409 election_not_open, election_closed, ballot_audited, ballot_duplicate;
    422 alias_mismatch, ballot_invalid (BallotRejected: .failures lists the failing checks)
- ballot_audit(actor, municipality, election_id, ballot_json: dict, randomness: list)
    -> AuditReceipt(ballot_id, tracker, selections: {question id: [option ids]})
    randomness = encryptBallot()'s `secrets`: [{"question", "randomness": [hex per option]}]
    as ballot_cast, plus 422 audit_invalid / audit_mismatch, 409 ballot_cast

Reads (voting.selectors): elections_public, office_elections, election_visible, questions_of,
trustees_of, trustee_of, voter_status (VoterStatus: allowed, code, message, alias,
can_cast_now), my_ballot, my_elections, ballot_context (what election.mjs needs), bulletin_board
(BoardPage), board_rows, audited_ballots, results_of (Results with turnout, None until
published), record_of, roll_report (office only), trustee_tally_request (tally.json). Files:
voting.exports (results_csv, board_csv, record_json views). The API's async cast endpoint
calls ballot_cast_batched (voting/services/casting.py): the same three steps, each shared by the
ballots in flight together (ballot_store_many is the group commit).
"""

from voting.services.ballots import (
    AuditReceipt,
    BallotRejected,
    CastReceipt,
    PreparedBallot,
    PrepareRequest,
    ballot_audit,
    ballot_cast,
    ballot_prepare,
    ballot_prepare_many,
    ballot_store,
    ballot_store_many,
    check_proofs,
)
from voting.services.casting import ballot_cast_batched
from voting.services.counting import (
    decryption_upload,
    election_close,
    election_publish,
    elections_close_due,
    record_bytes,
    tally_compute,
)
from voting.services.elections import (
    MIN_TRUSTEES,
    ElectionValues,
    FreezeResult,
    QuestionValues,
    election_create,
    election_freeze,
    election_update,
    questions_set,
    trustee_appoint,
    trustee_key_upload,
    trustee_remove,
)

__all__ = [
    "MIN_TRUSTEES",
    "AuditReceipt",
    "BallotRejected",
    "CastReceipt",
    "ElectionValues",
    "FreezeResult",
    "PrepareRequest",
    "PreparedBallot",
    "QuestionValues",
    "ballot_audit",
    "ballot_cast",
    "ballot_cast_batched",
    "ballot_prepare",
    "ballot_prepare_many",
    "ballot_store",
    "ballot_store_many",
    "check_proofs",
    "decryption_upload",
    "election_close",
    "election_create",
    "election_freeze",
    "election_publish",
    "election_update",
    "elections_close_due",
    "questions_set",
    "record_bytes",
    "tally_compute",
    "trustee_appoint",
    "trustee_key_upload",
    "trustee_remove",
]

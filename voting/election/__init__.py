"""Election core: encryption, proofs, tally and verification for mebuku-election-record/1.

Plain Python (standard library, gmpy2 when installed); no Django, no `cryptography`.
The server-facing API is re-exported here; see docs/election-core.md for the layout.
"""

from voting.election.ballot import encrypt_ballot, encrypt_ballot_with_tracker
from voting.election.ballot_check import Failure, verify_ballot, verify_ballots
from voting.election.decryption import combine, decryption_factors, verify_decryption_factors
from voting.election.hashing import ballot_tracker, election_hash, fs_hash
from voting.election.keys import TrusteeKey, generate_key
from voting.election.model import Ciphertext, ElectionContext, Question
from voting.election.record import build_record, election_header, mark_counted, trustee_request
from voting.election.tally import tally, tally_from_json, tally_to_json
from voting.election.verifier import Report, verify_record

__all__ = [
    "Ciphertext",
    "ElectionContext",
    "Failure",
    "Question",
    "Report",
    "TrusteeKey",
    "ballot_tracker",
    "build_record",
    "combine",
    "decryption_factors",
    "election_hash",
    "election_header",
    "encrypt_ballot",
    "encrypt_ballot_with_tracker",
    "fs_hash",
    "generate_key",
    "mark_counted",
    "tally",
    "tally_from_json",
    "tally_to_json",
    "trustee_request",
    "verify_ballot",
    "verify_ballots",
    "verify_decryption_factors",
    "verify_record",
]

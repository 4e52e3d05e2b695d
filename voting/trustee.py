"""Trustee tool: create a key pair, later decrypt the election tally with it.

    python -m voting.trustee keygen --out key.json [--passphrase-file F | --prompt]
    python -m voting.trustee decrypt --key key.json --tally tally.json --out factors.json

keygen prints {"public_key", "pok"} to upload; the secret stays in key.json (mode 0600,
optionally sealed with a passphrase: scrypt + AES-256-GCM).  decrypt refuses a tally whose
election hash does not recompute or whose trustee list lacks this key, and writes the
record's `decryptions` entry for this trustee.  Only this tool imports `cryptography`, and
only when a passphrase is used.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from voting.election.decryption import decryption_factors
from voting.election.encoding import FormatError, from_hex, to_hex
from voting.election.group import P, g_pow, group_json
from voting.election.hashing import election_hash
from voting.election.keys import TrusteeKey, generate_key
from voting.election.model import ElectionContext
from voting.election.tally import tally_from_json

KEY_FORMAT = "mebuku-trustee-key/1"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}  # ~0.1 s and 32 MiB per attempt


class TrusteeError(Exception):
    """Refusal with a message for the trustee."""


# --- key files --------------------------------------------------------------------------


def _aad(public_hex: str) -> bytes:
    # Binding the public key stops a sealed secret being pasted under another key.
    return f"{KEY_FORMAT}|{public_hex}".encode()


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def key_file_json(key: TrusteeKey, passphrase: str | None) -> dict[str, Any]:
    public_hex = to_hex(key.public)
    if passphrase is None:
        return {"format": KEY_FORMAT, "public_key": public_hex, "secret_key": to_hex(key.secret)}
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_derive(passphrase, salt, **SCRYPT)).encrypt(
        nonce, to_hex(key.secret).encode(), _aad(public_hex)
    )
    return {
        "format": KEY_FORMAT,
        "public_key": public_hex,
        "sealed_secret_key": {
            "kdf": "scrypt",
            **SCRYPT,
            "salt": salt.hex(),
            "cipher": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": sealed.hex(),
        },
    }


def is_sealed(data: Mapping[str, Any]) -> bool:
    return "sealed_secret_key" in data


def load_key(data: Mapping[str, Any], passphrase: str | None) -> TrusteeKey:
    if data.get("format") != KEY_FORMAT:
        raise TrusteeError(f"not a {KEY_FORMAT} key file")
    try:
        public = from_hex(data.get("public_key"), "public_key")
        if is_sealed(data):
            if passphrase is None:
                raise TrusteeError("the key file is protected by a passphrase")
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            box = data["sealed_secret_key"]
            if box.get("kdf") != "scrypt" or box.get("cipher") != "aes-256-gcm":
                raise TrusteeError("unknown key protection")
            secret_key = _derive(
                passphrase, bytes.fromhex(box["salt"]), box["n"], box["r"], box["p"]
            )
            try:
                plain = AESGCM(secret_key).decrypt(
                    bytes.fromhex(box["nonce"]),
                    bytes.fromhex(box["ciphertext"]),
                    _aad(data["public_key"]),
                )
            except InvalidTag:
                raise TrusteeError("wrong passphrase (or the key file was altered)") from None
            secret = from_hex(plain.decode(), "secret")
        else:
            secret = from_hex(data.get("secret_key"), "secret_key")
    except (FormatError, KeyError, ValueError, TypeError) as exc:
        raise TrusteeError(f"damaged key file: {exc}") from None
    if g_pow(secret) != public:
        raise TrusteeError("key file damaged: the secret does not match the public key")
    return TrusteeKey(secret, public)


# --- decrypting -------------------------------------------------------------------------


def decrypt_tally(key: TrusteeKey, request: Mapping[str, Any]) -> dict[str, Any]:
    """Check that `request` is the election this key was made for, then decrypt."""
    try:
        trustee_id = request.get("trustee_id", request.get("trustee"))
        trustees = request["trustees"]
        if request["group"] != group_json():
            raise TrusteeError("the tally uses a different group than the spec's")
        recomputed = election_hash(
            request["election"], request["group"], trustees, request["joint_public_key"]
        )
        if recomputed != request["election_hash"]:
            raise TrusteeError(
                f"election hash does not recompute (got {request['election_hash']}, "
                f"computed {recomputed}): refusing to decrypt"
            )
        mine = [t for t in trustees if t.get("public_key") == to_hex(key.public)]
        if not mine:
            raise TrusteeError("this key is not among the election's trustees: refusing")
        if trustee_id is None:
            trustee_id = mine[0]["id"]
        if all(t.get("id") != trustee_id for t in mine):
            raise TrusteeError(f"trustee {trustee_id!r} is not listed with this key")
        joint = 1
        for t in trustees:
            joint = joint * int(t["public_key"], 16) % int(P)
        if to_hex(joint) != request["joint_public_key"]:
            raise TrusteeError("joint public key is not the product of the trustees' keys")
        ctx = ElectionContext.from_record(request)
        tally = tally_from_json(ctx.questions, request["encrypted_tally"])
    except (KeyError, TypeError, AttributeError, FormatError, ValueError) as exc:
        if isinstance(exc, TrusteeError):
            raise
        raise TrusteeError(f"malformed tally file: {exc}") from None
    return decryption_factors(
        key.secret, trustee_id, ctx.election_hash, [q.id for q in ctx.questions], tally
    )


# --- command line -----------------------------------------------------------------------


def _read_passphrase(path: str | None, prompt: bool, confirm: bool) -> str | None:
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().rstrip("\r\n")
    if not prompt:
        return None
    first = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Repeat passphrase: ") != first:
        raise TrusteeError("passphrases differ")
    return first


def _write_private(path: str, data: Mapping[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voting.trustee",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    keygen = sub.add_parser("keygen", help="create a key pair; prints the public part to upload")
    keygen.add_argument("--out", required=True, help="key file to create (never overwritten)")
    decrypt = sub.add_parser("decrypt", help="decryption factors for the election's tally")
    decrypt.add_argument("--key", required=True)
    decrypt.add_argument("--tally", required=True, help="tally.json from the server")
    decrypt.add_argument("--out", required=True, help="factors.json to upload")
    for p in (keygen, decrypt):
        p.add_argument("--passphrase-file", help="first line is the passphrase")
        p.add_argument("--prompt", action="store_true", help="ask for a passphrase")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            if os.path.exists(args.out):
                raise TrusteeError(f"{args.out} exists; refusing to overwrite a key")
            passphrase = _read_passphrase(args.passphrase_file, args.prompt, confirm=True)
            key = generate_key()
            _write_private(args.out, key_file_json(key, passphrase))
            print(json.dumps(key.upload_json(), indent=2))
            return 0
        with open(args.key, encoding="utf-8") as fh:
            data = json.load(fh)
        passphrase = _read_passphrase(
            args.passphrase_file, args.prompt or is_sealed(data), confirm=False
        )
        key = load_key(data, passphrase)
        with open(args.tally, encoding="utf-8") as fh:
            request = json.load(fh)
        factors = decrypt_tally(key, request)
        with open(args.out, "x", encoding="utf-8") as fh:
            json.dump(factors, fh, indent=2)
            fh.write("\n")
        print(f"wrote {args.out}: decryption factors for trustee {factors['trustee']}")
        return 0
    except TrusteeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Cosigns a signed note as a witness, from the C2SP specifications alone.

Written from C2SP signed-note and tlog-cosignature, not from the C++ code:
key id = SHA-256(name || "\\n" || 0x04 || pubkey)[:4]; the signed message is
"cosignature/v1\\n" "time <ts>\\n" followed by the note body (its lines up to
the blank line); the line is "— <name> <base64(key_id || u64 ts || sig)>".
Ed25519 from the `cryptography` package.

Usage: cosign_note.py NAME SEED_HEX TS [KEY_ID_HEX] < NOTE
Prints the note with the cosignature line appended. KEY_ID_HEX, if given,
replaces the computed key id (to forge a line in another witness's name).
cosign_note.py --vkey NAME SEED_HEX prints the witness's verifier key.
"""
import base64
import hashlib
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def key_of(name, seed_hex):
    priv = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    pub = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + pub).digest()[:4]
    return priv, pub, key_id


def main(argv):
    if len(argv) == 4 and argv[1] == "--vkey":
        _, pub, key_id = key_of(argv[2], argv[3])
        print("%s+%s+%s" % (argv[2], key_id.hex(),
                            base64.b64encode(b"\x04" + pub).decode()))
        return 0
    if len(argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    name, seed_hex, ts = argv[1], argv[2], int(argv[3])
    priv, _, key_id = key_of(name, seed_hex)
    if len(argv) == 5:
        key_id = bytes.fromhex(argv[4])
    note = sys.stdin.buffer.read().decode("utf-8")
    body, sep, _ = note.partition("\n\n")
    if not sep:
        sys.stderr.write("the note has no blank line\n")
        return 2
    body += "\n"
    message = b"cosignature/v1\ntime %d\n" % ts + body.encode("utf-8")
    blob = key_id + struct.pack(">Q", ts) + priv.sign(message)
    if not note.endswith("\n"):
        note += "\n"
    sys.stdout.write(note + "\u2014 " + name + " " + base64.b64encode(blob).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Checks tests/data/key-rotation.json from docs/FORMAT.md alone.

Written from the text of docs/FORMAT.md ("Key rotation statements") and
C2SP signed-note, not from the C++ code: rebuilds the statement's text, the
key ids and verifier-key strings from the two seeds, signs it with
`cryptography` (Ed25519 is deterministic, so the note must come out byte
for byte) and verifies both signature lines of the stored note.

Usage: key_rotation_check.py KEY_ROTATION_JSON [--write]
  --write  (re)writes the vector file from the seeds instead of checking it.
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EM_DASH = "\u2014"


def raw_public(private):
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name, public):
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]


def verifier_key(name, public):
    return "%s+%s+%s" % (name, key_id(name, public).hex(),
                         base64.b64encode(b"\x01" + public).decode())


def statement(v):
    old = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["old_seed"]))
    new = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["new_seed"]))
    old_vk = verifier_key(v["old_name"], raw_public(old))
    new_vk = verifier_key(v["new_name"], raw_public(new))
    text = ("indelible/v1/key-rotation\nlog %s\nold %s\nnew %s\ntime %d\n"
            % (v["log_name"], old_vk, new_vk, v["timestamp_ns"]))
    lines = []
    for name, key in ((v["old_name"], old), (v["new_name"], new)):
        sig = key.sign(text.encode())
        lines.append("%s %s %s\n" % (EM_DASH, name, base64.b64encode(
            key_id(name, raw_public(key)) + sig).decode()))
    return old_vk, new_vk, text, text + "\n" + "".join(lines)


def verify(note, old_vk, new_vk):
    """Verifies a statement as a third party would: split at the blank line,
    and find a valid signature by each key its text names."""
    text, sigs = note.split("\n\n", 1)
    text += "\n"
    fields = dict(line.split(" ", 1) for line in text.splitlines()[1:])
    assert text.splitlines()[0] == "indelible/v1/key-rotation"
    assert fields["old"] == old_vk and fields["new"] == new_vk
    for vk in (fields["old"], fields["new"]):
        name, kid, b64 = vk.split("+", 2)
        public = base64.b64decode(b64)[1:]
        found = False
        for line in sigs.splitlines():
            prefix = EM_DASH + " " + name + " "
            if not line.startswith(prefix):
                continue
            blob = base64.b64decode(line[len(prefix):])
            if blob[:4].hex() != kid:
                continue
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
            found = True
        assert found, "no signature by " + vk


def main():
    path = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--write":
        v = {
            "comment": "A key rotation statement (docs/FORMAT.md); checked by "
                       "tests/chain/key_rotation_check.py and key_rotation_test.cc",
            "log_name": "audit.example.com",
            "old_name": "indelible",
            "old_seed": bytes(range(32)).hex(),
            "new_name": "indelible",
            "new_seed": bytes(range(32, 64)).hex(),
            "timestamp_ns": 1767225600000000000,
        }
        v["old_verifier_key"], v["new_verifier_key"], v["text"], v["note"] = statement(v)
        with open(path, "w") as f:
            json.dump(v, f, indent=2)
            f.write("\n")
        return 0
    with open(path) as f:
        v = json.load(f)
    old_vk, new_vk, text, note = statement(v)
    assert v["old_verifier_key"] == old_vk, "old verifier key"
    assert v["new_verifier_key"] == new_vk, "new verifier key"
    assert v["text"] == text, "text"
    assert v["note"] == note, "note"
    verify(v["note"], old_vk, new_vk)
    # A statement with a changed byte, or only the old key's line, fails.
    tampered = v["note"].replace("time 1", "time 2", 1)
    try:
        verify(tampered, old_vk, new_vk)
        raise AssertionError("a tampered statement verified")
    except Exception as e:  # InvalidSignature
        if isinstance(e, AssertionError) and "verified" in str(e):
            raise
    print("key rotation vector: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

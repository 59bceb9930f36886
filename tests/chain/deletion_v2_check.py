#!/usr/bin/env python3
"""Checks tests/data/deletion-v2.json from docs/FORMAT.md alone.

Written from the text of docs/FORMAT.md section 16 ("Deletion
certificates"), C2SP signed-note and RFC 9162, not from the C++ code:
rebuilds the version 2 certificate's text from its fields, signs it with
`cryptography` (Ed25519 is deterministic, so the note must come out byte for
byte), verifies the signature as a third party would, and checks that the
final tree extends the auditor's kept checkpoint by the consistency proof
(tests/rfc9162.py). The tree is the one of tests/data/format-v2.json.

Usage: deletion_v2_check.py DELETION_V2_JSON [--write FORMAT_V2_JSON]
  --write  (re)writes the vector file from format-v2.json's tree and key.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rfc9162 import verify_consistency  # noqa: E402

EM_DASH = "\u2014"


def raw_public(private):
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name, public):
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]


def b64(hex_digest):
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def certificate_text(v):
    """FORMAT.md 15: seven or more lines, each ending in a newline."""
    text = "indelible/v2/deletion/%s\n" % v["tenant"]
    text += "origin %s/%s\n" % (v["log_name"], v["tenant"])
    text += "size %d\n" % v["final_size"]
    text += "root %s\n" % b64(v["final_root_hex"])
    text += "chain %s\n" % b64(v["final_chain_head_hex"])
    text += "time %d\n" % v["timestamp_ns"]
    for name in v["approvers"]:
        assert name and len(name.encode()) <= 256
        assert all(0x20 <= ord(c) != 0x7F for c in name)
        text += "approver %s\n" % name
    return text


def sign(v, text):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["private_key_seed_hex"]))
    blob = key_id(v["key_name"], raw_public(key)) + key.sign(text.encode())
    return "%s\n%s %s %s\n" % (text, EM_DASH, v["key_name"], base64.b64encode(blob).decode())


def verify(note, verifier_key):
    """The signed-note check: the text up to the blank line, and a signature
    line of the key's name whose key id and Ed25519 signature match."""
    text, sigs = note.split("\n\n", 1)
    text += "\n"
    name, kid, key_b64 = verifier_key.split("+", 2)
    public = base64.b64decode(key_b64)[1:]
    for line in sigs.splitlines():
        prefix = EM_DASH + " " + name + " "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix):])
        if blob[:4].hex() == kid:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
            return text
    raise AssertionError("no signature by " + verifier_key)


def parse(text):
    lines = text[:-1].split("\n")
    assert lines[0].startswith("indelible/v2/deletion/")
    fields = [line.split(" ", 1) for line in lines[1:]]
    assert [k for k, _ in fields[:5]] == ["origin", "size", "root", "chain", "time"]
    assert all(k == "approver" for k, _ in fields[5:]) and len(fields) > 5
    return dict(fields[:5]), [a for _, a in fields[5:]]


def main():
    path = sys.argv[1]
    if len(sys.argv) > 3 and sys.argv[2] == "--write":
        with open(sys.argv[3]) as f:
            tree = json.load(f)
        final = max(int(k) for k in tree["roots_hex"])
        kept = next(p for p in tree["consistency_proofs"] if p["new_size"] == final)
        v = {
            "comment": "A version 2 deletion certificate (docs/FORMAT.md section 16) over the "
                       "tree of format-v2.json; checked by tests/chain/deletion_v2_check.py "
                       "and deletion_test.cc",
            "key_name": tree["checkpoint"]["key_name"],
            "private_key_seed_hex": tree["checkpoint"]["private_key_seed_hex"],
            "verifier_key": tree["checkpoint"]["verifier_key"],
            "log_name": tree["log_name"],
            "tenant": tree["tenant"],
            "final_size": final,
            "final_root_hex": tree["roots_hex"][str(final)],
            "final_chain_head_hex": tree["records"][final - 1]["entry_hash_hex"],
            "timestamp_ns": 1767225600000000000,
            "approvers": ["alice@ops.example", "bob@ops.example"],
            "kept_size": kept["old_size"],
            "kept_root_hex": tree["roots_hex"][str(kept["old_size"])],
            "consistency_proof_hex": kept["proof_hex"],
        }
        v["text"] = certificate_text(v)
        v["note"] = sign(v, v["text"])
        with open(path, "w") as f:
            json.dump(v, f, indent=2)
            f.write("\n")
        return 0
    with open(path) as f:
        v = json.load(f)
    text = certificate_text(v)
    assert v["text"] == text, "text"
    assert v["note"] == sign(v, text), "note"
    fields, approvers = parse(verify(v["note"], v["verifier_key"]))
    assert approvers == v["approvers"], "approvers"
    final_root = base64.b64decode(fields["root"])
    assert verify_consistency(v["kept_size"], int(fields["size"]),
                              [bytes.fromhex(h) for h in v["consistency_proof_hex"]],
                              bytes.fromhex(v["kept_root_hex"]), final_root), "consistency"
    # A changed byte breaks the signature; another root breaks the proof.
    try:
        verify(v["note"].replace("size ", "size 1", 1), v["verifier_key"])
        raise RuntimeError("a tampered certificate verified")
    except RuntimeError:
        raise
    except Exception:  # InvalidSignature
        pass
    assert not verify_consistency(v["kept_size"], int(fields["size"]),
                                  [bytes.fromhex(h) for h in v["consistency_proof_hex"]],
                                  bytes.fromhex(v["kept_root_hex"]),
                                  bytes(32)), "a wrong root verified"
    print("deletion certificate v2 vector: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks format v2 proofs the way a third party would: RFC 9162 section
2.1.3.2 (inclusion) and 2.1.4.2 (consistency) verification, written from the
RFC with hashlib only (tests/rfc9162.py), and the leaf hash of
docs/FORMAT.md section 13.1.

Reads one JSON object on stdin:
  {"kind": "inclusion", "note": <checkpoint note>, "seq": N,
   "entry_hash": <hex>, "category": <str>, "proof": [<base64>...]}
  {"kind": "consistency", "old_note": ..., "note": ..., "proof": [...]}
Exits 0 if the proof verifies against the notes' sizes and roots, 1 if not.
"""
import base64
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rfc9162 import (leaf_data, leaf_hash, verify_consistency,  # noqa: E402
                     verify_inclusion)


def size_root(note):
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2], validate=True)


def main():
    q = json.load(sys.stdin)
    proof = [base64.b64decode(p, validate=True) for p in q["proof"]]
    size, root = size_root(q["note"])
    if q["kind"] == "inclusion":
        leaf = leaf_hash(leaf_data(bytes.fromhex(q["entry_hash"]), q["category"]))
        ok = verify_inclusion(q["seq"] - 1, size, leaf, proof, root)
    else:
        old_size, old_root = size_root(q["old_note"])
        ok = verify_consistency(old_size, size, proof, old_root, root)
    print("ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

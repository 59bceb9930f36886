#!/usr/bin/env python3
"""Checks format v2 proofs the way a third party would: RFC 9162 section
2.1.3.2 (inclusion) and 2.1.4.2 (consistency) verification, written from the
RFC with hashlib only, and the leaf hash of docs/FORMAT.md section 13.1.

Reads one JSON object on stdin:
  {"kind": "inclusion", "note": <checkpoint note>, "seq": N,
   "entry_hash": <hex>, "category": <str>, "proof": [<base64>...]}
  {"kind": "consistency", "old_note": ..., "note": ..., "proof": [...]}
Exits 0 if the proof verifies against the notes' sizes and roots, 1 if not.
"""
import base64
import hashlib
import json
import sys


def h(data):
    return hashlib.sha256(data).digest()


def size_root(note):
    lines = note.split("\n")
    return int(lines[1]), base64.b64decode(lines[2], validate=True)


def leaf_hash(entry_hash_hex, category):
    cat = category.encode()
    data = (b"indelible/v2/leaf\x00" + bytes.fromhex(entry_hash_hex)
            + len(cat).to_bytes(4, "big") + cat)
    return h(b"\x00" + data)


def node(left, right):
    return h(b"\x01" + left + right)


def verify_inclusion(index, size, leaf, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size, new_size, proof, old_root, new_root):
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0 or old_size > new_size or not proof:
        return False
    if old_size & (old_size - 1) == 0:  # a power of two: prepend old_root
        proof = [old_root] + proof
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def main():
    q = json.load(sys.stdin)
    proof = [base64.b64decode(p, validate=True) for p in q["proof"]]
    size, root = size_root(q["note"])
    if q["kind"] == "inclusion":
        ok = verify_inclusion(q["seq"] - 1, size,
                              leaf_hash(q["entry_hash"], q["category"]), proof, root)
    else:
        old_size, old_root = size_root(q["old_note"])
        ok = verify_consistency(old_size, size, proof, old_root, root)
    print("ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

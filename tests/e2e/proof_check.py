#!/usr/bin/env python3
"""Checks Merkle proofs served by indelibled from RFC 9162 alone.

Written from docs/FORMAT.md ("Format v2") and RFC 9162 section 2.1, not from
the C++ code. Input JSON (written by tests/e2e/tree_e2e_test.cc):
  leaves:      [{"entry_hash": hex, "category": str}]  records 1..N in order
  roots:       {"<size>": hex}                         served checkpoint roots
  inclusion:   [{"index", "size", "proof": [hex]}]
  consistency: [{"old", "new", "proof": [hex]}]
Every proof must verify (RFC 9162 2.1.3.2, 2.1.4.2) against roots computed
here from the leaves, and equal the proof of the RFC's recursive definition.
Exit 0 if all pass. Usage: proof_check.py PROOFS_JSON
"""
import hashlib
import json
import struct
import sys


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry_hash, category):
    c = category.encode()
    data = b"indelible/v2/leaf\x00" + entry_hash + struct.pack(">I", len(c)) + c
    return sha256(b"\x00" + data)


def node(l, r):
    return sha256(b"\x01" + l + r)


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(h):
    if not h:
        return sha256(b"")
    if len(h) == 1:
        return h[0]
    k = split(len(h))
    return node(mth(h[:k]), mth(h[k:]))


def path(m, h):
    if len(h) <= 1:
        return []
    k = split(len(h))
    if m < k:
        return path(m, h[:k]) + [mth(h[k:])]
    return path(m - k, h[k:]) + [mth(h[:k])]


def subproof(m, h, b):
    if m == len(h):
        return [] if b else [mth(h)]
    k = split(len(h))
    if m <= k:
        return subproof(m, h[:k], b) + [mth(h[k:])]
    return subproof(m - k, h[k:], False) + [mth(h[:k])]


def verify_inclusion(index, size, leaf, proof, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, proof, m_root, n_root):
    if m == n:
        return not proof and m_root == n_root
    if m == 0 or m > n or not proof:
        return False
    proof = list(proof)
    if m & (m - 1) == 0:
        proof.insert(0, m_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == m_root and sr == n_root and sn == 0


def main():
    data = json.load(open(sys.argv[1]))
    leaves = [leaf_hash(bytes.fromhex(l["entry_hash"]), l["category"]) for l in data["leaves"]]
    failed = []
    for size, root in data["roots"].items():
        if mth(leaves[:int(size)]).hex() != root:
            failed.append("root of size %s" % size)
    for p in data["inclusion"]:
        i, n = p["index"], p["size"]
        proof = [bytes.fromhex(x) for x in p["proof"]]
        if not verify_inclusion(i, n, leaves[i], proof, mth(leaves[:n])):
            failed.append("inclusion %d in %d does not verify" % (i, n))
        if proof != path(i, leaves[:n]):
            failed.append("inclusion %d in %d is not PATH" % (i, n))
    for p in data["consistency"]:
        m, n = p["old"], p["new"]
        proof = [bytes.fromhex(x) for x in p["proof"]]
        if not verify_consistency(m, n, proof, mth(leaves[:m]), mth(leaves[:n])):
            failed.append("consistency %d -> %d does not verify" % (m, n))
        want = [] if m == n else subproof(m, leaves[:n], True)
        if proof != want:
            failed.append("consistency %d -> %d is not PROOF" % (m, n))
    for f in failed:
        print("FAIL:", f)
    print("checked %d roots, %d inclusion and %d consistency proofs, %d failed" % (
        len(data["roots"]), len(data["inclusion"]), len(data["consistency"]), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

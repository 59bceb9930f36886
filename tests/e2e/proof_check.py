#!/usr/bin/env python3
"""Checks Merkle proofs served by indelibled from RFC 9162 alone.

Written from docs/FORMAT.md ("Format v2") and RFC 9162 section 2.1, not from
the C++ code (tests/rfc9162.py). Input JSON (from tests/e2e/tree_e2e_test.cc):
  leaves:      [{"entry_hash": hex, "category": str}]  records 1..N in order
  roots:       {"<size>": hex}                         served checkpoint roots
  inclusion:   [{"index", "size", "proof": [hex]}]
  consistency: [{"old", "new", "proof": [hex]}]
Every proof must verify (RFC 9162 2.1.3.2, 2.1.4.2) against roots computed
here from the leaves, and equal the proof of the RFC's recursive definition.
Exit 0 if all pass. Usage: proof_check.py PROOFS_JSON
"""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rfc9162 import (consistency, leaf_data, leaf_hash, mth, path,  # noqa: E402
                     verify_consistency, verify_inclusion)


def main():
    data = json.load(open(sys.argv[1]))
    leaves = [leaf_hash(leaf_data(bytes.fromhex(l["entry_hash"]), l["category"]))
              for l in data["leaves"]]
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
        if proof != consistency(m, leaves[:n]):
            failed.append("consistency %d -> %d is not PROOF" % (m, n))
    for f in failed:
        print("FAIL:", f)
    print("checked %d roots, %d inclusion and %d consistency proofs, %d failed" % (
        len(data["roots"]), len(data["inclusion"]), len(data["consistency"]), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

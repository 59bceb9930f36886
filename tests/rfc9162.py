"""RFC 9162 section 2.1 Merkle trees and proofs, and the format v2 leaf.

Written from RFC 9162 and docs/FORMAT.md ("Format v2") with hashlib only,
not from the C++ code, so that the tests that import it check the C++
library and the daemon against a second, independent implementation.
"""
import hashlib
import struct


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_data(entry_hash, category):
    """The format v2 leaf: "indelible/v2/leaf" 0x00, the entry hash, the
    category as a u32 big-endian length and its UTF-8 bytes."""
    c = category.encode()
    return b"indelible/v2/leaf\x00" + entry_hash + struct.pack(">I", len(c)) + c


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split_point(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes):
    """MTH over leaf hashes (already hashed with 0x00), section 2.1.1."""
    if not hashes:
        return sha256(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = split_point(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def path(m, hashes):
    """PATH(m, D[n]), section 2.1.3.1."""
    n = len(hashes)
    if n <= 1:
        return []
    k = split_point(n)
    if m < k:
        return path(m, hashes[:k]) + [mth(hashes[k:])]
    return path(m - k, hashes[k:]) + [mth(hashes[:k])]


def subproof(m, hashes, b):
    """SUBPROOF(m, D[n], b), section 2.1.4.1."""
    n = len(hashes)
    if m == n:
        return [] if b else [mth(hashes)]
    k = split_point(n)
    if m <= k:
        return subproof(m, hashes[:k], b) + [mth(hashes[k:])]
    return subproof(m - k, hashes[k:], False) + [mth(hashes[:k])]


def consistency(m, hashes):
    """PROOF(m, D[n]); empty for m == 0 and m == n."""
    if m == 0 or m == len(hashes):
        return []
    return subproof(m, hashes, True)


def verify_inclusion(index, size, leaf, proof, root):
    """Section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, proof, first_hash, second_hash):
    """Section 2.1.4.2 (equal sizes: an empty proof and equal roots)."""
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0 or first > second or not proof:
        return False
    proof = list(proof)
    if first & (first - 1) == 0:
        proof.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0

#!/usr/bin/env python3
"""Checks that a signed report is complete, as docs/REPORTS.md ("The range
proof") says, written from that page and docs/FORMAT.md with the Python
standard library only (signatures with `openssl pkeyutl -verify -rawin`).

Usage: report_check.py REPORT REPORT_KEY_PEM LOG_KEY_PEM
Prints "complete: seqs A..B" and exits 0, or prints the problem and exits 1.
"""
import base64
import csv
import datetime
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile

H = lambda *parts: hashlib.sha256(b"".join(parts)).digest()  # noqa: E731
u64 = lambda n: struct.pack(">Q", n)  # noqa: E731
s = lambda x: struct.pack(">I", len(x.encode())) + x.encode()  # noqa: E731


# The CSV text cells, in canonical event order after tenant and event_id
# (docs/FORMAT.md section 3).
TEXT = ["tenant", "event_id", "actor_id", "actor_type", "actor_ip", "action",
        "resource_type", "resource_id", "reason", "outcome", "source", "category"]


def ns(t):  # RFC 3339 with nanoseconds, UTC, as reports write it
    date, frac = t.rstrip("Z").split(".")
    d = datetime.datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int(frac.ljust(9, "0"))


def fail(msg):
    print("FAILED: " + msg)
    sys.exit(1)


def ed25519_ok(pem, message, signature):
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, n) for n in ("m", "s")]
        for p, data in zip(paths, (message, signature)):
            with open(p, "wb") as f:
                f.write(data)
        return subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem,
                               "-rawin", "-in", paths[0], "-sigfile", paths[1]],
                              capture_output=True).returncode == 0


def main():
    report, report_key, log_key = sys.argv[1:4]
    raw = open(report + ".manifest.json", "rb").read()
    if not ed25519_ok(report_key, raw, open(report + ".manifest.json.sig", "rb").read()):
        fail("manifest signature")
    m = json.loads(raw)
    data = open(report, "rb").read()
    if hashlib.sha256(data).hexdigest() != m["report"]["sha256"]:
        fail("report sha256")
    proof_raw = open(os.path.join(os.path.dirname(report), m["proof"]["file"]), "rb").read()
    if hashlib.sha256(proof_raw).hexdigest() != m["proof"]["sha256"]:
        fail("proof sha256")
    p = json.loads(proof_raw)
    tenant, a, b = m["tenant"], p["first_seq"], p["last_seq"]
    if p["tenant"] != tenant:
        fail("proof tenant")

    # Rows: seq -> (entry hash, category, and for CSV its recomputed body
    # digest and received_at: the cells rebuild the canonical event).
    at = {}
    if m["report"]["format"] == "json":  # the row's own canonical event and salt
        rows = [(r["seq"], r["entry_hash"], r["category"],
                 (int(r["received_at_ns"]), H(base64.b64decode(r["salt"]),
                                              base64.b64decode(r["canonical_event"]))))
                for r in json.loads(data)["rows"]]
    else:
        table = list(csv.reader(io.StringIO(data.decode(), newline="")))
        defused = m["report"]["csv_formulas"] == "defuse"
        rows = []
        for cells in table[1:]:
            c = dict(zip(table[0], cells))
            for k in TEXT:
                if defused and c[k].startswith("'"):
                    c[k] = c[k][1:]
            md = sorted(json.loads(c["metadata"]).items(), key=lambda kv: kv[0].encode())
            ce = b"indelible/v1/event\0" + s(c["tenant"]) + s(c["event_id"]) + \
                u64(ns(c["occurred_at"])) + b"".join(s(c[k]) for k in TEXT[2:]) + \
                struct.pack(">I", len(md)) + b"".join(s(k) + s(v) for k, v in md)
            body = H(bytes.fromhex(c["salt"]), ce)
            rows.append((int(c["seq"]), c["entry_hash"], c["category"],
                         (ns(c["received_at"]), body)))
    for seq, entry, category, cells in rows:
        at[seq] = ("row", bytes.fromhex(entry), category, cells)
    for leaf in p["leaves"]:
        if leaf["seq"] in at:
            fail("seq %d twice" % leaf["seq"])
        at[leaf["seq"]] = ("leaf", bytes.fromhex(leaf["entry_hash"]), leaf["category"], leaf)
    if len(at) != len(rows) + len(p["leaves"]):
        fail("a seq appears twice")
    if at and (min(at) < a or max(at) > b):
        fail("a seq outside %d..%d" % (a, b))

    # The window the leaves must lie outside (received_at only).
    f = m["filters"]
    others = any(f[k] is not None for k in
                 ("actor_id", "action", "resource_type", "resource_id", "outcome"))

    lo = ns(f["from"]) if f["time_field"] == "received_at" and f["from"] else None
    hi = ns(f["to"]) if f["time_field"] == "received_at" and f["to"] else None

    # RFC 9162 fold: the frontier's subtrees, then one leaf per seq a..b.
    stack = []  # (size, hash), sizes strictly decreasing
    size = a - 1
    for bit, h in zip([1 << i for i in reversed(range(64)) if (a - 1) >> i & 1],
                      p["frontier"]):
        stack.append((bit, bytes.fromhex(h)))
    if len(stack) != bin(a - 1).count("1") or len(p["frontier"]) != len(stack):
        fail("frontier length")
    prev = bytes.fromhex(p["prev_entry_hash"])
    for seq in range(a, b + 1):
        if seq not in at:
            fail("seq %d is neither a row nor a leaf" % seq)
        kind, entry, category, leaf = at[seq]
        if kind == "row":  # its content (CE or cells) must hash to its entry hash
            t, body = leaf
            if H(b"indelible/v1/entry\0", s(tenant), u64(seq), u64(t), prev, body) != entry:
                fail("seq %d: the row's cells do not hash to its entry_hash" % seq)
        if seq == a > 1 and (lo is None or kind == "row"):
            fail("seq %d: the range starts inside the window" % seq)
        if kind == "leaf":
            t = int(leaf["received_at_ns"])
            want = H(b"indelible/v1/entry\0", s(tenant), u64(seq), u64(t), prev,
                     bytes.fromhex(leaf["body_digest"]))
            if want != entry:
                fail("seq %d: entry hash does not follow" % seq)
            inside = (lo is None or t >= lo) and (hi is None or t < hi)
            if seq == a and a > 1 and lo is not None and t >= lo:
                fail("seq %d: the range starts inside the window" % seq)
            if inside and not leaf["pruned"] and not others and \
                    f["category"] in (None, category) and f["time_field"] == "received_at":
                fail("seq %d matches the filters but is not a row" % seq)
        stack.append((1, H(b"\0", b"indelible/v2/leaf\0", entry, s(category))))
        while len(stack) > 1 and stack[-1][0] == stack[-2][0]:
            (n, right), (_, left) = stack.pop(), stack.pop()
            stack.append((2 * n, H(b"\1", left, right)))
        prev = entry
        size += 1
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = H(b"\1", left, root)

    # The checkpoint of size b: its text, binding and the log's signature.
    note = p["checkpoint"]
    text, _, sigs = note.partition("\n\n")
    lines = text.split("\n")
    if lines[0].rsplit("/", 1)[1] != tenant or int(lines[1]) != b or size != b:
        fail("checkpoint is not of %s at size %d" % (tenant, b))
    if base64.b64decode(lines[2]) != root:
        fail("root of seqs 1..%d differs from the checkpoint's" % b)
    if base64.b64decode(lines[3].split(" ")[1]) != prev:
        fail("checkpoint chain line differs from entry_hash(%d)" % b)
    signed = any(ed25519_ok(log_key, (text + "\n").encode(),
                            base64.b64decode(line.split(" ")[-1])[4:])
                 for line in sigs.split("\n") if line.startswith("\u2014 "))
    if not signed:
        fail("checkpoint not signed by the log key")
    print("complete: seqs %d..%d" % (a, b))


if __name__ == "__main__":
    main()

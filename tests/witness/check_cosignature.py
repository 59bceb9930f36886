#!/usr/bin/env python3
"""Checks witness cosignatures from the C2SP specifications alone.

Written from C2SP signed-note and tlog-cosignature, not from the C++ code:
the witness verifier key (<name>+<hex key id>+<base64(0x04 || pubkey)>), the
key id SHA-256(name || "\\n" || 0x04 || pubkey)[:4], the signature line
"— <name> <base64(key_id || u64 timestamp || signature)>", and the signed
message "cosignature/v1\\n" "time <ts>\\n" || note body. Ed25519 is not in
the Python standard library, so signatures are checked with
`openssl pkeyutl -verify -rawin`.

Usage: check_cosignature.py VERIFIER_KEY CASES_JSONL
Each line of CASES_JSONL is {"note": <the log's signed note>,
"response": <the witness's 200 response body>}. Prints "N passed, M failed".
"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

# SubjectPublicKeyInfo DER prefix of an Ed25519 key (RFC 8410).
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def parse_vkey(vkey):
    # The name has no "+"; the base64 of the key may have some.
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    raw = base64.b64decode(key_b64, validate=True)
    if len(raw) != 33 or raw[0] != 0x04:
        raise ValueError("not an Ed25519 cosignature/v1 key")
    pub = raw[1:]
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + pub).digest()[:4]
    if key_id.hex() != key_id_hex:
        raise ValueError("key id does not match the key")
    return name, key_id, pub


def check_case(name, key_id, pub, note, response, tmp):
    """Returns None if the response is one valid cosignature of the note."""
    body, sep, _ = note.partition("\n\n")
    if not sep:
        return "note has no blank line"
    body += "\n"
    lines = response.split("\n")
    if len(lines) != 2 or lines[1] != "":
        return "response is not exactly one line"
    prefix = "\u2014 " + name + " "
    if not lines[0].startswith(prefix):
        return "signature line does not start with the witness name"
    blob = base64.b64decode(lines[0][len(prefix):], validate=True)
    if len(blob) != 4 + 8 + 64:
        return "signature blob is %d bytes, want 76" % len(blob)
    if blob[:4] != key_id:
        return "key id differs"
    (ts,) = struct.unpack(">Q", blob[4:12])
    if ts > 2**63 - 1:
        return "timestamp above 2^63 - 1"
    message = b"cosignature/v1\n" + b"time %d\n" % ts + body.encode()
    paths = {k: os.path.join(tmp, k) for k in ("pub.pem", "msg", "sig")}
    pem = (b"-----BEGIN PUBLIC KEY-----\n" +
           base64.b64encode(ED25519_SPKI_PREFIX + pub) +
           b"\n-----END PUBLIC KEY-----\n")
    for k, data in (("pub.pem", pem), ("msg", message), ("sig", blob[12:])):
        with open(paths[k], "wb") as f:
            f.write(data)
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                        paths["pub.pem"], "-rawin", "-in", paths["msg"],
                        "-sigfile", paths["sig"]], capture_output=True)
    if r.returncode != 0:
        return "openssl: signature does not verify: " + r.stdout.decode().strip()
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    name, key_id, pub = parse_vkey(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp, open(sys.argv[2]) as f:
        for i, line in enumerate(f):
            case = json.loads(line)
            err = check_case(name, key_id, pub, case["note"], case["response"], tmp)
            if err is None:
                passed += 1
            else:
                failed += 1
                print("FAIL case %d: %s" % (i, err))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Re-check an `snledger export history` CSV without snledger (SPEC section 2).

Usage: python3 verify_history.py history.csv
Recomputes every event's hash, SHA-256 of
prev_hash, seq, event_id, at, actor, kind, payload joined by newlines,
and checks that seq counts 1, 2, 3, ... and each prev_hash is the previous hash.
Prints OK and exits 0, or names the first bad seq and exits 1.
Python 3 standard library only.
"""
import csv, hashlib, sys

prev, expected = "0" * 64, 1
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    for row in csv.DictReader(f):
        # Exports add one leading ' to spreadsheet-formula-like cells: remove exactly one.
        e = {k: v[1:] if v.startswith("'") else v for k, v in row.items()}
        text = "\n".join([prev, e["seq"], e["event_id"], e["at"], e["actor"], e["kind"], e["payload"]])
        if e["seq"] != str(expected) or e["prev_hash"] != prev or hashlib.sha256(text.encode("utf-8")).hexdigest() != e["hash"]:
            print(f"BAD: first bad seq {e['seq']}")
            sys.exit(1)
        prev, expected = e["hash"], expected + 1
print(f"OK: {expected - 1} events, chain intact")

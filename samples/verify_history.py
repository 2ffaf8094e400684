#!/usr/bin/env python3
"""Re-check an `snledger export history` CSV without snledger (docs/reference.md "Checking
an exported log without snledger").

Usage: python3 verify_history.py history.csv [--digest SEQ:HASH]...
Recomputes every event's hash, SHA-256 of
prev_hash, seq, event_id, at, actor, kind, payload joined by newlines,
and checks that seq counts up by one and each prev_hash is the previous hash.
A whole log starts at seq 1 with 64 zeros. An extract that starts later is
accepted only with a --digest (a head kept outside, from `snledger digest`)
that it passes through. Each --digest SEQ:HASH must be in the file with that
hash. Prints OK and exits 0, or says what is wrong and exits 1.
Python 3 standard library only.
"""
import argparse, csv, hashlib, sys

parser = argparse.ArgumentParser(description="Check an exported snledger log.")
parser.add_argument("file")
parser.add_argument("--digest", action="append", default=[], metavar="SEQ:HASH",
                    help="a head kept outside the file; repeatable")
args = parser.parse_args()
digests = {}
for anchor in args.digest:
    seq, _, digest = anchor.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        sys.exit(f"--digest {anchor!r}: expected SEQ:HASH (a seq and 64 hex digits)")
    digests[int(seq)] = digest.lower()

def bad(message):
    print(f"BAD: {message}")
    sys.exit(1)

prev, first, last = None, None, 0
with open(args.file, newline="", encoding="utf-8-sig") as f:
    for row in csv.DictReader(f):
        # Exports add one leading ' to spreadsheet-formula-like cells: remove exactly one.
        e = {k: v[1:] if v.startswith("'") else v for k, v in row.items()}
        if not e["seq"].isdigit():
            bad(f"row {last + 2}: seq {e['seq']!r} is not a number")
        seq = int(e["seq"])
        if first is None:
            first, prev = seq, ("0" * 64 if seq == 1 else e["prev_hash"])
        elif seq != last + 1:
            bad(f"seq {seq} follows seq {last}: events are missing or out of order")
        text = "\n".join([prev, e["seq"], e["event_id"], e["at"], e["actor"], e["kind"], e["payload"]])
        if e["prev_hash"] != prev:
            bad(f"seq {seq}: prev_hash is not the hash of seq {seq - 1}")
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != e["hash"]:
            bad(f"seq {seq}: the hash does not match the event")
        if seq in digests and digests[seq] != e["hash"]:
            bad(f"seq {seq}: the hash is not the digest's {digests[seq]}")
        prev, last = e["hash"], seq

if first is None:
    bad("no events in the file")
for seq in sorted(digests):
    if seq > last:
        bad(f"the log ends at seq {last}, before the digest's seq {seq} (a cut tail?)")
    if seq < first:
        bad(f"the digest's seq {seq} is before the file's first seq {first}")
if first != 1 and not digests:
    bad(f"not a whole log: it starts at seq {first}; give --digest SEQ:HASH of a head kept outside to check an extract")
through = "".join(f", passes through seq {seq}" for seq in sorted(digests))
print(f"OK: {last - first + 1} events (seq {first} to {last}), chain intact{through}")

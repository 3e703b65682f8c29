#!/usr/bin/env python3
"""Golden verdicts: run tlsblame over every capture in samples/MANIFEST.tsv
and compare outcome, rejected_by, rejected, cause and the alerts on the wire
with what the manifest records (what the real stacks did and what a perfect
analyst concludes). A key log beside a capture is used. Prints TAP."""
import json
import os
import re
import subprocess
import sys


def expected_alerts(cell):
    plain, enc = [], []
    if cell in ("none", "-", ""):
        return plain, enc
    for item in cell.split(","):
        parts = item.split(":")
        if len(parts) == 2 and parts[1] == "encrypted":
            enc.append(parts[0])
        elif len(parts) == 3:
            m = re.search(r"\((\d+)\)", parts[2])
            plain.append((parts[0], parts[1], int(m.group(1)) if m else None))
    return plain, enc


def main():
    binary, samples = sys.argv[1], sys.argv[2]
    extra = sys.argv[3:]
    rows = []
    with open(os.path.join(samples, "MANIFEST.tsv")) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    n = fails = 0
    for row in rows:
        n += 1
        path = os.path.join(samples, row["file"])
        cmd = [binary, "--json", "-q"] + extra
        if row.get("keylog") not in (None, "", "-"):
            cmd += ["--keylog", os.path.join(samples, row["keylog"])]
        res = subprocess.run(cmd + [path], capture_output=True, text=True)
        sessions = [json.loads(l) for l in res.stdout.splitlines()]
        sessions = [s for s in sessions if s.get("type") == "session"]
        problems = []
        if res.returncode != 0:
            problems.append("exit status %d: %s" % (res.returncode, res.stderr.strip()[:200]))
        if len(sessions) != 1:
            problems.append("%d sessions reported, want 1" % len(sessions))
        else:
            s = sessions[0]
            v = s.get("verdict") or {}
            want = {"outcome": row["outcome"]}
            got = {"outcome": s["outcome"]}
            if row["outcome"] != "success":
                for k in ("rejected_by", "rejected", "cause"):
                    want[k] = row[k]
                    got[k] = v.get(k)
            if want != got:
                problems.append("verdict %s, want %s" % (got, want))
            plain, enc = expected_alerts(row["alert"])
            ours_plain = [(a["from"], a["level"], a["code"]) for a in s["alerts"] if not a["encrypted"]]
            if ours_plain != plain:
                problems.append("plaintext alerts %s, want %s" % (ours_plain, plain))
            if enc and row["outcome"] == "failed" and not plain:
                first = [a for a in s["alerts"]][:1]
                if not first or first[0]["from"] != enc[0]:
                    problems.append("first alert %s, want an encrypted one from the %s" % (first, enc[0]))
        if problems:
            fails += 1
            print("not ok %d - %s" % (n, row["file"]))
            for p in problems:
                print("#   " + p)
        else:
            print("ok %d - %s: %s%s" % (n, row["file"], row["outcome"],
                                        "" if row["outcome"] == "success" else " " + row["cause"]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Per-connection TCP payload bytes, per direction, as tlsblame counts them
versus tshark (tcp.len summed by directed endpoint pair) over the corpus.
Tunnelled packets are keyed by their innermost addresses, as tlsblame does."""
import collections
import json
import os
import subprocess
import sys


def ep(ip, port):
    return ("[%s]:%s" % (ip, port)) if ":" in ip else ("%s:%s" % (ip, port))


def tshark_bytes(path):
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=\t",
         "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst",
         "-e", "tcp.dstport", "-e", "tcp.len", "-e", "frame.protocols"],
        capture_output=True, text=True).stdout
    count = collections.Counter()
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 8 or not f[6]:
            continue
        # innermost header: whichever of ip / ipv6 comes last in frame.protocols
        layers = [x for x in f[7].split(":") if x in ("ip", "ipv6")]
        inner6 = bool(layers) and layers[-1] == "ipv6"
        src = (f[1] if inner6 else f[0]).split(",")[-1]
        dst = (f[4] if inner6 else f[3]).split(",")[-1]
        sport, dport = f[2].split(",")[-1], f[5].split(",")[-1]
        count[(ep(src, sport), ep(dst, dport))] += int(f[6].split(",")[-1])
    return count


# Known, explained differences: (file, from, to) -> reason.
EXCEPTIONS = {
    ("ndpi/ossfuzz_seed_fake_traces_1.pcapng", "192.168.1.128:1", "1.2.3.4:11"):
        "fake trace: a segment whose IP length and captured length disagree by one byte",
}


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    files = []
    with open(os.path.join(corpus, "MANIFEST.tsv")) as f:
        next(f)
        files = [line.split("\t")[0] for line in f]
    checked = bad = 0
    for rel in files:
        path = os.path.join(corpus, rel)
        res = subprocess.run([binary, "--json", "-q", path], capture_output=True, text=True)
        ours = collections.Counter()
        for line in res.stdout.splitlines():
            o = json.loads(line)
            if o.get("type") != "session":
                continue
            c = ep(o["client"]["ip"], o["client"]["port"])
            s = ep(o["server"]["ip"], o["server"]["port"])
            ours[(c, s)] += o["tcp"]["client"]["bytes"]
            ours[(s, c)] += o["tcp"]["server"]["bytes"]
        if not ours:
            continue
        theirs = tshark_bytes(path)
        for key, n in sorted(ours.items()):
            checked += 1
            if (rel, key[0], key[1]) in EXCEPTIONS:
                continue
            if theirs.get(key, 0) != n:
                bad += 1
                print("%s: %s -> %s: tlsblame %d bytes, tshark %d" % (rel, key[0], key[1], n,
                                                                      theirs.get(key, 0)))
    print("%d directions checked, %d differ (%d explained exceptions)" % (checked, bad,
                                                                        len(EXCEPTIONS)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

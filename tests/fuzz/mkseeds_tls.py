#!/usr/bin/env python3
"""Cut per-direction TCP byte streams out of captures (tshark follow,tcp,raw)
and encode them in fuzz_tls.c's chunk format:
  op (bit0 dir, bits1-3 kind: 0 data, 6 gap, 7 close; bit4 rst), len16, bytes."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from tcp_streams import follow  # noqa: E402


def encode(chunks, close=True, swap=False):
    out = bytearray()
    for d, b in chunks:
        if swap:
            d ^= 1
        for i in range(0, len(b), 0xffff):
            part = b[i:i + 0xffff]
            out += struct.pack(">BH", d, len(part)) + part
    if close:
        out += bytes([0x0e, 0x0f])  # FIN from client, then server
    return bytes(out)

if __name__ == "__main__":
    outdir, name, path, stream = sys.argv[1:5]
    swap = len(sys.argv) > 5 and sys.argv[5] == "swap"
    ch = follow(path, int(stream), [])
    if not ch:
        sys.exit(f"{path}: stream {stream}: nothing")
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(encode(ch, swap=swap))
    print(name, len(ch), "chunks", sum(len(b) for _, b in ch), "bytes")

#!/usr/bin/env python3
"""Cut per-direction TCP byte streams out of captures (tshark follow,tcp,raw)
and encode them in fuzz_tls.c's chunk format:
  op (bit0 dir, bits1-3 kind: 0 data, 6 gap, 7 close; bit4 rst), len16, bytes."""
import subprocess, sys, os, struct

def follow(path, stream, extra):
    out = subprocess.run(["tshark", "-r", path] + extra + ["-q", "-z", f"follow,tcp,raw,{stream}"],
                         capture_output=True, text=True).stdout
    chunks = []
    started = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or line.startswith("====="):
            continue
        d = 1 if line.startswith("\t") else 0
        hx = line.strip()
        if not hx:
            continue
        chunks.append((d, bytes.fromhex(hx)))
    return chunks

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

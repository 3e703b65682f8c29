"""Per-direction TCP payload of one connection in a capture, in capture order,
as tshark reassembles it (`-z follow,tcp,raw,N`). Shared by the generators of
test inputs: tests/unit/gen_tls_vectors.py and tests/fuzz/mkseeds_tls.py."""
import subprocess


def follow(path, stream=0, extra=()):
    """[(direction, bytes)], direction 0 = the connection's first speaker (client)."""
    out = subprocess.run(["tshark", "-r", path, *extra, "-q", "-z", f"follow,tcp,raw,{stream}"],
                         capture_output=True, text=True, check=True).stdout
    chunks = []
    started = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or line.startswith("====="):
            continue
        hx = line.strip()
        if hx:
            chunks.append((1 if line.startswith("\t") else 0, bytes.fromhex(hx)))
    return chunks

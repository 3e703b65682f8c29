#!/usr/bin/env python3
"""silent-server.py HOST PORT -- accepts one TCP connection, reads what the
client sends and never answers: a TLS server that hangs (overloaded, a proxy
waiting on its backend, a firewall that lets SYNs through). The client gives
up on its own timeout; the capture shows a ClientHello and the client's close."""
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(1)
c, peer = ls.accept()
c.settimeout(0.5)
print(f"silent-server: connection from {peer[0]}:{peer[1]}, not answering", flush=True)
end = time.time() + 6
while time.time() < end:
    try:
        data = c.recv(65536)
        if not data:
            print("silent-server: the client closed", flush=True)
            break
        print(f"silent-server: read {len(data)} bytes", flush=True)
    except socket.timeout:
        pass
c.close()

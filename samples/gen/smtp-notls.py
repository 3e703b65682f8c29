#!/usr/bin/env python3
"""smtp-notls.py HOST PORT -- a one-connection plaintext SMTP responder for the
tlsblame STARTTLS sample. It greets, advertises STARTTLS in its EHLO answer and
then refuses STARTTLS with "454 4.7.0 TLS not available due to local problem",
Postfix's answer when smtpd_tls_security_level allows TLS but the certificate
or key cannot be loaded. Whatever the client sends next (a ClientHello, if it
starts TLS anyway) is answered like Postfix answers an unknown command, and
the connection is closed after a few commands or a short idle time."""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(1)
c, peer = ls.accept()
c.settimeout(5)
log = lambda m: print(f"smtp-notls: {m}", flush=True)


def send(line):
    c.sendall(line.encode() + b"\r\n")
    log(f"S: {line}")


send("220 server.test ESMTP Postfix (Debian/GNU)")
buf = b""
try:
    for _ in range(8):
        while b"\n" not in buf:
            d = c.recv(4096)
            if not d:
                raise EOFError
            buf += d
            if len(buf) > 16 and b"\n" not in buf[:512] and not buf[:1].isalpha():
                break                      # binary (a TLS record), no line end to wait for
        if b"\n" in buf and buf[:1].isalpha():
            line, buf = buf.split(b"\n", 1)
            cmd = line.strip().decode("latin-1")
        else:
            cmd, buf = repr(buf[:16]) + f"... ({len(buf)} bytes, not a command)", b""
        log(f"C: {cmd}")
        verb = cmd.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            send("250-server.test")
            send("250-PIPELINING")
            send("250-SIZE 10240000")
            send("250-STARTTLS")
            send("250 8BITMIME")
        elif verb == "STARTTLS":
            send("454 4.7.0 TLS not available due to local problem")
        elif verb == "QUIT":
            send("221 2.0.0 Bye")
            break
        else:
            send("502 5.5.2 Error: command not recognized")
except (EOFError, socket.timeout, ConnectionError) as e:
    log(f"connection ended: {type(e).__name__}")
c.close()
log("closed")

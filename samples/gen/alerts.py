#!/usr/bin/env python3
"""alerts.py CAPTURE SERVER_PORT [KEYLOG [DISSECTOR]]

Lists the TLS alert records in a capture, as tshark sees them, in two forms:
line 1: the MANIFEST "alert" column, what is readable on the wire without keys:
        side:level:name(code) for a plaintext alert, side:encrypted for an
        encrypted one (TLS 1.2 record type 21 after ChangeCipherSpec, or a
        TLS 1.3 application_data record that decrypts to an alert), comma-
        separated in frame order; "none" if there is none.
line 2: the same with encrypted alerts decrypted where the key log allows it:
        side:encrypted:level:name(code).
line 3: the version the ServerHello negotiated ("TLS 1.3"), "-" if none was seen.
In TLS 1.3 without a key log an encrypted alert is indistinguishable from a
short application_data record; 19-byte (2 + 1 + 16-byte tag) records are
reported as side:encrypted? (heuristic) so they can be checked by hand.
DISSECTOR (default tls) is what the server port is decoded as: pgsql, smtp,
imap, pop, ftp or ldap for captures where TLS starts after a plaintext
preamble (SSLRequest, STARTTLS, AUTH TLS, StartTLS), so tshark follows the
preamble into TLS.
"""
import json
import subprocess
import sys

NAMES = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
         22: "record_overflow", 40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
         43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
         46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
         50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
         80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
         109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
         113: "bad_certificate_status_response", 115: "unknown_psk_identity", 116: "certificate_required",
         120: "no_application_protocol"}
LEVEL = {1: "warning", 2: "fatal"}


def as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def main():
    cap, sport = sys.argv[1], sys.argv[2]
    keylog = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] not in ("", "-") else None
    dissector = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else "tls"
    cmd = ["tshark", "-n", "-r", cap, "-T", "json", "--no-duplicate-keys", "-d", f"tcp.port=={sport},{dissector}", "-Y", "tls"]
    if keylog:
        cmd[1:1] = ["-o", f"tls.keylog_file:{keylog}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    pkts = json.loads(out) if out.strip() else []
    wire, dec = [], []
    version = None
    VERS = {"0x0300": "SSL 3.0", "0x0301": "TLS 1.0", "0x0302": "TLS 1.1", "0x0303": "TLS 1.2", "0x0304": "TLS 1.3"}

    def find(obj, key):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k == key:
                    yield v
                else:
                    yield from find(v, key)
        elif isinstance(obj, list):
            for v in obj:
                yield from find(v, key)

    for p in pkts:
        layers = p["_source"]["layers"]
        if version is None:
            for hs in find(layers.get("tls"), "tls.handshake"):
                for h in as_list(hs):
                    if isinstance(h, dict) and h.get("tls.handshake.type") == "2":
                        sv = list(find(h, "tls.handshake.extensions.supported_version"))
                        version = VERS.get(sv[0] if sv else h.get("tls.handshake.version"), "?")
                        break
        tcp = layers.get("tcp", {})
        side = "server" if tcp.get("tcp.srcport") == sport else "client"
        for tls in as_list(layers.get("tls")):
            if not isinstance(tls, dict):
                continue
            recs = []
            for k, v in tls.items():
                if k.startswith("tls.record"):
                    recs.extend(as_list(v))
            for r in recs:
                if not isinstance(r, dict):
                    continue
                ct = r.get("tls.record.content_type")
                opaque = r.get("tls.record.opaque_type")
                length = int(r.get("tls.record.length", "0"))
                alert = r.get("tls.alert_message")
                if isinstance(alert, list):
                    alert = alert[0]
                if opaque is not None:          # TLS 1.3 protected record
                    if ct == "21" and isinstance(alert, dict):
                        lv, ds = int(alert["tls.alert_message.level"]), int(alert["tls.alert_message.desc"])
                        wire.append(f"{side}:encrypted")
                        dec.append(f"{side}:encrypted:{LEVEL.get(lv, lv)}:{NAMES.get(ds, ds)}({ds})")
                    elif ct is None and length == 19:
                        wire.append(f"{side}:encrypted?")
                        dec.append(f"{side}:encrypted?")
                    continue
                if ct != "21":
                    continue
                readable = isinstance(alert, dict) and "tls.alert_message.desc" in alert
                if readable:
                    lv, ds = int(alert["tls.alert_message.level"]), int(alert["tls.alert_message.desc"])
                    s = f"{LEVEL.get(lv, lv)}:{NAMES.get(ds, ds)}({ds})"
                if readable and length == 2:
                    wire.append(f"{side}:{s}")
                    dec.append(f"{side}:{s}")
                elif readable:                  # TLS <= 1.2 alert after CCS, decrypted with the key log
                    wire.append(f"{side}:encrypted")
                    dec.append(f"{side}:encrypted:{s}")
                else:
                    wire.append(f"{side}:encrypted")
                    dec.append(f"{side}:encrypted")
    print(",".join(wire) or "none")
    print(",".join(dec) or "none")
    print(version or "-")


if __name__ == "__main__":
    main()

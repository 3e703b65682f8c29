#!/usr/bin/env python3
"""Assertions on one tlsblame --json run (stdin), for tests/keylog/run.sh.
Prints nothing and exits 0 when every assertion holds; otherwise one line
per failure on stdout and exit 1.

  check.py truth TRUTH.json        handshake messages and alerts equal tshark's
                                   decrypted view (streams[].handshake / alerts)
  check.py expect [--decrypted m1,m2] [--cv valid|invalid] [--scv valid|invalid]
                  [--alert SIDE:CODE|SIDE:*] [--app-line TEXT] [--not-decrypted]
                  [--auth-failure] [--alpn P]
"""
import json
import sys

SKIP = {"change_cipher_spec", "application_data", "encrypted_handshake", "fin", "rst",
        "heartbeat", "alert"}


def sessions(text):
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if obj.get("type") == "session":
            out.append(obj)
    return out


def d2(ev):
    return "c2s" if ev["from"] == "client" else "s2c"


def truth(sess, truth_path):
    with open(truth_path) as f:
        t = json.load(f)
    fails = []
    streams = [s for s in t["streams"] if s.get("protocol") == "tls"]
    if len(streams) != len(sess):
        fails.append("%d TLS streams in truth, %d sessions" % (len(streams), len(sess)))
    for st, se in zip(streams, sess):
        want = [(h["frame"], h["dir"], h["msg"]) for h in st["handshake"]]
        got = [(e["frame"], d2(e), e["msg"]) for e in se["handshake"] if e["msg"] not in SKIP]
        if want != got:
            fails.append("handshake differs:\n  tshark   %s\n  tlsblame %s" % (want, got))
        want_alerts = [(a["frame"], a["dir"], a["level"], a["desc"]) for a in st.get("alerts", [])]
        levels = {"warning": 1, "fatal": 2}
        got_alerts = [(a["frame"], d2(a), levels.get(a.get("level")), a.get("code"))
                      for a in se["alerts"]]
        if want_alerts != got_alerts:
            fails.append("alerts differ: tshark %s, tlsblame %s" % (want_alerts, got_alerts))
        for e in se["handshake"]:
            if e["msg"] not in SKIP and e["frame"] != st["handshake"][0]["frame"] and \
               e["msg"] not in ("client_hello", "server_hello") and \
               se["version"] == "TLS 1.3" and not e.get("decrypted"):
                fails.append("%s at frame %d not marked decrypted" % (e["msg"], e["frame"]))
    return fails


def expect(sess, args):
    fails = []
    if len(sess) != 1:
        return ["expected 1 session, got %d" % len(sess)]
    s = sess[0]
    decrypted = [e["msg"] for e in s["handshake"] if e.get("decrypted")]
    i = 0
    while i < len(args):
        a = args[i]
        v = args[i + 1] if i + 1 < len(args) else None
        if a == "--decrypted":
            for m in v.split(","):
                if m not in decrypted:
                    fails.append("%s not decrypted (decrypted: %s)" % (m, decrypted))
            if not s.get("decrypted"):
                fails.append('session "decrypted" is not true')
            i += 2
        elif a in ("--cv", "--scv"):
            cv = (s.get("client_auth") or {}).get("certificate_verify") if a == "--cv" \
                else s.get("server_certificate_verify")
            want = v == "valid"
            if cv is None or cv.get("valid") is not want:
                fails.append("%s: want valid=%s, got %s" % (a[2:], want, cv))
            i += 2
        elif a == "--alert":
            # SIDE:CODE, or SIDE:* for "some alert with its real code"
            side, code = v.split(":")
            real = [al.get("code") for al in s["alerts"]
                    if al["from"] == side and al.get("code") is not None and
                    (al.get("decrypted") or not al.get("encrypted"))]
            if not real or (code != "*" and int(code) not in real):
                fails.append("no %s alert %s with its real code (alerts: %s)" %
                             (side, code, [(al["from"], al.get("code"), al.get("decrypted"))
                                           for al in s["alerts"]]))
            i += 2
        elif a == "--app-line":
            # The first decrypted line reaches the JSON as verdict evidence.
            if v not in json.dumps(s.get("verdict")):
                fails.append("no application line %r in the verdict" % v)
            i += 2
        elif a == "--alpn":
            if s.get("alpn_selected") != v:
                fails.append("alpn_selected %r, want %r" % (s.get("alpn_selected"), v))
            i += 2
        elif a == "--not-decrypted":
            if s.get("decrypted") or decrypted:
                fails.append("decrypted although the key log does not match: %s" % decrypted)
            i += 1
        elif a == "--auth-failure":
            errs = [d.get("parse_error") or "" for d in s["tcp"].values() if isinstance(d, dict)]
            if not any("failed authentication" in e for e in errs):
                fails.append("no authentication failure reported (parse errors: %s)" % errs)
            i += 1
        else:
            fails.append("check.py: unknown option %s" % a)
            i += 1
    return fails


def main():
    sess = sessions(sys.stdin.read())
    if sys.argv[1] == "truth":
        fails = truth(sess, sys.argv[2])
    else:
        fails = expect(sess, sys.argv[2:])
    for f in fails:
        print(f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

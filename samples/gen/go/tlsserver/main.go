// tlsserver: a tiny crypto/tls server for tlsblame sample captures.
// Standard library only. It accepts -n connections on -addr, runs the TLS
// handshake, reads one line, answers it, and closes. Errors go to stderr in
// the net/http wording ("http: TLS handshake error from ...").
package main

import (
	"bufio"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"
)

func version(s string) uint16 {
	switch s {
	case "1.0":
		return tls.VersionTLS10
	case "1.1":
		return tls.VersionTLS11
	case "1.2":
		return tls.VersionTLS12
	case "1.3":
		return tls.VersionTLS13
	}
	return 0
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address")
	certf := flag.String("cert", "", "server certificate chain (PEM)")
	keyf := flag.String("key", "", "server key (PEM)")
	caf := flag.String("ca", "", "client CA file (PEM)")
	auth := flag.String("auth", "require", "none|request|require-any|verify-if-given|require")
	minv := flag.String("min", "1.2", "min version")
	maxv := flag.String("max", "1.3", "max version")
	keylog := flag.String("keylog", "", "NSS key log file")
	alpn := flag.String("alpn", "", "comma-separated ALPN protocols (NextProtos)")
	mode := flag.String("mode", "tls", "tls | close-after-hello (read the ClientHello, close without any alert)")
	signkey := flag.String("signkey", "", "sign the handshake with this key (PEM, PKCS#8) instead of -key: it need not match the certificate (bad ServerKeyExchange / CertificateVerify)")
	garbage := flag.Bool("garbage-cert", false, "send 64 bytes that are not DER as the certificate (with the real -key)")
	n := flag.Int("n", 1, "connections to serve")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("go-server: ")

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	var cfg *tls.Config
	if *mode == "tls" {
		cert, err := tls.LoadX509KeyPair(*certf, *keyf)
		if err != nil {
			log.Fatal(err)
		}
		if *signkey != "" {
			// assembled by hand: tls.X509KeyPair would refuse a key that does not match
			cert.PrivateKey = loadKey(*signkey)
		}
		if *garbage {
			cert.Certificate = [][]byte{junk()}
			cert.Leaf = nil
		}
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version(*minv), MaxVersion: version(*maxv)}
		switch *auth {
		case "none":
			cfg.ClientAuth = tls.NoClientCert
		case "request":
			cfg.ClientAuth = tls.RequestClientCert
		case "require-any":
			cfg.ClientAuth = tls.RequireAnyClientCert
		case "verify-if-given":
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		default:
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
		if *caf != "" {
			pem, err := os.ReadFile(*caf)
			if err != nil {
				log.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			cfg.ClientCAs = pool
		}
		if *alpn != "" {
			cfg.NextProtos = strings.Split(*alpn, ",")
		}
		if *keylog != "" {
			f, err := os.OpenFile(*keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0600)
			if err != nil {
				log.Fatal(err)
			}
			defer f.Close()
			cfg.KeyLogWriter = f
		}
	}
	for i := 0; i < *n; i++ {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		serve(c, cfg, *mode)
	}
}

func loadKey(path string) crypto.PrivateKey {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		log.Fatal("no PEM key in ", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

// junk: 64 bytes that do not parse as a certificate (a DER SEQUENCE header
// announcing more bytes than follow, then text).
func junk() []byte {
	b := []byte{0x30, 0x82, 0x04, 0x00}
	for len(b) < 64 {
		b = append(b, []byte("not a certificate ")...)
	}
	return b[:64]
}

func serve(c net.Conn, cfg *tls.Config, mode string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(8 * time.Second))
	if mode == "close-after-hello" {
		buf := make([]byte, 16384)
		n, _ := c.Read(buf)
		log.Printf("read %d bytes of ClientHello from %s, closing without an alert", n, c.RemoteAddr())
		return
	}
	tc := tls.Server(c, cfg)
	if err := tc.Handshake(); err != nil {
		log.Printf("http: TLS handshake error from %s: %v", c.RemoteAddr(), err)
		return
	}
	st := tc.ConnectionState()
	subj := "-"
	if len(st.PeerCertificates) > 0 {
		subj = st.PeerCertificates[0].Subject.String()
	}
	log.Printf("handshake ok: version %x cipher %s alpn %q client %s", st.Version, tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol, subj)
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil && err != io.EOF {
		log.Printf("read: %v", err)
		return
	}
	fmt.Fprintf(tc, "hello %s", line)
	tc.Close()
}

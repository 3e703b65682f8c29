// tlsclient: a tiny crypto/tls client for tlsblame sample captures.
// Standard library only. -key may name a private key that does NOT match the
// certificate: the pair is assembled by hand (no tls.X509KeyPair check), so
// the CertificateVerify is signed with the wrong key (bad_certificate_verify).
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
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
	addr := flag.String("addr", "127.0.0.1:8443", "server address")
	sni := flag.String("sni", "server.test", "server name (SNI and verification)")
	caf := flag.String("ca", "", "trusted roots (PEM)")
	certf := flag.String("cert", "", "client certificate chain (PEM)")
	keyf := flag.String("key", "", "client private key (PEM), need not match -cert")
	minv := flag.String("min", "1.2", "min version")
	maxv := flag.String("max", "1.3", "max version")
	keylog := flag.String("keylog", "", "NSS key log file")
	alpn := flag.String("alpn", "", "comma-separated ALPN protocols")
	garbage := flag.Bool("garbage-cert", false, "send 64 bytes that are not DER as the client certificate (with the real -key)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("go-client: ")

	cfg := &tls.Config{ServerName: *sni, MinVersion: version(*minv), MaxVersion: version(*maxv)}
	if *caf != "" {
		b, err := os.ReadFile(*caf)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(b)
		cfg.RootCAs = pool
	}
	if *certf != "" {
		b, err := os.ReadFile(*certf)
		if err != nil {
			log.Fatal(err)
		}
		var cert tls.Certificate
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if blk.Type == "CERTIFICATE" {
				cert.Certificate = append(cert.Certificate, blk.Bytes)
			}
		}
		kb, err := os.ReadFile(*keyf)
		if err != nil {
			log.Fatal(err)
		}
		kblk, _ := pem.Decode(kb)
		if kblk == nil {
			log.Fatal("no PEM key")
		}
		key, err := x509.ParsePKCS8PrivateKey(kblk.Bytes)
		if err != nil {
			log.Fatal(err)
		}
		cert.PrivateKey = key
		if *garbage {
			// a Certificate message whose only entry does not parse
			b := []byte{0x30, 0x82, 0x04, 0x00}
			for len(b) < 64 {
				b = append(b, []byte("not a certificate ")...)
			}
			cert.Certificate = [][]byte{b[:64]}
			// cfg.Certificates would be skipped (it does not parse): hand it over as is
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		} else {
			cfg.Certificates = []tls.Certificate{cert}
		}
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
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(&d, "tcp", *addr, cfg)
	if err != nil {
		log.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	st := c.ConnectionState()
	log.Printf("handshake ok: version %x cipher %s alpn %q", st.Version, tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol)
	if _, err := fmt.Fprintf(c, "ping from go\n"); err != nil {
		log.Fatalf("write: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		log.Fatalf("read: %v", err)
	}
	log.Printf("got %q", strings.TrimSpace(line))
}

// benchgen: writes benchmark captures for tlsblame (tests/bench/run.sh).
//
// Standard library only. Real TLS from Go's crypto/tls runs between a client
// and a server joined by an in-memory pipe; every Write on either end is
// recorded and written as Ethernet/IPv4/TCP frames to a pcap file, with SYN /
// SYN-ACK / ACK, correct sequence and acknowledgement numbers, segments of at
// most -mss bytes, a pure ACK every second segment, and FIN/ACK at the end.
// The TLS bytes are real (a real stack made them); only the TCP/IP framing is
// synthesized, so nothing is lost the way tcpdump on a busy loopback drops.
//
//	benchgen -mode handshake -n 25000 -o hs.pcap   # mutual-TLS handshakes
//	benchgen -mode bulk -gb 1.4 -conns 4 -o bulk.pcap
//
// handshake: TLS 1.2 and 1.3 alternate; -clients distinct client certificates
// (ECDSA P-256, from an intermediate under the client root); -fail of the
// connections use a certificate from a CA the server does not trust (the
// server rejects it with an alert). Connections run -par at a time and their
// packets are interleaved in groups of -interleave connections, so the
// analyzer's flow table holds many flows at once, as on a real link.
// bulk: -conns connections, each a mutual-TLS handshake followed by the server
// sending -gb/-conns GB of application data in 16 KiB records.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"sync"
	"time"
)

// ---- PKI ----

type ca struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

var serial int64

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

func issue(parent *ca, cn string, isCA bool, eku []x509.ExtKeyUsage, dns []string) *ca {
	key := newKey()
	serial++
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"tlsblame bench"}},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		ExtKeyUsage:           eku,
		DNSNames:              dns,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	if err != nil {
		log.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return &ca{c, der, key}
}

func tlsCert(leaf *ca, chain ...*ca) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.der}, PrivateKey: leaf.key, Leaf: leaf.cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.der)
	}
	return tc
}

func writePEM(path string, cas ...*ca) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range cas {
		pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: c.der})
	}
	f.Close()
}

// ---- in-memory connection pair (unbounded buffers: no write ever blocks) ----

type pipeHalf struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newHalf() *pipeHalf { h := &pipeHalf{}; h.cond = sync.NewCond(&h.mu); return h }

type memConn struct {
	rd, wr *pipeHalf
	rec    *recorder
	dir    int // 0: client->server, 1: server->client
}

type fakeAddr string

func (a fakeAddr) Network() string { return "mem" }
func (a fakeAddr) String() string  { return string(a) }

func (c *memConn) Read(p []byte) (int, error) {
	h := c.rd
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.buf) == 0 && !h.closed {
		h.cond.Wait()
	}
	if len(h.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	if len(h.buf) == 0 {
		h.buf = nil
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	h := c.wr
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return 0, io.ErrClosedPipe
	}
	// Record under the receiving half's lock: the peer cannot read (and so
	// cannot answer) these bytes before they are in the capture.
	c.rec.data(c.dir, p)
	h.buf = append(h.buf, p...)
	h.cond.Broadcast()
	h.mu.Unlock()
	return len(p), nil
}

func (c *memConn) Close() error {
	c.rec.fin(c.dir)
	for _, h := range []*pipeHalf{c.wr, c.rd} {
		h.mu.Lock()
		h.closed = true
		h.cond.Broadcast()
		h.mu.Unlock()
	}
	return nil
}

func (c *memConn) LocalAddr() net.Addr                { return fakeAddr("local") }
func (c *memConn) RemoteAddr() net.Addr               { return fakeAddr("remote") }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

func connPair(rec *recorder) (client, server *memConn) {
	c2s, s2c := newHalf(), newHalf()
	return &memConn{rd: s2c, wr: c2s, rec: rec, dir: 0}, &memConn{rd: c2s, wr: s2c, rec: rec, dir: 1}
}

// ---- TCP framing and pcap ----

type frame []byte // Ethernet frame; timestamp assigned when written

type recorder struct {
	mu      sync.Mutex
	ip      [2][4]byte
	port    [2]uint16
	seq     [2]uint32
	finSent [2]bool
	unacked [2]int // data segments from dir not yet acknowledged
	mss     int
	frames  []frame
	flush   func([]frame) // bulk: called when frames grow large; nil: keep all
}

func newRecorder(id int, mss int) *recorder {
	r := &recorder{mss: mss}
	cli := 1 + id%60000
	r.ip[0] = [4]byte{10, byte(1 + id/60000%200), byte(cli >> 8), byte(cli)}
	r.ip[1] = [4]byte{10, 0, 0, 1}
	r.port[0] = uint16(20000 + id%40000)
	r.port[1] = 443
	r.seq[0] = uint32(id)*2654435761 + 1
	r.seq[1] = uint32(id)*40503 + 7
	// three-way handshake
	r.emit(0, tcpSYN, nil)
	r.emit(1, tcpSYN|tcpACK, nil)
	r.emit(0, tcpACK, nil)
	return r
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

func csum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// emit appends one frame from dir with the given flags and payload.
func (r *recorder) emit(dir int, flags byte, payload []byte) {
	o := 1 - dir
	f := make([]byte, 14+20+20+len(payload))
	// Ethernet
	copy(f[0:6], []byte{0x02, 0, 0, 0, 0, byte(2 - dir)})
	copy(f[6:12], []byte{0x02, 0, 0, 0, 0, byte(1 + dir)})
	f[12], f[13] = 0x08, 0x00
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	ip[6] = 0x40 // DF
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:16], r.ip[dir][:])
	copy(ip[16:20], r.ip[o][:])
	binary.BigEndian.PutUint16(ip[10:], csum(ip, 0))
	tcp := f[34:54]
	binary.BigEndian.PutUint16(tcp[0:], r.port[dir])
	binary.BigEndian.PutUint16(tcp[2:], r.port[o])
	binary.BigEndian.PutUint32(tcp[4:], r.seq[dir])
	if flags&tcpACK != 0 {
		binary.BigEndian.PutUint32(tcp[8:], r.seq[o])
	}
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	copy(f[54:], payload)
	// TCP checksum over the pseudo header
	var ph uint32
	ph += uint32(r.ip[dir][0])<<8 | uint32(r.ip[dir][1])
	ph += uint32(r.ip[dir][2])<<8 | uint32(r.ip[dir][3])
	ph += uint32(r.ip[o][0])<<8 | uint32(r.ip[o][1])
	ph += uint32(r.ip[o][2])<<8 | uint32(r.ip[o][3])
	ph += 6 + uint32(20+len(payload))
	binary.BigEndian.PutUint16(tcp[16:], csum(f[34:], ph))
	r.seq[dir] += uint32(len(payload))
	if flags&(tcpSYN|tcpFIN) != 0 {
		r.seq[dir]++
	}
	r.frames = append(r.frames, f)
	if r.flush != nil && len(r.frames) >= 4096 {
		r.flush(r.frames)
		r.frames = nil
	}
}

func (r *recorder) data(dir int, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(p) > 0 {
		n := len(p)
		if n > r.mss {
			n = r.mss
		}
		fl := byte(tcpACK)
		if n == len(p) {
			fl |= tcpPSH
		}
		r.emit(dir, fl, p[:n])
		p = p[n:]
		r.unacked[dir]++
		if r.unacked[dir] >= 2 { // delayed ACK: every second segment
			r.emit(1-dir, tcpACK, nil)
			r.unacked[dir] = 0
		}
	}
}

func (r *recorder) fin(dir int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finSent[dir] {
		return
	}
	if r.unacked[1-dir] > 0 {
		r.unacked[1-dir] = 0
	}
	r.finSent[dir] = true
	r.emit(dir, tcpFIN|tcpACK, nil)
	if r.finSent[1-dir] {
		r.emit(1-dir, tcpACK, nil)
	}
}

type pcapWriter struct {
	mu      sync.Mutex
	w       *bufio.Writer
	f       *os.File
	ts      time.Time
	packets int64
	bytes   int64
}

func newPcap(path string) *pcapWriter {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	w.Write(hdr)
	return &pcapWriter{w: w, f: f, ts: time.Now().Add(-time.Minute)}
}

// write appends frames in order, each 5 microseconds after the previous one.
func (p *pcapWriter) write(frames []frame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rh [16]byte
	for _, f := range frames {
		p.ts = p.ts.Add(5 * time.Microsecond)
		binary.LittleEndian.PutUint32(rh[0:], uint32(p.ts.Unix()))
		binary.LittleEndian.PutUint32(rh[4:], uint32(p.ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(f)))
		p.w.Write(rh[:])
		p.w.Write(f)
		p.packets++
		p.bytes += int64(len(f)) + 16
	}
}

func (p *pcapWriter) close() {
	if err := p.w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := p.f.Close(); err != nil {
		log.Fatal(err)
	}
}

// interleave merges several connections' frames round-robin, a few frames
// from each in turn, keeping each connection's own order.
func interleave(conns [][]frame) []frame {
	var out []frame
	for more := true; more; {
		more = false
		for i := range conns {
			n := 3
			if n > len(conns[i]) {
				n = len(conns[i])
			}
			out = append(out, conns[i][:n]...)
			conns[i] = conns[i][n:]
			if len(conns[i]) > 0 {
				more = true
			}
		}
	}
	return out
}

// ---- main ----

func main() {
	mode := flag.String("mode", "handshake", "handshake | bulk")
	out := flag.String("o", "", "output pcap")
	n := flag.Int("n", 25000, "handshake: connections")
	clients := flag.Int("clients", 300, "handshake: distinct trusted client certificates")
	failPct := flag.Int("fail", 10, "handshake: percent of connections with an untrusted client certificate")
	par := flag.Int("par", 8, "connections in flight")
	group := flag.Int("interleave", 32, "handshake: connections whose packets are interleaved")
	gb := flag.Float64("gb", 1.4, "bulk: total application data, GB (10^9 bytes)")
	conns := flag.Int("conns", 4, "bulk: connections")
	mss := flag.Int("mss", 1448, "TCP payload per segment")
	caOut := flag.String("ca-out", "", "write the server and client roots here (PEM), for --ca-file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("benchgen: ")
	if *out == "" {
		log.Fatal("-o is required")
	}

	// PKI: server root -> server intermediate -> server leaf; client root ->
	// client intermediate -> clients; a rogue root -> rogue clients.
	srvRoot := issue(nil, "bench server root", true, nil, nil)
	srvInt := issue(srvRoot, "bench server intermediate", true, nil, nil)
	srvLeaf := issue(srvInt, "server.bench.test", false,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []string{"server.bench.test"})
	cliRoot := issue(nil, "bench client root", true, nil, nil)
	cliInt := issue(cliRoot, "bench client intermediate", true, nil, nil)
	rogueRoot := issue(nil, "bench rogue root", true, nil, nil)
	if *caOut != "" {
		writePEM(*caOut, srvRoot, cliRoot)
	}
	clientEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	good := make([]tls.Certificate, *clients)
	for i := range good {
		good[i] = tlsCert(issue(cliInt, fmt.Sprintf("client-%04d.bench.test", i), false, clientEKU, nil), cliInt)
	}
	nbad := *clients / 10
	if nbad < 1 {
		nbad = 1
	}
	bad := make([]tls.Certificate, nbad)
	for i := range bad {
		bad[i] = tlsCert(issue(rogueRoot, fmt.Sprintf("rogue-%04d.bench.test", i), false, clientEKU, nil))
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(cliRoot.cert)
	rootCAs := x509.NewCertPool()
	rootCAs.AddCert(srvRoot.cert)
	srvCfg := &tls.Config{
		Certificates:           []tls.Certificate{tlsCert(srvLeaf, srvInt)},
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              clientCAs,
		MinVersion:             tls.VersionTLS12,
		SessionTicketsDisabled: true, // every handshake a full one
	}

	pw := newPcap(*out)
	var failed, ok int64
	var cmu sync.Mutex

	// one connection: handshake, then request/response (handshake mode) or
	// a bulk download (bulk mode)
	run := func(id int, cert tls.Certificate, ver uint16, bulkBytes int64, rec *recorder) {
		cc, sc := connPair(rec)
		ccfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			RootCAs:      rootCAs,
			ServerName:   "server.bench.test",
			MinVersion:   ver,
			MaxVersion:   ver,
		}
		client := tls.Client(cc, ccfg)
		server := tls.Server(sc, srvCfg)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			if err := server.Handshake(); err != nil {
				return
			}
			req := make([]byte, 512)
			if _, err := io.ReadFull(server, req); err != nil {
				return
			}
			if bulkBytes == 0 {
				server.Write(make([]byte, 2048))
			}
			buf := make([]byte, 1<<20)
			for left := bulkBytes; left > 0; {
				k := int64(len(buf))
				if k > left {
					k = left
				}
				if _, err := server.Write(buf[:k]); err != nil {
					return
				}
				left -= k
			}
			// the client closes first, as after a normal request/response
			io.Copy(io.Discard, server)
		}()
		good := func() bool {
			if err := client.Handshake(); err != nil {
				return false
			}
			if _, err := client.Write(make([]byte, 512)); err != nil {
				return false
			}
			// TLS 1.3: a rejected client certificate shows up here, as an alert
			want := bulkBytes
			if want == 0 {
				want = 2048
			}
			nr, _ := io.CopyN(io.Discard, client, want)
			return nr == want
		}()
		client.Close()
		wg.Wait()
		cmu.Lock()
		if good {
			ok++
		} else {
			failed++
		}
		cmu.Unlock()
	}

	start := time.Now()
	if *mode == "bulk" {
		per := int64(*gb * 1e9 / float64(*conns))
		for i := 0; i < *conns; i++ {
			rec := newRecorder(i, *mss)
			rec.flush = pw.write
			ver := uint16(tls.VersionTLS13)
			if i%2 == 1 {
				ver = tls.VersionTLS12
			}
			run(i, good[i%len(good)], ver, per, rec)
			pw.write(rec.frames)
		}
	} else {
		type job struct{ id int }
		jobs := make(chan int)
		results := make(chan []frame, *par*2)
		var wg sync.WaitGroup
		for w := 0; w < *par; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range jobs {
					rec := newRecorder(id, *mss)
					cert := good[id%len(good)]
					if (id*7919)%100 < *failPct {
						cert = bad[id%len(bad)]
					}
					ver := uint16(tls.VersionTLS13)
					if id%2 == 1 {
						ver = tls.VersionTLS12
					}
					run(id, cert, ver, 0, rec)
					results <- rec.frames
				}
			}()
		}
		go func() {
			for id := 0; id < *n; id++ {
				jobs <- id
			}
			close(jobs)
			wg.Wait()
			close(results)
		}()
		var pending [][]frame
		for fr := range results {
			pending = append(pending, fr)
			if len(pending) == *group {
				pw.write(interleave(pending))
				pending = nil
			}
		}
		if len(pending) > 0 {
			pw.write(interleave(pending))
		}
	}
	pw.close()
	fmt.Fprintf(os.Stderr, "benchgen: %s: %d connections (%d completed, %d failed), %d packets, %.1f MB, %.1fs\n",
		*out, ok+failed, ok, failed, pw.packets, float64(pw.bytes)/1e6, time.Since(start).Seconds())
}

// JsseClient: a tiny JSSE client for tlsblame sample captures.
// Usage: java JsseClient host=127.0.0.1 port=P sni=server.test [keystore=F] truststore=F
//        [protocols=TLSv1.2] [ciphers=A,B] [pass=changeit]
//        [warmup=server.p12]
// Endpoint identification (HTTPS hostname check) is on, against the sni name.
// warmup=KEYSTORE first runs a few complete handshakes in memory (SSLEngine
// pair, the server side using KEYSTORE) so that the JVM has loaded and
// compiled the handshake code: a warm JSSE client writes its whole second
// flight (Certificate .. Finished) at once, as a long-running application does.
import javax.net.ssl.*;
import java.io.*;
import java.nio.ByteBuffer;
import java.util.*;

public class JsseClient {
    public static void main(String[] a) throws Exception {
        Map<String, String> m = JsseServer.args(a);
        SSLContext ctx = JsseServer.context(m);
        if (m.containsKey("warmup")) warmup(ctx, m);
        java.net.Socket raw = new java.net.Socket();
        raw.connect(new java.net.InetSocketAddress(m.getOrDefault("host", "127.0.0.1"), Integer.parseInt(m.get("port"))), 5000);
        // layered socket: the peer host used for endpoint identification is the sni name
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, m.getOrDefault("sni", "server.test"), raw.getPort(), true);
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(m.getOrDefault("sni", "server.test"))));
        p.setEndpointIdentificationAlgorithm("HTTPS");
        if (m.containsKey("protocols")) p.setProtocols(m.get("protocols").split(","));
        if (m.containsKey("ciphers")) p.setCipherSuites(m.get("ciphers").split(","));
        s.setSSLParameters(p);
        System.err.println("jsse-client: java " + System.getProperty("java.version"));
        try {
            s.setSoTimeout(5000);
            s.startHandshake();
            SSLSession sess = s.getSession();
            System.err.println("jsse-client: handshake ok " + sess.getProtocol() + " " + sess.getCipherSuite());
            OutputStream o = s.getOutputStream();
            o.write("ping from java\n".getBytes());
            o.flush();
            String line = new BufferedReader(new InputStreamReader(s.getInputStream())).readLine();
            System.err.println("jsse-client: got " + line);
        } catch (Exception e) {
            System.err.println("jsse-client: " + e);
        } finally {
            s.close();
        }
    }

    static void warmup(SSLContext cctx, Map<String, String> m) throws Exception {
        Map<String, String> sm = new HashMap<>(m);
        sm.put("keystore", m.get("warmup"));
        sm.remove("truststore");
        SSLContext sctx = JsseServer.context(sm);
        TrustManager[] trustAll = { new X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}
            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}
            public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; }
        } };
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        char[] pass = m.getOrDefault("pass", "changeit").toCharArray();
        try (InputStream in = new FileInputStream(m.get("warmup"))) { ks.load(in, pass); }
        kmf.init(ks, pass);
        sctx = SSLContext.getInstance("TLS");
        sctx.init(kmf.getKeyManagers(), trustAll, null);
        SSLContext wctx = SSLContext.getInstance("TLS");
        KeyManager[] ckm = null;
        if (m.containsKey("keystore")) {
            java.security.KeyStore cks = java.security.KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(m.get("keystore"))) { cks.load(in, pass); }
            KeyManagerFactory ckmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            ckmf.init(cks, pass);
            ckm = ckmf.getKeyManagers();
        }
        wctx.init(ckm, trustAll, null);
        for (int i = 0; i < 30; i++) {
            SSLEngine c = wctx.createSSLEngine("server.test", 443), sv = sctx.createSSLEngine();
            c.setUseClientMode(true); sv.setUseClientMode(false); sv.setNeedClientAuth(true);
            if (m.containsKey("protocols")) { c.setEnabledProtocols(m.get("protocols").split(",")); sv.setEnabledProtocols(m.get("protocols").split(",")); }
            if (m.containsKey("ciphers")) { c.setEnabledCipherSuites(m.get("ciphers").split(",")); sv.setEnabledCipherSuites(m.get("ciphers").split(",")); }
            int size = 1 << 17;
            ByteBuffer c2s = ByteBuffer.allocate(size), s2c = ByteBuffer.allocate(size), app = ByteBuffer.allocate(size), empty = ByteBuffer.allocate(0);
            c.beginHandshake(); sv.beginHandshake();
            for (int n = 0; n < 200; n++) {
                pump(c, empty, c2s, s2c, app);
                pump(sv, empty, s2c, c2s, app);
                if (c.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                    && sv.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) break;
            }
        }
        System.err.println("jsse-client: warmed up");
    }

    // one step of an in-memory handshake: run tasks, wrap into out, unwrap from in
    static void pump(SSLEngine e, ByteBuffer empty, ByteBuffer out, ByteBuffer in, ByteBuffer app) throws Exception {
        Runnable t;
        while ((t = e.getDelegatedTask()) != null) t.run();
        e.wrap(empty, out);
        while ((t = e.getDelegatedTask()) != null) t.run();
        in.flip();
        if (in.hasRemaining()) e.unwrap(in, app);
        in.compact();
        while ((t = e.getDelegatedTask()) != null) t.run();
    }
}

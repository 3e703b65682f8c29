// JsseServer: a tiny JSSE server for tlsblame sample captures.
// Usage: java JsseServer port=P keystore=F truststore=F [protocols=TLSv1.2,TLSv1.3]
//        [ciphers=A,B] [auth=need|want|none] [pass=changeit] [checkdelay=MS]
// checkdelay=MS makes the trust manager wait MS milliseconds before it checks a
// client chain (as a server doing a slow revocation or directory lookup
// would), so the client's whole second flight is on the wire before the alert.
// Serves one connection: handshake, read one line, answer, close.
import javax.net.ssl.*;
import java.io.*;
import java.security.KeyStore;
import java.util.*;

public class JsseServer {
    static Map<String, String> args(String[] a) {
        Map<String, String> m = new HashMap<>();
        for (String s : a) { int i = s.indexOf('='); m.put(s.substring(0, i), s.substring(i + 1)); }
        return m;
    }
    static SSLContext context(Map<String, String> m) throws Exception {
        char[] pass = m.getOrDefault("pass", "changeit").toCharArray();
        KeyManager[] km = null;
        TrustManager[] tm = null;
        if (m.containsKey("keystore")) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(m.get("keystore"))) { ks.load(in, pass); }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pass);
            km = kmf.getKeyManagers();
        }
        if (m.containsKey("truststore")) {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(m.get("truststore"))) { ts.load(in, pass); }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            tm = tmf.getTrustManagers();
            if (m.containsKey("checkdelay")) {
                final X509ExtendedTrustManager d = (X509ExtendedTrustManager) tm[0];
                final long ms = Long.parseLong(m.get("checkdelay"));
                tm = new TrustManager[] { new X509ExtendedTrustManager() {
                    void nap() { try { Thread.sleep(ms); } catch (InterruptedException e) { } }
                    public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a, java.net.Socket s) throws java.security.cert.CertificateException { nap(); d.checkClientTrusted(c, a, s); }
                    public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a, SSLEngine e) throws java.security.cert.CertificateException { nap(); d.checkClientTrusted(c, a, e); }
                    public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) throws java.security.cert.CertificateException { nap(); d.checkClientTrusted(c, a); }
                    public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a, java.net.Socket s) throws java.security.cert.CertificateException { d.checkServerTrusted(c, a, s); }
                    public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a, SSLEngine e) throws java.security.cert.CertificateException { d.checkServerTrusted(c, a, e); }
                    public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) throws java.security.cert.CertificateException { d.checkServerTrusted(c, a); }
                    public java.security.cert.X509Certificate[] getAcceptedIssuers() { return d.getAcceptedIssuers(); }
                } };
            }
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(km, tm, null);
        return ctx;
    }
    public static void main(String[] a) throws Exception {
        Map<String, String> m = args(a);
        SSLContext ctx = context(m);
        SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory()
            .createServerSocket(Integer.parseInt(m.get("port")), 5, java.net.InetAddress.getByName("127.0.0.1"));
        if (m.containsKey("protocols")) ss.setEnabledProtocols(m.get("protocols").split(","));
        if (m.containsKey("ciphers")) ss.setEnabledCipherSuites(m.get("ciphers").split(","));
        String auth = m.getOrDefault("auth", "need");
        if (auth.equals("need")) ss.setNeedClientAuth(true);
        else if (auth.equals("want")) ss.setWantClientAuth(true);
        System.err.println("jsse-server: listening on " + m.get("port") + " java " + System.getProperty("java.version"));
        try (SSLSocket s = (SSLSocket) ss.accept()) {
            s.setSoTimeout(8000);
            try {
                s.startHandshake();
                SSLSession sess = s.getSession();
                System.err.println("jsse-server: handshake ok " + sess.getProtocol() + " " + sess.getCipherSuite());
                BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream()));
                String line = r.readLine();
                OutputStream o = s.getOutputStream();
                o.write(("hello " + line + "\n").getBytes());
                o.flush();
            } catch (Exception e) {
                System.err.println("jsse-server: " + e);
                Throwable c = e.getCause();
                if (c != null) System.err.println("jsse-server: caused by " + c);
            }
        }
        ss.close();
    }
}

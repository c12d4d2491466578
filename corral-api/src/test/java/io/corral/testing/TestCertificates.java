package io.corral.testing;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test CA and a server certificate it signed for 127.0.0.1 and localhost, made with the JDK's keytool: the CA's
 * certificate ({@code caPem}), the server's certificate and PKCS#8 key as PEM files, and the server's keystore.
 */
public record TestCertificates(Path caPem, Path certPem, Path keyPem, Path serverKeystore, char[] password) {

    /** Makes them in {@code dir}. */
    public static TestCertificates make(Path dir) throws Exception {
        char[] password = "secret".toCharArray();
        Path ca = dir.resolve("ca.p12");
        Path server = dir.resolve("server.p12");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=Corral Test CA",
                "-ext", "bc:c", "-validity", "2", "-keystore", ca.toString(), "-storepass", "secret");
        keytool("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=127.0.0.1",
                "-validity", "2", "-keystore", server.toString(), "-storepass", "secret");
        keytool("-certreq", "-alias", "server", "-keystore", server.toString(), "-storepass", "secret",
                "-file", dir.resolve("server.csr").toString());
        Path cert = dir.resolve("server.pem");
        keytool("-gencert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", "secret",
                "-infile", dir.resolve("server.csr").toString(), "-outfile", cert.toString(), "-rfc",
                "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2");
        Path caPem = dir.resolve("ca.pem");
        keytool("-exportcert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", "secret", "-rfc",
                "-file", caPem.toString());
        // the keystore's entry gets the CA-signed chain, for servers that take a keystore
        keytool("-importcert", "-noprompt", "-alias", "ca", "-keystore", server.toString(), "-storepass", "secret",
                "-file", caPem.toString());
        keytool("-importcert", "-alias", "server", "-keystore", server.toString(), "-storepass", "secret",
                "-file", cert.toString());
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(server)) {
            store.load(in, password);
        }
        byte[] pkcs8 = store.getKey("server", password).getEncoded();
        Path key = Files.writeString(dir.resolve("server.key"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pkcs8) + "\n-----END PRIVATE KEY-----\n");
        return new TestCertificates(caPem, cert, key, server, password);
    }

    /** A trust manager trusting the test CA only. */
    public X509TrustManager trust() throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            store.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        return (X509TrustManager) f.getTrustManagers()[0];
    }

    /** A server's TLS context with the CA-signed certificate (for the JDK's {@code HttpsServer}). */
    public SSLContext serverContext() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(serverKeystore)) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(keys.getKeyManagers(), null, null);
        return ssl;
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }
}

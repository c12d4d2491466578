package io.corral.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.corral.llamacpp.LlamaCppConfig;
import io.corral.llamacpp.LlamaCppEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * HTTPS: a server certificate signed by a test CA ({@code TestCertificates}, made with the JDK's keytool), served from PEM files; the official
 * OpenAI SDK, trusting that CA, chats over it; a client that does not trust it, or speaks plain HTTP, gets nothing.
 */
class TlsTest {

    @TempDir
    static Path dir;
    static io.corral.testing.TestCertificates certs;
    static Path certPem;
    static Path keyPem;

    @BeforeAll
    static void certificates() throws Exception {
        certs = io.corral.testing.TestCertificates.make(dir);
        certPem = certs.certPem();
        keyPem = certs.keyPem();
    }

    @Test
    void theOfficialSdk_chatsOverHttps_trustingTheServersCa() throws Exception {
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1));
        try (CorralServer server = CorralServer.start(ServerConfig.defaults().withPort(0)
                .withTls(new ServerConfig.Tls(certPem, keyPem)), List.of(engine))) {
            assertThat(server.url()).startsWith("https://127.0.0.1:");
            X509TrustManager trust = certs.trust();
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new javax.net.ssl.TrustManager[] {trust}, null);
            OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(server.url() + "/v1").apiKey("unused").maxRetries(0)
                    .sslSocketFactory(ssl.getSocketFactory()).trustManager(trust).build();
            var answer = openai.chat().completions().create(ChatCompletionCreateParams.builder().model("stories260K")
                    .addUserMessage("Once upon a time").maxCompletionTokens(8).temperature(0.0).build());
            assertThat(answer.choices().getFirst().message().content()).hasValueSatisfying(
                    t -> assertThat(t).startsWith(", there was a little"));

            // the JDK's own client, trusting only the platform's CAs: the handshake fails
            HttpClient untrusting = HttpClient.newHttpClient();
            assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(URI.create(server.url() + "/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString())).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            // plain HTTP to the HTTPS port gets no HTTP answer
            String plain = server.url().replace("https://", "http://");
            assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(URI.create(plain + "/v1/models"))
                    .timeout(java.time.Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void aKeyThatIsNoKey_orAMissingFile_isRefusedClearly() throws Exception {
        Path notAKey = Files.writeString(dir.resolve("not.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        LlamaCppEngine engine = LlamaCppEngine.open(LlamaCppConfig.of(ServerTest.stories()).withThreads(1));
        try {
            assertThatThrownBy(() -> CorralServer.start(ServerConfig.defaults().withPort(0)
                    .withTls(new ServerConfig.Tls(certPem, notAKey)), List.of(engine)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("cannot serve HTTPS with tls_cert " + certPem + " and tls_key " + notAKey + ": ");
        } finally {
            engine.close();
        }
        assertThatThrownBy(() -> new ServerConfig.Tls(certPem, dir.resolve("missing.key")))
                .hasMessage("tls_key " + dir.resolve("missing.key") + " cannot be read");
        assertThatThrownBy(() -> ServerConfig.Tls.of(certPem, null))
                .hasMessage("TLS needs both a certificate (tls_cert) and its key (tls_key)");
        assertThat(ServerConfig.Tls.of(null, null)).isNull();
    }
}

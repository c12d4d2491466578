package io.corral.remote;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.corral.api.ChatRequest;
import io.corral.api.InvalidRequestException;
import io.corral.api.UnavailableException;
import io.corral.testing.TestCertificates;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A remote host over HTTPS whose certificate a private CA signed (the JDK's HttpsServer speaking OpenAI's models and
 * chat routes): trusted with Llama Stack's {@code tls_verify: /path/ca.pem}, refused without it, and
 * {@code tls_verify: false} is refused as a setting.
 */
class RemoteTlsTest {

    @TempDir
    static Path dir;
    static TestCertificates certs;
    static HttpsServer host;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCertificates.make(dir);
        host = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        host.setHttpsConfigurator(new HttpsConfigurator(certs.serverContext()));
        host.createContext("/v1/models", ex -> answer(ex, "{\"object\":\"list\",\"data\":[{\"id\":\"tiny\",\"object\":\"model\"}]}"));
        host.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            answer(ex, "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"tiny\",\"choices\":[{\"index\":0,"
                    + "\"message\":{\"role\":\"assistant\",\"content\":\"over TLS\"},\"finish_reason\":\"stop\"}],"
                    + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}");
        });
        host.start();
    }

    @AfterAll
    static void stop() {
        host.stop(0);
    }

    private static void answer(com.sun.net.httpserver.HttpExchange ex, String json) throws java.io.IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    private static String base() {
        return "https://127.0.0.1:" + host.getAddress().getPort() + "/v1";
    }

    @Test
    void aHostSignedByAPrivateCa_isTrustedWithTlsVerifyNamingIt() {
        RemoteConfig config = new RemoteProviderFactory.Config(base(), null, null, null, 0, null, null, null, false,
                null, null, null, null, false, certs.caPem().toString()).remote("private", Preset.OPENAI);
        assertThat(config.caFile()).isEqualTo(certs.caPem());
        OpenAiRemoteProvider provider = new OpenAiRemoteProvider(config);
        assertThat(provider.discover()).extracting(m -> m.id()).containsExactly("tiny");
        assertThat(provider.probe()).isPositive();
        assertThat(provider.chat(ChatRequest.builder().model("tiny").user("hi").build()).text()).isEqualTo("over TLS");
    }

    @Test
    void withoutTheCa_theHandshakeFails_andFalseIsNoSetting() {
        OpenAiRemoteProvider untrusting = new OpenAiRemoteProvider(RemoteConfig.of(Preset.OPENAI, base()));
        assertThatThrownBy(untrusting::discover).isInstanceOf(UnavailableException.class);
        assertThatThrownBy(() -> new RemoteProviderFactory.Config(base(), null, null, null, 0, null, null, null, false,
                null, null, null, null, false, "false"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("tls_verify"));
        assertThatThrownBy(() -> RemoteConfig.of(Preset.OPENAI, base()).withCaFile(dir.resolve("missing.pem")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("tls_verify"));
        // true is the default: the platform's CAs only
        assertThat(new RemoteProviderFactory.Config(base(), null, null, null, 0, null, null, null, false, null, null, null,
                null, false, "true").remote("x", Preset.OPENAI).caFile()).isNull();
    }
}

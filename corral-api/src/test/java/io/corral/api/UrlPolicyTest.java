package io.corral.api;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UrlPolicyTest {

    @Test
    void refusesEveryPrivateRangeAndScheme() {
        for (String url : List.of("http://127.0.0.1/", "http://localhost:8080/x", "http://169.254.169.254/latest/meta-data",
                "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://[::1]/", "http://[fd00::1]/",
                "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/", "http://[::ffff:127.0.0.1]/")) {
            assertThatThrownBy(() -> UrlPolicy.PUBLIC_ONLY.check(url, "server_url")).as(url)
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                        assertThat(e.param()).isEqualTo("server_url");
                        assertThat(e.getMessage()).contains("private address");
                    });
        }
        for (String url : List.of("file:///etc/passwd", "ftp://203.0.113.5/x", "gopher://203.0.113.5/", "http:///nohost", "not a url")) {
            assertThatThrownBy(() -> UrlPolicy.PUBLIC_ONLY.check(url, "u")).as(url)
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("u"));
        }
        assertThat(UrlPolicy.PUBLIC_ONLY.check("https://203.0.113.5:8443/mcp", "u").getPort()).isEqualTo(8443);
    }

    @Test
    void theConfigMayAllowPrivateAddressesOrNamedHosts() {
        assertThat(UrlPolicy.ANY.check("http://127.0.0.1:9/", "u").getHost()).isEqualTo("127.0.0.1");
        UrlPolicy some = new UrlPolicy(false, Set.of("LOCALHOST", "::1"));
        assertThat(some.check("http://localhost:9/", "u").getHost()).isEqualTo("localhost");
        assertThat(some.check("http://[::1]:9/", "u")).isNotNull();
        assertThatThrownBy(() -> some.check("http://127.0.0.1:9/", "u")).isInstanceOf(InvalidRequestException.class);
        assertThat(UrlPolicy.PUBLIC_ONLY.allowing(List.of("127.0.0.1")).check("http://127.0.0.1:9/", "u")).isNotNull();
    }

    @Test
    void imagesAsDataPassAndImagesByUrlAreChecked() {
        UrlPolicy.PUBLIC_ONLY.checkImage("data:image/png;base64,iVBORw0KGgo=", "image_url");
        UrlPolicy.PUBLIC_ONLY.checkImage("DATA:image/png;base64,iVBORw0KGgo=", "image_url");
        List<ChatMessage> messages = List.of(ChatMessage.user("hi"), new ChatMessage(Role.USER,
                List.of(ContentPart.text("what is this"), ContentPart.image("http://169.254.169.254/latest/")), List.of(), null));
        assertThatThrownBy(() -> UrlPolicy.PUBLIC_ONLY.checkImages(messages))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.param()).isEqualTo("messages[1].content[1].image_url"));
        assertThatThrownBy(() -> UrlPolicy.PUBLIC_ONLY.checkImage("file:///etc/passwd", "image_url"))
                .isInstanceOf(InvalidRequestException.class);
        UrlPolicy.ANY.checkImages(messages); // allowed by the config: no error
    }

    /**
     * DNS rebinding, step by step: the platform's answer for a name is public when checked, private afterwards; the
     * guarded resolver drops the private answer of the name held, and passes other names' answers as they are.
     */
    @Test
    void aNameHeldPublicLosesItsPrivateAnswers() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> answer = new java.util.concurrent.atomic.AtomicReference<>("203.0.113.7");
        java.net.spi.InetAddressResolver platform = new java.net.spi.InetAddressResolver() {
            @Override
            public java.util.stream.Stream<java.net.InetAddress> lookupByName(String host, LookupPolicy policy) throws java.net.UnknownHostException {
                return java.util.stream.Stream.of(java.net.InetAddress.getByAddress(host, java.net.InetAddress.getByName(answer.get()).getAddress()));
            }

            @Override
            public String lookupByAddress(byte[] addr) {
                return "x";
            }
        };
        java.net.spi.InetAddressResolver guarded = PublicHostsResolver.guard(platform);
        var any = java.net.spi.InetAddressResolver.LookupPolicy.of(java.net.spi.InetAddressResolver.LookupPolicy.IPV4);
        PublicHostsResolver.holdPublic("held.rebind.test");
        assertThat(guarded.lookupByName("HELD.rebind.test", any).map(java.net.InetAddress::getHostAddress)).containsExactly("203.0.113.7");
        answer.set("10.0.0.7"); // the DNS answer turns private
        assertThat(guarded.lookupByName("free.rebind.test", any).map(java.net.InetAddress::getHostAddress)).containsExactly("10.0.0.7");
        assertThatThrownBy(() -> guarded.lookupByName("held.rebind.test", any)).isInstanceOf(java.net.UnknownHostException.class)
                .hasMessageContaining(PublicHostsResolver.REFUSED);
    }

    /**
     * The resolver is the JVM's, for every client: a JVM of its own (names not cached) holds the machine's own name
     * public, as if a check had found it so and its DNS had turned private since (the name resolves to a private
     * address here: loopback on these machines; {@code localhost} itself the JDK answers without a resolver). The JDK's
     * HTTP client then never reaches the server listening there by that name, and reaches it by its address (nothing
     * resolved), so the server is there.
     */
    @Test
    void theJvmsClientsCannotReachAHeldNameThatTurnedPrivate() throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dsun.net.inetaddr.ttl=0", "-cp", System.getProperty("java.class.path"), RebindProbe.class.getName(),
                java.net.InetAddress.getLocalHost().getHostName());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Map<String, String> values = new LinkedHashMap<>();
        out.lines().filter(l -> l.contains("=")).forEach(l -> values.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        assertThat(values).as(out).containsEntry("private", "true").containsEntry("address", "200").containsEntry("served", "[/by-address]");
        assertThat(values.get("name")).as(out).startsWith("failed");
        assertThat(values.get("lookup")).as(out).isEqualTo("unknown");
        assertThat(values.get("check")).as(out).contains("is not known");
    }
}

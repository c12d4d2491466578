package io.corral.server.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrustedProxiesTest {

    final TrustedProxies proxies = TrustedProxies.of(List.of("10.0.0.0/8", "192.168.1.7", "::1", "fd00::/8"));

    @Test
    void theClient_isTheRightmostAddressThatIsNoTrustedProxy() {
        assertThat(proxies.client("10.1.2.3", "203.0.113.9, 10.9.9.9")).isEqualTo("203.0.113.9");
        assertThat(proxies.client("192.168.1.7", "198.51.100.1, 203.0.113.9")).isEqualTo("203.0.113.9"); // a forged left part is ignored
        assertThat(proxies.client("::1", "2001:db8::5")).isEqualTo("2001:db8::5");
        assertThat(proxies.client("fd12::1", "10.0.0.1, 10.0.0.2")).isEqualTo("10.0.0.1"); // all trusted: the leftmost
    }

    @Test
    void fromAnyOtherPeer_orWithGarbage_theHeaderIsIgnored() {
        assertThat(proxies.client("203.0.113.50", "198.51.100.1")).isEqualTo("203.0.113.50");
        assertThat(proxies.client("192.168.1.8", "198.51.100.1")).isEqualTo("192.168.1.8"); // next to, not in, the trusted one
        assertThat(proxies.client("10.0.0.1", "not-an-address")).isEqualTo("10.0.0.1");
        assertThat(proxies.client("10.0.0.1", "evil.example, 198.51.100.1")).isEqualTo("198.51.100.1");
        assertThat(TrustedProxies.NONE.client("10.0.0.1", "198.51.100.1")).isEqualTo("10.0.0.1");
    }

    @Test
    void badEntries_areRefused_namingThem_andNoNameIsLookedUp() {
        assertThatThrownBy(() -> TrustedProxies.of(List.of("proxy.internal"))).hasMessageContaining("proxy.internal");
        assertThatThrownBy(() -> TrustedProxies.of(List.of("10.0.0.0/33"))).hasMessageContaining("prefix length");
        assertThatThrownBy(() -> TrustedProxies.of(List.of("10.0.0.0/x"))).hasMessageContaining("prefix length");
    }
}

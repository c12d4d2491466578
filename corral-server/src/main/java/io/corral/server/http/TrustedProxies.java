package io.corral.server.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxies whose {@code X-Forwarded-For} is believed: addresses or CIDR blocks ({@code 10.0.0.0/8},
 * {@code ::1}). The client is the rightmost address in the header that is not a trusted proxy; from any
 * other peer the header is ignored, so a client cannot choose the address it is logged and limited by.
 */
public final class TrustedProxies {

    private record Block(byte[] network, int bits) {
        boolean contains(byte[] a) {
            if (a.length != network.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != network[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            return rest == 0 || ((a[full] ^ network[full]) & (0xff << (8 - rest)) & 0xff) == 0;
        }
    }

    public static final TrustedProxies NONE = new TrustedProxies(List.of());

    private final List<Block> blocks;

    private TrustedProxies(List<Block> blocks) {
        this.blocks = blocks;
    }

    /** Parses addresses and CIDR blocks (literal IPs only: no host names are looked up). */
    public static TrustedProxies of(List<String> specs) {
        List<Block> blocks = new ArrayList<>();
        for (String spec : specs) {
            String s = spec.strip();
            int slash = s.indexOf('/');
            byte[] address = literal(slash < 0 ? s : s.substring(0, slash));
            if (address == null) {
                throw new IllegalArgumentException("trusted proxy '" + spec + "' is not an IP address or CIDR block");
            }
            int bits = address.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(s.substring(slash + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
                if (bits < 0 || bits > address.length * 8) {
                    throw new IllegalArgumentException("trusted proxy '" + spec + "' has a bad prefix length");
                }
            }
            blocks.add(new Block(address, bits));
        }
        return new TrustedProxies(List.copyOf(blocks));
    }

    /** Whether any proxy is trusted (else {@code X-Forwarded-For} is never read). */
    public boolean none() {
        return blocks.isEmpty();
    }

    /** The client's address: the peer's, or from {@code forwardedFor} when the peer is a trusted proxy. */
    public String client(String peer, String forwardedFor) {
        if (forwardedFor == null || blocks.isEmpty() || !trusted(peer)) {
            return peer;
        }
        String[] hops = forwardedFor.split(",");
        String client = peer;
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].strip();
            if (literal(hop) == null) {
                break; // not an address: nothing further left can be believed
            }
            client = hop;
            if (!trusted(hop)) {
                break;
            }
        }
        return client;
    }

    private boolean trusted(String address) {
        byte[] a = literal(address);
        if (a == null) {
            return false;
        }
        for (Block b : blocks) {
            if (b.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** The bytes of a literal IPv4 or IPv6 address, or null (never a DNS look-up). */
    private static byte[] literal(String s) {
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        boolean v4 = s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = s.indexOf(':') >= 0 && s.matches("[0-9a-fA-F:.%a-zA-Z0-9]+");
        if (!v4 && !v6) {
            return null;
        }
        try {
            return InetAddress.getByName(s).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }
}

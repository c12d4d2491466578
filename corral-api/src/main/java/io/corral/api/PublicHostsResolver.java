package io.corral.api;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The JVM's name resolver, as the platform's, except for host names a {@link UrlPolicy} checked and found public: their
 * private answers are dropped, so a name whose DNS turns to a private address between the check and the connection
 * (rebinding) cannot be reached, by any client in the process (the JDK's, Netty's, the MCP SDK's). Installed by the
 * {@code java.net.spi.InetAddressResolverProvider} service file of this module; names held are kept most recent first,
 * up to {@value #MAX_HELD}.
 */
public final class PublicHostsResolver extends InetAddressResolverProvider {

    static final String REFUSED = "held public after a check, now answers only private addresses";
    private static final int MAX_HELD = 10_000;
    private static final Set<String> HELD = Collections.newSetFromMap(Collections.synchronizedMap(
            new LinkedHashMap<>(64, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > MAX_HELD;
                }
            }));

    /** {@code host} (lower case) resolves to public addresses only from now on. */
    static void holdPublic(String host) {
        HELD.add(host);
    }

    @Override
    public InetAddressResolver get(Configuration configuration) {
        return guard(configuration.builtinResolver());
    }

    /** {@code platform}'s answers, less the private ones of names held public. */
    static InetAddressResolver guard(InetAddressResolver platform) {
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                Stream<InetAddress> answers = platform.lookupByName(host, policy);
                if (!HELD.contains(host.toLowerCase(java.util.Locale.ROOT))) {
                    return answers;
                }
                InetAddress[] allowed = answers.filter(a -> !UrlPolicy.isPrivate(a)).toArray(InetAddress[]::new);
                if (allowed.length == 0) {
                    throw new UnknownHostException(host + ": " + REFUSED);
                }
                return Stream.of(allowed);
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return platform.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "corral-public-hosts";
    }
}

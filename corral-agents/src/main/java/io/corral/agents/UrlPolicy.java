package io.corral.agents;

import io.corral.api.InvalidRequestException;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Where URLs a request brings (MCP servers) may lead: public addresses only, unless the config allows private ones
 * ({@code agents.allow_private_urls}): never loopback, link-local (cloud metadata), private, unique-local, any-local
 * or multicast addresses, whatever the host name resolves to.
 */
public record UrlPolicy(boolean allowPrivate) {

    public static final UrlPolicy PUBLIC_ONLY = new UrlPolicy(false);

    /** The URL, checked: http(s), with a host whose every address is allowed. */
    URI check(String url, String param) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(param, param + " is not a URL: " + url);
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new InvalidRequestException(param, param + " must be an http(s) URL with a host");
        }
        if (allowPrivate) {
            return uri;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new InvalidRequestException(param, param + ": host " + uri.getHost() + " is not known");
        }
        for (InetAddress a : addresses) {
            byte[] b = a.getAddress();
            boolean uniqueLocal = b.length == 16 && (b[0] & 0xfe) == 0xfc;
            if (a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()
                    || a.isMulticastAddress() || uniqueLocal) {
                throw new InvalidRequestException(param, param + " leads to a private address (" + a.getHostAddress()
                        + "), which this server does not reach unless its config allows private URLs");
            }
        }
        return uri;
    }
}

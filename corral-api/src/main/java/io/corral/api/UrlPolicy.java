package io.corral.api;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where URLs that requests carry may lead (images, MCP servers, models pulled by URL, and every redirect on the way):
 * public addresses only, never loopback, link-local (cloud metadata), private, unique-local, any-local or multicast ones,
 * whatever the host name resolves to, unless the config allows private addresses ({@code urls.allow_private}) or names
 * the host ({@code urls.allow_hosts}). A host name that passes is {@linkplain PublicHostsResolver held public}: if its
 * DNS answer later turns private (rebinding between the check and the connection), the connection is refused.
 */
public record UrlPolicy(boolean allowPrivate, Set<String> allowHosts) {

    /** What a server does unless its config says otherwise. */
    public static final UrlPolicy PUBLIC_ONLY = new UrlPolicy(false, Set.of());
    /** No limit: for what the operator names (the CLI's own arguments, the config's hosts). */
    public static final UrlPolicy ANY = new UrlPolicy(true, Set.of());

    public UrlPolicy {
        allowHosts = allowHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    /** This policy, also allowing {@code hosts} (a pull's configured registries may be on a private network). */
    public UrlPolicy allowing(List<String> hosts) {
        Set<String> all = new java.util.HashSet<>(allowHosts);
        hosts.forEach(all::add);
        return new UrlPolicy(allowPrivate, all);
    }

    /** The URL, checked: http(s), with a host whose every address is allowed; a 400 naming {@code param} otherwise. */
    public URI check(String url, String param) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(param, param + " is not a URL: " + url);
        }
        return check(uri, param);
    }

    /** {@link #check(String, String)} of a URI already read. */
    public URI check(URI uri, String param) {
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new InvalidRequestException(param, param + " must be an http(s) URL with a host");
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (allowPrivate || allowHosts.contains(host)) {
            return uri;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new InvalidRequestException(param, param + ": host " + uri.getHost() + " is not known");
        }
        for (InetAddress a : addresses) {
            if (isPrivate(a)) {
                throw new InvalidRequestException(param, param + " leads to a private address (" + a.getHostAddress()
                        + "), which this server does not reach unless its config allows it (urls.allow_private, urls.allow_hosts)");
            }
        }
        PublicHostsResolver.holdPublic(host);
        return uri;
    }

    /**
     * An image's URL: a {@code data:} URL as it is (nothing is fetched), an http(s) URL {@linkplain #check(String, String)
     * checked}; any other scheme is refused.
     */
    public void checkImage(String url, String param) {
        if (url.regionMatches(true, 0, "data:", 0, 5)) {
            return;
        }
        check(url, param);
    }

    /** Every image part of {@code messages}, checked; the param is {@code messages[i].content[j].image_url}. */
    public void checkImages(List<ChatMessage> messages) {
        for (int i = 0; i < messages.size(); i++) {
            List<ContentPart> parts = messages.get(i).content();
            for (int j = 0; j < parts.size(); j++) {
                if (parts.get(j) instanceof ContentPart.Image image) {
                    checkImage(image.url(), "messages[" + i + "].content[" + j + "].image_url");
                }
            }
        }
    }

    /** Loopback, link-local, site-local (10/8, 172.16/12, 192.168/16), unique-local (fc00::/7), any-local, multicast. */
    public static boolean isPrivate(InetAddress a) {
        byte[] b = a.getAddress();
        boolean uniqueLocal = b.length == 16 && (b[0] & 0xfe) == 0xfc;
        boolean carrierNat = b.length == 4 && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64; // 100.64/10
        return a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isAnyLocalAddress()
                || a.isMulticastAddress() || uniqueLocal || carrierNat;
    }
}

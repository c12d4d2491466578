package io.corral.remote;

import java.nio.charset.StandardCharsets;

/**
 * The head of an HTTP/1.1 request to an engine, in bytes. Our blocking client ({@link Http1Transport}) and
 * the server's event-loop gateway both write their requests behind it.
 */
public final class RequestHead {

    private RequestHead() {
    }

    /**
     * @param path          raw path, with its query if any
     * @param hostPort      the {@code Host} value
     * @param authorization the {@code Authorization} value, or null (checked free of line breaks where configured)
     * @param jsonLength    the length of a JSON body, or -1 for none
     */
    public static byte[] of(String method, String path, String hostPort, String authorization, int jsonLength) {
        return of(method, path, hostPort, authorization, jsonLength, java.util.Map.of());
    }

    /** The same with more headers (a service's own key header); a name or value with a line break is refused. */
    public static byte[] of(String method, String path, String hostPort, String authorization, int jsonLength,
                            java.util.Map<String, String> headers) {
        StringBuilder h = new StringBuilder(200).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(hostPort).append("\r\nAccept: ").append(Transport.ACCEPT).append("\r\n");
        if (authorization != null) {
            h.append("Authorization: ").append(authorization).append("\r\n");
        }
        headers.forEach((k, v) -> {
            if (k.indexOf('\r') >= 0 || k.indexOf('\n') >= 0 || v.indexOf('\r') >= 0 || v.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("a header must not hold a line break: " + k);
            }
            h.append(k).append(": ").append(v).append("\r\n");
        });
        if (jsonLength >= 0) {
            h.append("Content-Type: application/json\r\nContent-Length: ").append(jsonLength).append("\r\n");
        }
        return h.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
    }
}

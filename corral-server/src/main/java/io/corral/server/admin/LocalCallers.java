package io.corral.server.admin;

import io.corral.server.http.ApiException;
import io.corral.server.http.Request;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Admin routes that act on the server's own disk or memory answer callers on its machine (loopback) only. */
final class LocalCallers {

    private LocalCallers() {
    }

    /** Refuses (403, saying {@code why}) a caller that is not on the server's machine. */
    static void require(Request req, String why) throws UnknownHostException {
        if (!InetAddress.getByName(req.client()).isLoopbackAddress()) {
            throw ApiException.forbidden(why);
        }
    }
}

package io.corral.server.http;

/** Answers one decoded request, on its own virtual thread; a thrown exception becomes an error answer. */
@FunctionalInterface
public interface Handler {
    void handle(Request request, Response response) throws Exception;
}

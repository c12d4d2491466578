package io.corral.server.http;

/** Sees every request the pipeline takes (metrics, traces); what it throws is logged, never the client's problem. */
public interface RequestListener {

    /** The request has been read and stamped with its id and client; nothing has been checked yet. */
    default void started(Request request) {
    }

    /** The request has been answered (its last byte written, or the client gone: 499). */
    default void finished(Request request, int status) {
    }
}

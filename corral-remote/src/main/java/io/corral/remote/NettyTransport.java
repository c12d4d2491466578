package io.corral.remote;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one HTTP client of Corral's own code, for {@code http://} and {@code https://} hosts alike: the same
 * pooled Netty connections the gateway forwards on ({@link Upstreams}), read here by a blocking caller (a
 * virtual thread). The answer's body arrives as chunks in a bounded queue; the connection stops reading while
 * the caller is behind. A pooled connection the host had closed before our request is replaced once.
 */
final class NettyTransport implements Transport {

    static final NettyTransport SHARED = new NettyTransport(new Upstreams(EventLoops.shared()));

    private static final int HIGH_WATER = 64; // chunks queued before the connection pauses
    private static final byte[] END = new byte[0];

    private final Upstreams upstreams;
    private final java.util.List<EventLoop> loops = new java.util.ArrayList<>();

    NettyTransport(Upstreams upstreams) {
        this.upstreams = upstreams;
        upstreams.loops().group().forEach(e -> loops.add((EventLoop) e));
    }

    /** A host's requests go to one loop, so its pooled connections are found again. */
    private EventLoop loopFor(URI uri) {
        return loops.get(Math.floorMod((uri.getHost() + ":" + uri.getPort()).hashCode(), loops.size()));
    }

    @Override
    public Response send(Request r) throws IOException {
        OpenAiWire.Endpoint endpoint = new OpenAiWire.Endpoint(r.uri(), r.authorization(), r.connectTimeout(),
                r.responseTimeout(), r.idleTimeout(), r.caFile());
        boolean fresh = false;
        while (true) {
            Call call = new Call(r, endpoint);
            EventLoop loop = loopFor(r.uri());
            boolean retry = fresh;
            loop.execute(() -> upstreams.acquire(loop, endpoint, call, retry));
            try {
                return call.await();
            } catch (StaleConnection e) {
                if (fresh) {
                    throw new IOException("the host closed the connection before answering");
                }
                fresh = true; // the host had closed the pooled connection: once more on a new one
            }
        }
    }

    /** A pooled connection that was closed before the host said anything. */
    private static final class StaleConnection extends IOException {
        StaleConnection() {
            super("stale connection", null);
        }
    }

    /** One request on one connection: everything it hears happens on the connection's event loop. */
    private final class Call implements Upstreams.Owner {
        private final Request request;
        private final OpenAiWire.Endpoint endpoint;
        private final CompletableFuture<Response> head = new CompletableFuture<>();
        private final LinkedBlockingQueue<Object> body = new LinkedBlockingQueue<>(); // byte[] chunks, END, or an IOException
        private volatile Upstreams.Link link;
        private volatile boolean heard;
        private volatile boolean paused;
        private volatile boolean done;
        private boolean keepAlive;

        Call(Request request, OpenAiWire.Endpoint endpoint) {
            this.request = request;
            this.endpoint = endpoint;
        }

        Response await() throws IOException {
            try {
                return head.get(request.responseTimeout().toNanos() + request.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                abandon();
                throw new SocketTimeoutException("no answer within " + request.responseTimeout().toMillis() + " ms");
            } catch (InterruptedException e) {
                abandon();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IOException(e.getCause());
            }
        }

        @Override
        public void connected(Upstreams.Link l) {
            link = l;
            URI uri = request.uri();
            String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            byte[] headBytes = RequestHead.of(request.method(), path, uri.getHost() + ":" + endpoint.port(),
                    request.authorization(), request.body() == null ? -1 : request.body().length, request.headers());
            ByteBuf out = request.body() == null ? Unpooled.wrappedBuffer(headBytes)
                    : Unpooled.wrappedBuffer(headBytes, request.body());
            l.channel().writeAndFlush(out);
            l.channel().eventLoop().schedule(this::checkAnswered, request.responseTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }

        private void checkAnswered() {
            if (!heard && !done) {
                fail(new SocketTimeoutException("no answer within " + request.responseTimeout().toMillis() + " ms"));
            }
        }

        @Override
        public void connectFailed(Throwable cause) {
            head.completeExceptionally(cause instanceof IOException io && !(cause instanceof ConnectException)
                    ? new ConnectException(io.getMessage()) : cause instanceof ConnectException c ? c
                    : new ConnectException(String.valueOf(cause.getMessage())));
        }

        @Override
        public void received(Object msg) {
            try {
                if (msg instanceof HttpResponse res) {
                    heard = true;
                    keepAlive = HttpUtil.isKeepAlive(res);
                    String type = res.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
                    head.complete(new Response(res.status().code(), type, new Body()));
                }
                if (msg instanceof HttpContent c) {
                    ByteBuf b = c.content();
                    if (b.isReadable()) {
                        byte[] chunk = new byte[b.readableBytes()];
                        b.readBytes(chunk);
                        body.add(chunk);
                        if (body.size() > HIGH_WATER && !paused) {
                            paused = true;
                            link.channel().config().setAutoRead(false);
                        }
                    }
                    if (msg instanceof LastHttpContent) {
                        done = true;
                        body.add(END);
                        upstreams.release(link, keepAlive);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void readComplete() {
            // chunks are handed over as they come
        }

        @Override
        public void closed() {
            if (done) {
                return;
            }
            if (!heard && link != null && link.reused()) {
                head.completeExceptionally(new StaleConnection());
                return;
            }
            fail(new IOException("the host closed the connection" + (heard ? " in the middle of the answer" : "")));
        }

        private void fail(IOException e) {
            done = true;
            if (!head.completeExceptionally(e)) {
                body.add(e);
            }
            Upstreams.Link l = link;
            if (l != null) {
                l.channel().close();
            }
        }

        /** The caller gave up: the connection cannot be reused. */
        private void abandon() {
            done = true;
            Upstreams.Link l = link;
            if (l != null) {
                l.channel().close();
            }
        }

        /** The body, read by the caller; each read waits at most the idle timeout. */
        private final class Body extends InputStream {
            private byte[] chunk = new byte[0];
            private int at;
            private boolean ended;

            private boolean fill() throws IOException {
                while (at >= chunk.length) {
                    if (ended) {
                        return false;
                    }
                    Object next;
                    try {
                        next = body.poll(request.idleTimeout().toNanos(), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted");
                    }
                    if (next == null) {
                        abandon();
                        throw new SocketTimeoutException("the host was silent for " + request.idleTimeout().toMillis() + " ms");
                    }
                    if (next instanceof IOException e) {
                        ended = true;
                        throw e;
                    }
                    if (next == END) {
                        ended = true;
                        return false;
                    }
                    chunk = (byte[]) next;
                    at = 0;
                    if (paused && body.size() < HIGH_WATER / 2) {
                        paused = false;
                        Upstreams.Link l = link;
                        l.channel().eventLoop().execute(() -> l.channel().config().setAutoRead(true));
                    }
                }
                return true;
            }

            @Override
            public int read() throws IOException {
                return fill() ? chunk[at++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (!fill()) {
                    return -1;
                }
                int n = Math.min(len, chunk.length - at);
                System.arraycopy(chunk, at, b, off, n);
                at += n;
                return n;
            }

            @Override
            public void close() {
                if (!ended) {
                    ended = true;
                    if (!done) {
                        abandon(); // read only in part: the connection cannot carry another request
                    }
                }
            }
        }
    }
}

package io.corral.server.http;

import io.corral.remote.EventLoops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The public listener: HTTP/1.1 on a few event-loop threads (Netty), every request through the
 * {@link Pipeline}. Forwarded requests are answered on the loop that read them; decoded ones on a virtual
 * thread each.
 */
public final class HttpServer implements AutoCloseable {

    private final Channel listener;
    private final ChannelGroup connections;
    private final AtomicInteger answering; // requests read, their answers not yet out

    private HttpServer(Channel listener, ChannelGroup connections, AtomicInteger answering) {
        this.listener = listener;
        this.connections = connections;
        this.answering = answering;
    }

    /** @param tls HTTPS with this context (every connection's first handler), or null for plain HTTP */
    public static HttpServer start(String host, int port, Pipeline pipeline, EventLoops loops, long maxBodyBytes,
                                   Duration idleTimeout, io.netty.handler.ssl.SslContext tls) {
        AtomicInteger answering = new AtomicInteger();
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        io.netty.channel.ChannelFuture bound = new ServerBootstrap().group(loops.group()).channel(loops.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true) // SSE frames are small writes
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                        }
                        RequestDeadline deadline = new RequestDeadline(RequestDeadline.of(idleTimeout));
                        ch.pipeline().addLast(new IdleStateHandler(idleTimeout.toNanos(), 0, 0, TimeUnit.NANOSECONDS),
                                deadline.bytes(), new HttpServerCodec(), deadline.requests(), new HttpServerKeepAliveHandler(),
                                new HttpServerExpectContinueHandler(),
                                new Connection(pipeline, maxBodyBytes, answering, idleTimeout));
                    }
                })
                .bind(host, port).awaitUninterruptibly();
        if (!bound.isSuccess()) { // say which port, and why, rather than the transport's exception
            String why = String.valueOf(bound.cause() == null ? null : bound.cause().getMessage());
            throw new io.corral.api.UnavailableException(why.contains("Address already in use")
                    ? "port " + port + " on " + host + " is in use (another server listens there): choose another with --port, or 0 for any free one"
                    : "cannot listen on " + host + ":" + port + ": " + why, bound.cause());
        }
        Channel listener = bound.channel();
        return new HttpServer(listener, connections, answering);
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Stops listening; answers under way may finish. */
    public void stopListening() {
        listener.close().syncUninterruptibly();
    }

    /** Lets answers under way finish (at most {@code grace}), then closes every connection. */
    public void close(Duration grace) {
        stopListening();
        awaitAnswered(grace);
        connections.close().awaitUninterruptibly();
    }

    /** Waits until no answer is under way, at most {@code grace}; whether none is. */
    public boolean awaitAnswered(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        while (answering.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10); // the count has no event to wait on; a shutdown polls it briefly
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return answering.get() == 0;
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}

package io.corral.server;

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
 * The public listener when a remote engine is configured: HTTP/1.1 on a few event-loop threads. Requests for forwarded models are answered
 * right here ({@link Gateway}); every other request is passed to the decoding server, listening on
 * loopback behind it ({@link FrontConnection}, {@link BackendLink}).
 */
final class Front implements AutoCloseable {

    private final Channel listener;
    private final ChannelGroup connections;
    private final AtomicInteger answering; // requests read, their answers not yet out

    private Front(Channel listener, ChannelGroup connections, AtomicInteger answering) {
        this.listener = listener;
        this.connections = connections;
        this.answering = answering;
    }

    static Front start(String host, int port, InetSocketAddress backend, Gateway gateway, EventLoops loops, long maxBodyBytes,
                       Duration idleTimeout) {
        AtomicInteger answering = new AtomicInteger();
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        Channel listener = new ServerBootstrap().group(loops.group()).channel(loops.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true) // SSE frames are small writes
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new IdleStateHandler(idleTimeout.toNanos(), 0, 0, TimeUnit.NANOSECONDS),
                                new HttpServerCodec(), new HttpServerKeepAliveHandler(),
                                new HttpServerExpectContinueHandler(),
                                new FrontConnection(gateway, backend, loops, maxBodyBytes, answering));
                    }
                })
                .bind(host, port).syncUninterruptibly().channel();
        return new Front(listener, connections, answering);
    }

    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Stops listening, lets answers under way finish (at most 2 s), then closes every connection. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (answering.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connections.close().awaitUninterruptibly(); // and with them the links to the decoding server
    }
}

package io.corral.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.LastHttpContent;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A request must arrive whole (head and body) within a deadline of its first byte, or the connection is closed: a
 * client that trickles a byte now and then (slowloris) never looks idle, so the idle timeout alone would let it hold
 * a connection for ever. Two handlers share the clock: {@link #bytes()} before the HTTP codec starts it at a request's
 * first bytes, {@link #requests()} after it stops it when the request's last part is decoded. One per connection, on its
 * event loop.
 */
final class RequestDeadline {

    /** The deadline: the idle timeout, at most 30 seconds (an 8 MB upload then needs about 270 KB/s). */
    static Duration of(Duration idleTimeout) {
        return idleTimeout.compareTo(Duration.ofSeconds(30)) < 0 ? idleTimeout : Duration.ofSeconds(30);
    }

    private final long nanos;
    private ScheduledFuture<?> timer;

    RequestDeadline(Duration deadline) {
        this.nanos = deadline.toNanos();
    }

    ChannelInboundHandlerAdapter bytes() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (timer == null && msg instanceof ByteBuf b && b.isReadable()) {
                    timer = ctx.executor().schedule(() -> {
                        ctx.close();
                    }, nanos, TimeUnit.NANOSECONDS);
                }
                ctx.fireChannelRead(msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (timer != null) {
                    timer.cancel(false);
                }
                ctx.fireChannelInactive();
            }
        };
    }

    ChannelInboundHandlerAdapter requests() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof LastHttpContent && timer != null) {
                    timer.cancel(false);
                    timer = null;
                }
                ctx.fireChannelRead(msg);
            }
        };
    }
}

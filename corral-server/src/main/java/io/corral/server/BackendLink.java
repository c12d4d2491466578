package io.corral.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * A front connection's link to the decoding server on loopback: requests go in as they were read, answers
 * come back part by part (an SSE stream frame by frame) on the same event loop. Opened on first use and
 * kept for the front connection's life.
 */
final class BackendLink extends ChannelInboundHandlerAdapter {

    private final FrontConnection front;
    private final ArrayDeque<Object> pending = new ArrayDeque<>(); // until connected
    private Channel channel;
    private boolean connected;
    private boolean interim;    // a 1xx answer is being read: its end is not the answer's
    private long asked;         // requests sent
    private long told;          // answers read to their end

    private BackendLink(FrontConnection front) {
        this.front = front;
    }

    static BackendLink open(FrontConnection front, Channel client, InetSocketAddress address, EventLoops loops) {
        BackendLink link = new BackendLink(front);
        link.channel = new Bootstrap().group(client.eventLoop()).channel(loops.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), link);
                    }
                })
                .connect(address)
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        link.connected = true;
                        for (Object m; (m = link.pending.poll()) != null; ) {
                            link.channel.write(m, link.channel.voidPromise());
                        }
                        link.channel.flush();
                    } else {
                        link.pending.forEach(ReferenceCountUtil::release);
                        link.pending.clear();
                        client.close();
                    }
                }).channel();
        return link;
    }

    Channel channel() {
        return channel;
    }

    /** Passes a request's head or body part on; a body part is flushed at once (it may be a long upload). */
    void send(Object httpObject) {
        if (httpObject instanceof io.netty.handler.codec.http.HttpRequest) {
            asked++;
        }
        if (!connected) {
            pending.add(httpObject);
        } else if (httpObject instanceof HttpContent) {
            channel.writeAndFlush(httpObject, channel.voidPromise());
        } else {
            channel.write(httpObject, channel.voidPromise());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse r) {
            interim = r.status().code() / 100 == 1;
        }
        boolean end = msg instanceof LastHttpContent && !interim;
        front.write(msg);
        if (end) {
            told++;
            front.answered();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        front.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        front.backendClosed(this);
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        if (asked > told) {
            front.close(); // an answer was owed and will not come
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}

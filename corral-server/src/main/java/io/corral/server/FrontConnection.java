package io.corral.server;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client connection on the front. A request the gateway may forward has its body read here and goes
 * to the {@link Gateway}; every other request, or one the gateway declines, is passed to the decoding
 * server behind the front ({@link BackendLink}) as it comes. One request is answered at a time: one that
 * arrives early (pipelined) waits, and reading pauses, until the answer before it is out.
 */
final class FrontConnection extends ChannelInboundHandlerAdapter {

    private final Gateway gateway;
    private final InetSocketAddress backendAddress;
    private final EventLoops loops;
    private final long maxBodyBytes;
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private final AtomicInteger answering; // the server's count of requests read and not yet answered

    private ChannelHandlerContext ctx;
    private BackendLink backend;      // the decoding server, connected on first use
    private HttpRequest collecting;   // a request whose body is read for the gateway
    private CompositeByteBuf body;
    private boolean passing;          // the current request's parts go to the backend
    private long requests;            // requests read to their end
    private long answers;             // answers written to their end
    private Exchange exchange;        // the forwarded request being answered

    FrontConnection(Gateway gateway, InetSocketAddress backendAddress, EventLoops loops, long maxBodyBytes,
                    AtomicInteger answering) {
        this.gateway = gateway;
        this.answering = answering;
        this.backendAddress = backendAddress;
        this.loops = loops;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (requests > answers || !waiting.isEmpty()) {
            waiting.add(msg); // the answer before it is not out yet
            ctx.channel().config().setAutoRead(false);
            return;
        }
        handle(msg);
    }

    private void handle(Object msg) {
        if (msg instanceof HttpRequest req) {
            if (req.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                badRequest("malformed HTTP request: " + req.decoderResult().cause().getMessage());
                return;
            }
            String path = pathOf(req.uri());
            if (req.method().equals(HttpMethod.POST) && gateway.mayForward(path)) {
                if (HttpUtil.getContentLength(req, -1L) > maxBodyBytes) {
                    ReferenceCountUtil.release(msg);
                    refuse(ApiException.tooLarge(maxBodyBytes));
                    return;
                }
                collecting = req;
                body = ctx.alloc().compositeBuffer(1024);
            } else {
                passing = true;
                backend().send(req);
            }
        }
        if (msg instanceof HttpContent c) {
            boolean last = c instanceof LastHttpContent;
            if (collecting != null) {
                body.addComponent(true, c.content());
                if (body.readableBytes() > maxBodyBytes) {
                    refuse(ApiException.tooLarge(maxBodyBytes));
                } else if (last) {
                    read();
                    dispatch();
                }
            } else if (passing) {
                backend().send(c);
                if (last) {
                    passing = false;
                    read();
                }
            } else {
                c.release(); // the rest of a request already refused
            }
        }
    }

    /** A whole body is in: the gateway forwards it, or the backend decodes it. */
    private void dispatch() {
        HttpRequest head = collecting;
        byte[] bytes = ByteBufUtil.getBytes(body);
        body.release();
        body = null;
        collecting = null;
        String path = pathOf(head.uri());
        if (!gateway.forward(this, head, path, bytes)) {
            backend().send(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                    Unpooled.wrappedBuffer(bytes), head.headers(), EmptyHttpHeaders.INSTANCE));
        }
    }

    private static String pathOf(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    private BackendLink backend() {
        if (backend == null) {
            backend = BackendLink.open(this, ctx.channel(), backendAddress, loops);
        }
        return backend;
    }

    /** The backend connection closed; the next request opens another. */
    void backendClosed(BackendLink link) {
        if (backend == link) {
            backend = null;
        }
    }

    void begin(Exchange x) {
        exchange = x;
    }

    void write(Object msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    void flush() {
        ctx.flush();
    }

    void close() {
        ctx.close();
    }

    /** An answer is out to its end: the next waiting request, if any, is taken. */
    void answered(Exchange x) {
        if (exchange == x) {
            exchange = null;
        }
        answered();
    }

    private void read() {
        requests++;
        answering.incrementAndGet();
    }

    void answered() {
        answers++;
        answering.decrementAndGet();
        while (requests == answers && !waiting.isEmpty() && ctx.channel().isActive()) {
            handle(waiting.poll());
        }
        if (waiting.isEmpty() && ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** Lets the client's back-pressure reach whoever feeds it. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        Channel upstream = exchange != null ? exchange.source() : null;
        if (upstream != null) {
            upstream.config().setAutoRead(writable);
        }
        if (backend != null && (writable || upstream == null)) {
            backend.channel().config().setAutoRead(writable);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (exchange != null) {
            exchange.clientGone();
        }
        if (backend != null) {
            backend.channel().close();
        }
        if (body != null) {
            body.release();
            body = null;
        }
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
        answering.addAndGet((int) (answers - requests));
        answers = requests;
    }

    /** A client silent for the idle timeout is hung up on, unless it waits for an answer (a long generation). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && requests == answers) {
            ctx.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a reset connection or a protocol error: nothing to answer
    }

    private void badRequest(String message) {
        refuse(ApiException.badRequest(null, message));
    }

    /** Answers an error of our own and closes: the rest of the request is not read. */
    private void refuse(ApiException e) {
        if (body != null) {
            body.release();
            body = null;
        }
        collecting = null;
        FullHttpResponse res = Gateway.errorResponse(Errors.map(e), Http.newId());
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
}

package io.corral.server.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One client connection: reads each request whole (bounded by the body limit: more is 413) and hands it
 * to the {@link Pipeline}. One request is answered at a time: one that arrives early (pipelined) waits,
 * and reading pauses, until the answer before it is out. Answers may be written from any thread; a
 * streaming writer waits while the client does not read ({@link #awaitWritable()}).
 */
public final class Connection extends ChannelInboundHandlerAdapter {

    /** What the gateway's forwarded answer does when the client reads slowly or leaves. */
    public interface Forwarded {
        Channel source();

        void clientGone();
    }

    private final Pipeline pipeline;
    private final long maxBodyBytes;
    private boolean draining; // a refusal is out: what still comes is dropped until the connection closes
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private final AtomicInteger answering; // the server's count of requests read and not yet answered
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition writable = lock.newCondition();

    private ChannelHandlerContext ctx;
    private HttpRequest collecting;   // the request whose body is being read
    private CompositeByteBuf body;
    private long requests;            // requests read to their end
    private long answers;             // answers written to their end
    private Forwarded forwarded;      // the forwarded request being answered

    /** How long a streaming writer waits on a client that reads nothing before hanging up on it. */
    private final long stallNanos;
    /** The hang-up of a client that has stopped reading a forwarded answer (event loop only). */
    private io.netty.util.concurrent.ScheduledFuture<?> stalled;

    Connection(Pipeline pipeline, long maxBodyBytes, AtomicInteger answering, java.time.Duration stall) {
        this.pipeline = pipeline;
        this.stallNanos = stall.toNanos();
        this.answering = answering;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    public io.netty.buffer.ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    public EventLoop eventLoop() {
        return ctx.channel().eventLoop();
    }

    String peerAddress() {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "local";
    }

    boolean open() {
        return ctx.channel().isActive();
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
                Throwable cause = req.decoderResult().cause();
                refuse(cause instanceof TooLongFrameException
                        ? new ApiException(431, "invalid_request_error", "headers_too_large", null, "request head too large: " + cause.getMessage())
                        : ApiException.badRequest(null, "malformed HTTP request: " + cause.getMessage()), req.uri());
                return;
            }
            if (HttpUtil.getContentLength(req, -1L) > maxBodyBytes) {
                ReferenceCountUtil.release(msg);
                refuse(ApiException.tooLarge(maxBodyBytes), req.uri());
                return;
            }
            collecting = req;
            body = ctx.alloc().compositeBuffer(1024);
        }
        if (msg instanceof HttpContent c) {
            if (collecting == null) {
                c.release(); // the rest of a request already refused
                if (draining && c instanceof LastHttpContent) {
                    ctx.close(); // all of it read: the client has its answer
                }
                return;
            }
            body.addComponent(true, c.content());
            if (body.readableBytes() > maxBodyBytes) {
                refuse(ApiException.tooLarge(maxBodyBytes), collecting.uri());
            } else if (c instanceof LastHttpContent) {
                dispatch();
            }
        }
    }

    /** A whole request is in: the pipeline takes it. */
    private void dispatch() {
        HttpRequest head = collecting;
        byte[] bytes = ByteBufUtil.getBytes(body);
        body.release();
        body = null;
        collecting = null;
        requests++;
        answering.incrementAndGet();
        pipeline.accept(this, new Request(head.method().name(), head.uri(), head.headers(), bytes));
    }

    /** A forwarded answer has begun: the client's back-pressure and departure reach it. */
    public void begin(Forwarded f) {
        forwarded = f;
    }

    /** Writes part of an answer without flushing, from any thread (the gateway flushes once per read). */
    public void write(Object msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    /** Writes part of an answer and flushes it, from any thread. */
    public void writeAndFlush(Object msg) {
        ctx.writeAndFlush(msg, ctx.voidPromise());
    }

    public void flush() {
        ctx.flush();
    }

    public void close() {
        ctx.close();
    }

    /**
     * Waits while the client is not reading; {@link EventStream.ClientGone} once it has left, or once it has read
     * nothing for the idle timeout (it is hung up on: a reader that stalls must not hold a generation for ever).
     */
    void awaitWritable() {
        Channel ch = ctx.channel();
        if (ch.isWritable()) {
            return;
        }
        long deadline = System.nanoTime() + stallNanos;
        lock.lock();
        try {
            while (ch.isActive() && !ch.isWritable()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    ch.close();
                    throw new EventStream.ClientGone();
                }
                // signalled on change; the bound only guards a missed one
                writable.awaitNanos(Math.min(left, TimeUnit.SECONDS.toNanos(1)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventStream.ClientGone();
        } finally {
            lock.unlock();
        }
        if (!ch.isActive()) {
            throw new EventStream.ClientGone();
        }
    }

    private void signal() {
        lock.lock();
        try {
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** An answer is out to its end (from any thread): the next waiting request, if any, is taken. */
    void answered() {
        if (!eventLoop().inEventLoop()) {
            try {
                eventLoop().execute(this::answered);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                // the server has stopped its loops; the connection is closed with them
            }
            return;
        }
        forwarded = null;
        if (stalled != null) {
            stalled.cancel(false);
            stalled = null;
        }
        answers++;
        answering.decrementAndGet();
        while (requests == answers && !waiting.isEmpty() && ctx.channel().isActive()) {
            handle(waiting.poll());
        }
        if (waiting.isEmpty() && ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /**
     * Lets the client's back-pressure reach whoever feeds it. A forwarded answer's host is paused while the client
     * reads nothing; once that has lasted the idle timeout, the client is hung up on (and with it the host, which
     * stops generating), as {@link #awaitWritable} does for an answer written here.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean ok = ctx.channel().isWritable();
        Channel upstream = forwarded != null ? forwarded.source() : null;
        if (upstream != null) {
            upstream.config().setAutoRead(ok);
        }
        if (ok && stalled != null) {
            stalled.cancel(false);
            stalled = null;
        } else if (!ok && stalled == null && forwarded != null) {
            stalled = ctx.executor().schedule(() -> {
                stalled = null;
                if (!ctx.channel().isWritable() && forwarded != null) {
                    ctx.close();
                }
            }, stallNanos, TimeUnit.NANOSECONDS);
        }
        signal();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (forwarded != null) {
            forwarded.clientGone();
        }
        signal();
        if (body != null) {
            body.release();
            body = null;
        }
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
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

    /**
     * Answers an error of our own and closes: the rest of the request is not read. The body has the shape of the API
     * family of {@code uri} (the request's target, as sent).
     */
    private void refuse(ApiException e, String uri) {
        if (body != null) {
            body.release();
            body = null;
        }
        collecting = null;
        requests++; // an answer is owed, and given here
        answers++;
        FullHttpResponse res = Errors.response(Errors.map(e), Ids.next(), uri == null ? null : uri.split("\\?", 2)[0]);
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // the rest of what the client sends is read and dropped for a while before the connection closes, so a
        // client still writing its body reads the refusal instead of a reset
        draining = true;
        if (ctx.pipeline().get(io.netty.handler.codec.http.HttpServerKeepAliveHandler.class) != null) {
            ctx.pipeline().remove(io.netty.handler.codec.http.HttpServerKeepAliveHandler.class); // it would close at once
        }
        ctx.writeAndFlush(res).addListener(f -> ctx.executor().schedule(() -> {
            ctx.close();
        }, 2, TimeUnit.SECONDS));
    }
}

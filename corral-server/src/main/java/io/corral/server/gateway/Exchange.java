package io.corral.server.gateway;

import io.corral.remote.Upstreams;
import io.corral.api.InferenceTimeoutException;
import io.corral.api.RetriableException;
import io.corral.api.UnavailableException;
import io.corral.remote.RequestHead;
import io.corral.routing.Router;
import io.corral.server.http.Connection;
import io.corral.server.http.Errors;
import io.corral.server.http.EventStream;
import io.corral.server.http.Request;
import io.corral.server.http.Response;
import io.corral.remote.OpenAiWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One forwarded request on the event loop: the router's plan tried runner by runner (a retriable failure
 * before the host answers 2xx moves on, after backoff), then the host's answer passed back as it comes,
 * JSON whole, SSE frame by frame. A stream that breaks off, or stops with neither a finish reason nor
 * {@code [DONE]}, ends with an error event and {@code [DONE]} ({@link StreamEnd}); a missing {@code [DONE]}
 * after a finish is added. Every method runs on the client connection's event loop.
 */
final class Exchange implements Upstreams.Owner, Connection.Forwarded {

    private static final int MAX_ERROR_BODY = 8192;

    private final Gateway gateway;
    private final Connection client;
    private final EventLoop loop;
    private final Request request;
    private final String upstreamPath;
    private final WireScan scan;

    private Router.Plan plan;
    private AutoCloseable admitted;
    private Router.Runner runner;
    private OpenAiWire wire;
    private Upstreams.Link link;
    private boolean lastLinkReused;   // the connection came from the pool
    private boolean retriedStale;
    private boolean heard;            // the host has sent something for this try
    private int refusedStatus;        // the host answered other than 2xx: its body is collected
    private StringBuilder refusal;
    private boolean keepAlive;
    private boolean started;          // our answer's head is out
    private boolean stream;
    private StreamEnd end;
    private UsageTap usage;
    private boolean finished;
    private ScheduledFuture<?> timer;
    private long lastRead;

    Exchange(Gateway gateway, Connection client, Request request, String upstreamPath, WireScan scan) {
        this.gateway = gateway;
        this.client = client;
        this.loop = client.eventLoop();
        this.request = request;
        this.upstreamPath = upstreamPath;
        this.scan = scan;
    }

    EventLoop loop() {
        return loop;
    }

    /** The connection feeding the client now, if any (for back-pressure). */
    @Override
    public io.netty.channel.Channel source() {
        return link == null ? null : link.channel();
    }

    /** Admits the request and makes the first try. */
    void start(Router router, io.corral.spi.Capability needs) {
        try {
            admitted = gateway.models().admit(scan.model());
            plan = router.plan(needs, request.span());
        } catch (RuntimeException e) {
            refuse(Errors.map(e));
            return;
        }
        tryNext();
    }

    private void tryNext() {
        if (finished) {
            return;
        }
        runner = plan.next();
        if (runner == null) {
            refuse(Errors.map(plan.exhausted()));
            return;
        }
        wire = (OpenAiWire) runner.provider();
        gateway.upstreams().acquire(loop, wire.endpoint(), this, false);
    }

    @Override
    public void connected(Upstreams.Link l) {
        if (finished) {
            gateway.upstreams().release(l, true); // nothing was sent on it
            return;
        }
        link = l;
        lastLinkReused = l.reused();
        heard = false;
        refusedStatus = 0;
        byte[] bytes = scan.upstreamBody(request.body(), runner.upstreamModel());
        OpenAiWire.Endpoint ep = wire.endpoint();
        byte[] head = RequestHead.of("POST", ep.baseUrl().getRawPath() + upstreamPath, ep.baseUrl().getHost() + ":" + ep.port(),
                ep.authorization(), bytes.length);
        ByteBuf req = l.channel().alloc().directBuffer(head.length + bytes.length).writeBytes(head).writeBytes(bytes);
        l.channel().writeAndFlush(req, l.channel().voidPromise());
        lastRead = System.nanoTime();
        arm(ep.firstByteTimeout());
    }

    @Override
    public void connectFailed(Throwable cause) {
        failedBeforeStart(wire.unreachable(cause instanceof IOException io ? io : new IOException(cause),
                wire.endpoint().connectTimeout()));
    }

    @Override
    public void received(Object msg) {
        heard = true;
        lastRead = System.nanoTime();
        if (finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse r) {
            head(r);
        }
        if (msg instanceof HttpContent c) {
            content(c);
        }
    }

    private void head(HttpResponse r) {
        int status = r.status().code();
        if (status / 100 == 1) {
            return; // an interim answer; its empty last content is skipped too
        }
        keepAlive = HttpUtil.isKeepAlive(r);
        if (status / 100 != 2) {
            refusedStatus = status;
            refusal = new StringBuilder();
            return;
        }
        plan.started(runner);
        started = true;
        usage = new UsageTap(scan.includeUsage());
        String type = r.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/json");
        stream = type.startsWith("text/event-stream");
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, r.status(), false);
        HttpHeaders h = out.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, type);
        stamp(h);
        h.set(Response.RUNNER, runner.provider().id());
        h.setInt(Response.ATTEMPTS, plan.attempts());
        if (stream) {
            end = new StreamEnd();
            h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
            HttpUtil.setTransferEncodingChunked(out, true);
        } else if (r.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, r.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        } else {
            HttpUtil.setTransferEncodingChunked(out, true);
        }
        client.write(out);
        arm(wire.endpoint().idleTimeout());
    }

    private void content(HttpContent c) {
        ByteBuf bytes = c.content();
        boolean last = c instanceof LastHttpContent;
        if (refusedStatus != 0) {
            if (refusal.length() < MAX_ERROR_BODY) {
                refusal.append(bytes.toString(StandardCharsets.UTF_8), 0,
                        Math.min(bytes.readableBytes(), MAX_ERROR_BODY - refusal.length()));
            }
            c.release();
            if (last) {
                refused();
            }
            return;
        }
        if (!started) {
            c.release(); // an interim answer's end
            return;
        }
        if (stream) {
            end.see(bytes);
            ByteBuf whole = usage.frames(bytes.retain(), client.alloc()); // whole frames; the usage chunk read
            c.release();
            if (whole.isReadable()) {
                client.write(new DefaultHttpContent(whole));
            } else {
                whole.release();
            }
            if (!last) {
                return;
            }
            ByteBuf rest = usage.rest();
            if (rest.isReadable()) {
                client.write(new DefaultHttpContent(rest));
            } else {
                rest.release();
            }
            if (!end.finished() && !end.done()) {
                RuntimeException cut = brokeOff(new EOFException("it ended without a finish reason"));
                plan.brokeOff(runner, cut);
                Errors.Mapped m = Errors.map(cut);
                closeStream(m);
                releaseLink(keepAlive);
                finish(m.status());
                return;
            }
            if (!end.done()) {
                client.write(new DefaultHttpContent(Unpooled.wrappedBuffer(EventStream.DONE))); // clients wait for it
            }
        } else {
            usage.json(bytes);
            if (!last) {
                client.write(c);
                return;
            }
            if (bytes.isReadable()) {
                client.write(new DefaultHttpContent(bytes));
            } else {
                c.release();
            }
            usage.jsonDone();
        }
        client.write(LastHttpContent.EMPTY_LAST_CONTENT);
        releaseLink(keepAlive);
        if (usage.promptTokens() >= 0) {
            request.tokens(usage.promptTokens(), usage.completionTokens());
            plan.generation().set("gen_ai.usage.input_tokens", usage.promptTokens())
                    .set("gen_ai.usage.output_tokens", usage.completionTokens());
        }
        finish(200);
    }

    /** The host said no: a retriable refusal moves on to the next runner, any other is the answer. */
    private void refused() {
        RuntimeException e = wire.refused(refusedStatus, refusal.toString());
        releaseLink(keepAlive);
        failedBeforeStart(e);
    }

    @Override
    public void readComplete() {
        client.flush();
    }

    @Override
    public void closed() {
        link = null;
        if (finished) {
            return;
        }
        if (!started && !heard && !retriedStale && lastLinkReused) {
            retriedStale = true; // a pooled connection the host had closed: once more on a new one, not a new try
            gateway.upstreams().acquire(loop, wire.endpoint(), this, true);
            return;
        }
        IOException cut = new EOFException("the connection closed");
        if (started) {
            brokeOffAfterStart(cut);
        } else {
            failedBeforeStart(wire.unreachable(cut, wire.endpoint().firstByteTimeout()));
        }
    }

    private void failedBeforeStart(RuntimeException e) {
        cancelTimer();
        dropLink();
        if (finished) {
            return;
        }
        if (e instanceof RetriableException) {
            Duration wait = plan.failed(runner, e);
            runner = null;
            loop.schedule(this::tryNext, wait.toNanos(), TimeUnit.NANOSECONDS);
        } else {
            plan.refused(runner, e);
            runner = null;
            refuse(Errors.map(e));
        }
    }

    /** A failure after our answer began: reported in the stream (or by closing a JSON answer), never retried. */
    private void brokeOffAfterStart(IOException e) {
        dropLink();
        RuntimeException cut = brokeOff(e);
        plan.brokeOff(runner, cut);
        Errors.Mapped m = Errors.map(cut);
        if (stream) {
            closeStream(m);
            client.flush();
        } else {
            client.close(); // a JSON body cut short cannot be mended
        }
        finish(m.status());
    }

    /** What a forwarded answer that broke off after it began is reported as. */
    private RuntimeException brokeOff(IOException e) {
        return e instanceof SocketTimeoutException
                ? new InferenceTimeoutException("upstream " + runner.provider().id() + " went silent: " + e.getMessage())
                : new UnavailableException("upstream " + runner.provider().id() + " cut the stream: " + e.getMessage(), e);
    }

    private void closeStream(Errors.Mapped m) {
        client.write(new DefaultHttpContent(Unpooled.wrappedBuffer(EventStream.frame(Errors.body(m)))));
        client.write(new DefaultHttpContent(Unpooled.wrappedBuffer(EventStream.DONE)));
        client.write(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** Answers with an error before anything else was sent. */
    private void refuse(Errors.Mapped m) {
        FullHttpResponse res = Errors.response(m, request.id());
        client.write(res);
        client.flush();
        finish(m.status());
    }

    /** The client went away: hang up on the host, which stops generating. */
    @Override
    public void clientGone() {
        if (!finished) {
            dropLink();
            finish(499);
        }
    }

    /** The server is stopping: a running stream ends with an error event, a request not yet answered is refused. */
    void shutdown() {
        if (finished) {
            return;
        }
        if (!started) {
            dropLink();
            refuse(Errors.SHUTTING_DOWN);
        } else if (stream) {
            dropLink();
            closeStream(Errors.SHUTTING_DOWN);
            client.flush();
            finish(Errors.SHUTTING_DOWN.status());
        }
    }

    private void stamp(HttpHeaders h) {
        h.set(Response.REQUEST_ID, request.id());
        request.rateLimitHeaders().forEach(h::set); // the key's limits, as on a decoded answer
    }

    /** One timer per request: the first-byte deadline, then the idle one, checked against the last read. */
    private void arm(Duration timeout) {
        cancelTimer();
        timer = loop.schedule(this::checkTimeout, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void checkTimeout() {
        timer = null;
        if (finished || link == null) {
            return;
        }
        if (!started) {
            Duration t = wire.endpoint().firstByteTimeout();
            failedBeforeStart(wire.unreachable(new SocketTimeoutException("no answer"), t));
            return;
        }
        long idle = wire.endpoint().idleTimeout().toNanos();
        long quiet = System.nanoTime() - lastRead;
        if (quiet < idle) {
            timer = loop.schedule(this::checkTimeout, idle - quiet, TimeUnit.NANOSECONDS);
        } else {
            brokeOffAfterStart(new SocketTimeoutException("no bytes for " + idle / 1_000_000_000.0 + " s"));
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Gives the connection back to the pool (its answer was read to the end) or closes it. */
    private void releaseLink(boolean reusable) {
        if (link != null) {
            Upstreams.Link l = link;
            link = null;
            gateway.upstreams().release(l, reusable);
        }
    }

    private void dropLink() {
        releaseLink(false);
    }

    private void finish(int status) {
        finished = true;
        cancelTimer();
        if (usage != null) {
            usage.release(); // whatever an abandoned stream still held
        }
        if (runner != null) {
            plan.released(runner);
            runner = null;
        }
        if (admitted != null) {
            try {
                admitted.close();
            } catch (Exception ignored) {
                // a semaphore's release does not fail
            }
        }
        client.flush(); // the connection may be back in the pool before its read completes
        gateway.done(this, client, request, status);
    }
}

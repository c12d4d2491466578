package io.corral.remote;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;

import javax.net.ssl.SSLException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive connections to the upstream hosts (plain or TLS), opened on the event loop of the request that
 * needs one and pooled per loop (newest first), so a forwarded request never leaves its thread. Used on
 * event-loop threads only: the gateway's forwarding, and {@link NettyTransport} for blocking callers.
 */
public final class Upstreams {

    private static final int MAX_IDLE_PER_HOST = 256;

    private final EventLoops loops;
    private final FastThreadLocal<Map<String, ArrayDeque<Link>>> idle = new FastThreadLocal<>() {
        @Override
        protected Map<String, ArrayDeque<Link>> initialValue() {
            return new HashMap<>();
        }
    };
    private volatile SslContext tls;
    private final Map<java.nio.file.Path, SslContext> withCa = new java.util.concurrent.ConcurrentHashMap<>();

    public Upstreams(EventLoops loops) {
        this.loops = loops;
    }

    /** The event loops its connections run on. */
    public EventLoops loops() {
        return loops;
    }

    /** What a connection tells the exchange it serves. */
    public interface Owner {
        void connected(Link link);

        void connectFailed(Throwable cause);

        void received(Object httpObject);

        void readComplete();

        void closed();
    }

    /** A connection to one host and the exchange it serves now (none while pooled). */
    public static final class Link extends ChannelInboundHandlerAdapter {
        private final String key;
        private Channel channel;
        private Owner owner;
        private boolean reused;

        private Link(String key) {
            this.key = key;
        }

        public Channel channel() {
            return channel;
        }

        /** Whether it came from the pool (the host may have closed it meanwhile). */
        public boolean reused() {
            return reused;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (owner != null) {
                owner.received(msg);
            } else {
                ReferenceCountUtil.release(msg); // nothing is asked: a pooled connection has nothing to say
                ctx.close();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (owner != null) {
                owner.readComplete();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Owner o = owner;
            owner = null;
            if (o != null) {
                o.closed();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // reported to the owner as closed
        }
    }

    /** Gives {@code owner} a connection to the endpoint's host, pooled or new, on {@code loop}. */
    public void acquire(EventLoop loop, OpenAiWire.Endpoint endpoint, Owner owner, boolean fresh) {
        String key = endpoint.baseUrl().getScheme() + "://" + endpoint.baseUrl().getHost() + ":" + endpoint.port()
                + (endpoint.caFile() == null ? "" : " " + endpoint.caFile()); // a connection trusts what its host's config says
        ArrayDeque<Link> pool = fresh ? null : idle.get().get(key);
        for (Link l; pool != null && (l = pool.pollFirst()) != null; ) {
            if (l.channel.isActive()) {
                l.owner = owner;
                l.reused = true;
                owner.connected(l);
                return;
            }
        }
        Link link = new Link(key);
        link.owner = owner;
        SslContext ssl = endpoint.tls() ? tls(endpoint.caFile()) : null;
        link.channel = new Bootstrap().group(loop).channel(loops.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, endpoint.connectTimeout().toMillis()))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), endpoint.baseUrl().getHost(), endpoint.port()));
                        }
                        // requests go out as bytes (RequestHead); answers are decoded, from a host we chose to trust
                        ch.pipeline().addLast(new HttpResponseDecoder(new HttpDecoderConfig().setValidateHeaders(false)), link);
                    }
                })
                .connect(endpoint.baseUrl().getHost(), endpoint.port())
                .addListener((ChannelFutureListener) f -> {
                    if (link.owner != owner) {
                        return; // the owner has gone meanwhile
                    }
                    if (f.isSuccess()) {
                        owner.connected(link);
                    } else {
                        link.owner = null;
                        owner.connectFailed(f.cause());
                    }
                }).channel();
    }

    /** Takes a connection back: pooled when its answer was read to the end and the host keeps it open. */
    public void release(Link link, boolean reusable) {
        link.owner = null;
        link.channel.config().setAutoRead(true); // it may have been paused for a slow client
        if (reusable && link.channel.isActive()) {
            ArrayDeque<Link> pool = idle.get().computeIfAbsent(link.key, k -> new ArrayDeque<>());
            if (pool.size() < MAX_IDLE_PER_HOST) {
                pool.addFirst(link);
                return;
            }
        }
        link.channel.close();
    }

    private SslContext tls(java.nio.file.Path caFile) {
        if (caFile != null) {
            return withCa.computeIfAbsent(caFile, Upstreams::trusting);
        }
        if (tls == null) {
            try {
                tls = SslContextBuilder.forClient().build();
            } catch (SSLException e) {
                throw new IllegalStateException("TLS is not available: " + e.getMessage(), e);
            }
        }
        return tls;
    }

    /** A client context trusting the platform's CAs and the one in {@code caFile}. */
    private static SslContext trusting(java.nio.file.Path caFile) {
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            store.load(null, null);
            javax.net.ssl.TrustManagerFactory platform = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            platform.init((java.security.KeyStore) null);
            int n = 0;
            for (javax.net.ssl.TrustManager tm : platform.getTrustManagers()) {
                if (tm instanceof javax.net.ssl.X509TrustManager x) {
                    for (java.security.cert.X509Certificate c : x.getAcceptedIssuers()) {
                        store.setCertificateEntry("platform-" + n++, c);
                    }
                }
            }
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(caFile)) {
                for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificates(in)) {
                    store.setCertificateEntry("ca-" + n++, c);
                }
            }
            javax.net.ssl.TrustManagerFactory f = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            f.init(store);
            return SslContextBuilder.forClient().trustManager(f).build();
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            throw new io.corral.api.InvalidRequestException("tls_verify", "cannot read the CA certificate " + caFile + ": "
                    + e.getMessage());
        }
    }
}

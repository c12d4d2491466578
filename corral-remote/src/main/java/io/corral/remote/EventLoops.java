package io.corral.remote;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.TimeUnit;

/**
 * Event-loop threads and the socket classes that go with them: epoll on Linux, NIO elsewhere. A server has its
 * own ({@link #start()}); clients outside a server share {@link #shared()}.
 */
public record EventLoops(EventLoopGroup group, Class<? extends ServerChannel> serverChannel,
                  Class<? extends SocketChannel> channel) implements AutoCloseable {

    /** As many threads as cores, or {@code -Dcorral.event-loops=N}. */
    public static EventLoops start() {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED); // tests turn it on (pom.xml)
        }
        return start("corral-front", Integer.getInteger("corral.event-loops", Runtime.getRuntime().availableProcessors()));
    }

    private static volatile EventLoops shared;

    /** The loops of remote providers' connections (daemon threads, as many as cores up to 4), started on first use. */
    public static EventLoops shared() {
        EventLoops s = shared;
        if (s == null) {
            synchronized (EventLoops.class) {
                if (shared == null) {
                    shared = start("corral-client", Math.min(4, Runtime.getRuntime().availableProcessors()));
                }
                s = shared;
            }
        }
        return s;
    }

    private static EventLoops start(String name, int threads) {
        DefaultThreadFactory names = new DefaultThreadFactory(name, true);
        return Epoll.isAvailable()
                ? new EventLoops(new EpollEventLoopGroup(threads, names), EpollServerSocketChannel.class, EpollSocketChannel.class)
                : new EventLoops(new NioEventLoopGroup(threads, names), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

package io.corral.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;

/**
 * The floor of an event-loop design, for comparison with Helidon's thread per connection
 * (bench/gateway.sh with FLOOR=1): a byte-for-byte TCP proxy on Netty's epoll transport, one upstream
 * connection per client connection, nothing parsed at all. Not a gateway: it cannot route or fall back.
 *
 *   NettyFloor PORT [UPSTREAM_PORT] [EVENT_LOOP_THREADS]
 */
public final class NettyFloor {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int upstream = args.length > 1 ? Integer.parseInt(args[1]) : 18000;
        EventLoopGroup group = new EpollEventLoopGroup(args.length > 2 ? Integer.parseInt(args[2]) : 1);
        new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true).childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Front(upstream));
                    }
                }).bind("127.0.0.1", port).sync().channel().closeFuture().sync();
    }

    /** Reads from the client, writes to its upstream connection (opened on the same event loop). */
    private static final class Front extends ChannelInboundHandlerAdapter {
        private final int upstream;
        private Channel out;

        Front(int upstream) {
            this.upstream = upstream;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel in = ctx.channel();
            ChannelFuture f = new Bootstrap().group(in.eventLoop()).channel(EpollSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true).option(ChannelOption.AUTO_READ, false)
                    .handler(new Pipe(in)).connect("127.0.0.1", upstream);
            out = f.channel();
            f.addListener((ChannelFutureListener) r -> {
                if (r.isSuccess()) {
                    in.read();
                    out.read();
                } else {
                    in.close();
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            forward(ctx, out, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (out != null) {
                out.close();
            }
        }
    }

    /** Reads from the upstream, writes to the client. */
    private static final class Pipe extends ChannelInboundHandlerAdapter {
        private final Channel in;

        Pipe(Channel in) {
            this.in = in;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            forward(ctx, in, msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            in.close();
        }
    }

    /** Writes, then reads the next bytes once they are out (back-pressure). */
    private static void forward(ChannelHandlerContext from, Channel to, Object msg) {
        to.writeAndFlush(msg).addListener((ChannelFutureListener) r -> {
            if (r.isSuccess()) {
                from.channel().read();
            } else {
                r.channel().close();
            }
        });
    }
}

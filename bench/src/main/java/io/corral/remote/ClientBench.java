package io.corral.remote;

import com.sun.net.httpserver.HttpServer;

import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * CPU per request of Corral's one HTTP client ({@link NettyTransport}) against the JDK's {@link HttpClient},
 * each sending small JSON POSTs from {@code clients} virtual threads to a host in another process, in
 * interleaved runs. {@code java ... io.corral.remote.ClientBench serve PORT} is that host;
 * {@code java ... io.corral.remote.ClientBench PORT [clients] [requests per client] [runs]} measures.
 */
public final class ClientBench {

    static final byte[] ANSWER = ("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
            + "{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
            + "\"completion_tokens\":1,\"total_tokens\":4}}").getBytes(StandardCharsets.UTF_8);
    static final byte[] ASK = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":1}"
            .getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        if (args[0].equals("serve")) {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])), 1024);
            s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            s.createContext("/v1/chat/completions", ex -> {
                ex.getRequestBody().readAllBytes();
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, ANSWER.length);
                ex.getResponseBody().write(ANSWER);
                ex.close();
            });
            s.start();
            return;
        }
        URI uri = URI.create("http://127.0.0.1:" + args[0] + "/v1/chat/completions");
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int each = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        NettyTransport netty = NettyTransport.SHARED;
        HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(Executors.newVirtualThreadPerTaskExecutor()).connectTimeout(Duration.ofSeconds(2)).build();
        Sender viaNetty = () -> {
            Transport.Response r = netty.send(new Transport.Request("POST", uri, null, ASK, Duration.ofSeconds(2),
                    Duration.ofSeconds(10), Duration.ofSeconds(10)));
            try (InputStream in = r.body()) {
                in.readAllBytes();
            }
        };
        Sender viaJdk = () -> {
            HttpResponse<byte[]> r = jdk.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .header("Accept", Transport.ACCEPT).POST(HttpRequest.BodyPublishers.ofByteArray(ASK)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("status " + r.statusCode());
            }
        };
        run(viaNetty, clients, each / 5); // warm both up
        run(viaJdk, clients, each / 5);
        List<Double> n = new ArrayList<>();
        List<Double> j = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            n.add(run(viaNetty, clients, each));
            j.add(run(viaJdk, clients, each));
            System.out.printf("run %d: netty %.1f µs CPU/request, JDK %.1f%n", i + 1, n.getLast(), j.getLast());
        }
        double mn = median(n);
        double mj = median(j);
        System.out.printf("median of %d at %d clients: Corral's client (Netty) %.1f µs, JDK HttpClient %.1f µs: %.0f%% less%n",
                runs, clients, mn, mj, 100 * (1 - mn / mj));
        System.exit(0);
    }

    interface Sender {
        void send() throws Exception;
    }

    /** Process CPU per request, in µs. */
    static double run(Sender sender, int clients, int each) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                all.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        sender.send();
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        }
        return (os.getProcessCpuTime() - cpu0) / 1000.0 / ((long) clients * each);
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}

package io.corral.api;

import com.sun.net.httpserver.HttpServer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@link UrlPolicyTest}'s rebinding through the JVM's own resolver, in a JVM of its own (it holds the machine's own name public). */
public final class RebindProbe {

    public static void main(String[] args) throws Exception {
        String name = args[0];
        InetAddress address = InetAddress.getByName(name); // what the name means now (names are not cached here)
        System.out.println("private=" + UrlPolicy.isPrivate(address));
        PublicHostsResolver.holdPublic(name); // as if checked while public, its DNS since turned private
        List<String> served = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(address, 0), 0);
        server.createContext("/", x -> {
            served.add(x.getRequestURI().getPath());
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        server.start();
        int port = server.getAddress().getPort();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            try {
                int status = http.send(HttpRequest.newBuilder(URI.create("http://" + name + ":" + port + "/by-name")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                System.out.println("name=reached " + status);
            } catch (java.io.IOException e) {
                System.out.println("name=failed " + e);
            }
            System.out.println("address=" + http.send(HttpRequest.newBuilder(URI.create("http://" + address.getHostAddress() + ":" + port + "/by-address")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
            try {
                System.out.println("lookup=" + List.of(InetAddress.getAllByName(name)).stream().map(InetAddress::getHostAddress).toList());
            } catch (java.net.UnknownHostException e) {
                System.out.println("lookup=unknown");
            }
            try {
                UrlPolicy.PUBLIC_ONLY.check("http://" + name + ":" + port + "/again", "url");
                System.out.println("check=passed");
            } catch (InvalidRequestException e) {
                System.out.println("check=" + e.getMessage());
            }
            System.out.println("served=" + served);
        } finally {
            server.stop(0);
        }
    }
}

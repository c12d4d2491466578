package io.corral.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.corral.api.UnavailableException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A call from a command to a running {@code corral serve}: its key (the option, or CORRAL_API_KEY), its JSON answer. */
final class ServerCall {

    private ServerCall() {
    }

    /**
     * {@code GET} (body null) or {@code POST} to {@code url + path}; the answer's JSON when it is 200, else an
     * {@link UnavailableException} with the server's message, or saying no server answers.
     */
    static JsonNode send(String url, String path, String apiKey, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30));
        String key = apiKey != null ? apiKey : System.getenv("CORRAL_API_KEY");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        b = body == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()) {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UnavailableException("no Corral server at " + url + " (start one with `corral serve`)");
        }
        JsonNode json = new ObjectMapper().readTree(r.body());
        if (r.statusCode() != 200) {
            throw new UnavailableException(url + " answered " + r.statusCode() + ": " + json.at("/error/message").asText());
        }
        return json;
    }
}

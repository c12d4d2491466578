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

    /** A server's answer: its status and its JSON (a missing node when the body was none, or not JSON). */
    record Answer(int status, JsonNode json) {
        /** The error's message, as the server's OpenAI-style error body says it. */
        String message() {
            return json.at("/error/message").asText();
        }
    }

    private ServerCall() {
    }

    /**
     * {@code GET} (body null) or {@code POST} to {@code url + path}; the answer's JSON when it is 200, else an
     * {@link UnavailableException} with the server's message, or saying no server answers.
     */
    static JsonNode send(String url, String path, String apiKey, String body) throws IOException, InterruptedException {
        Answer a;
        try {
            a = exchange(url, path, apiKey, body, Duration.ofSeconds(30));
        } catch (IOException e) {
            a = null;
        }
        if (a == null) {
            throw new UnavailableException("no Corral server at " + url + " (start one with `corral serve`)");
        }
        if (a.status() != 200) {
            throw new UnavailableException(url + " answered " + a.status() + ": " + a.message());
        }
        return a.json();
    }

    /**
     * {@code GET} (body null) or {@code POST} of JSON to {@code url + path}, waiting up to {@code timeout} for the answer;
     * null when no server listens at {@code url} (the connection is refused); another failure to reach it is thrown.
     */
    static Answer exchange(String url, String path, String apiKey, String body, Duration timeout) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(timeout);
        String key = apiKey != null ? apiKey : System.getenv("CORRAL_API_KEY");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        b = body == null ? b.GET() : b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()) {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            return null;
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode answer;
        try {
            answer = r.body().isBlank() ? json.missingNode() : json.readTree(r.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) { // something other than Corral answers there
            answer = json.missingNode();
        }
        return new Answer(r.statusCode(), answer);
    }
}

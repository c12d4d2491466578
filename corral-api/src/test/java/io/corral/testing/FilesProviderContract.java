package io.corral.testing;

import io.corral.api.InvalidRequestException;
import io.corral.spi.FilesProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every {@link FilesProvider} must do; an implementation's test extends this. */
public abstract class FilesProviderContract {

    protected final TestClock clock = new TestClock(Instant.parse("2026-11-27T12:00:00Z"));
    protected FilesProvider files;

    protected abstract FilesProvider open(TestClock clock);

    @BeforeEach
    void openFiles() {
        files = open(clock);
    }

    @AfterEach
    void closeFiles() {
        files.close();
    }

    protected static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anUpload_isListedRetrievedReadAndDeleted() throws Exception {
        var info = files.upload("notes.txt", "assistants", bytes("The cat sat on the mat."));
        assertThat(info.id()).startsWith("file-");
        assertThat(info.bytes()).isEqualTo(23);
        assertThat(info.createdAt()).isEqualTo(clock.instant().getEpochSecond());
        assertThat(files.get(info.id())).contains(info);
        try (InputStream in = files.content(info.id()).orElseThrow()) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("The cat sat on the mat.");
        }
        assertThat(files.delete(info.id())).isTrue();
        assertThat(files.get(info.id())).isEmpty();
        assertThat(files.content(info.id())).isEmpty();
        assertThat(files.delete(info.id())).isFalse();
    }

    @Test
    void theList_isNewestFirst_andByPurpose() {
        var a = files.upload("a.txt", "assistants", bytes("a"));
        clock.advance(Duration.ofSeconds(5));
        var b = files.upload("b.jsonl", "batch", bytes("b"));
        clock.advance(Duration.ofSeconds(5));
        var c = files.upload("c.txt", "assistants", bytes("c"));
        assertThat(files.list(null)).extracting(FilesProvider.FileInfo::id).containsExactly(c.id(), b.id(), a.id());
        assertThat(files.list("assistants")).extracting(FilesProvider.FileInfo::id).containsExactly(c.id(), a.id());
    }

    @Test
    void unknownIds_andBadUploads_areRefusedCleanly() {
        assertThat(files.get("file-nope")).isEmpty();
        assertThat(files.get("../../etc/passwd")).isEmpty();
        assertThat(files.content("../../etc/passwd")).isEmpty();
        assertThat(files.delete("../x")).isFalse();
        assertThatThrownBy(() -> files.upload("", "assistants", bytes("x"))).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> files.upload("x.txt", null, bytes("x"))).isInstanceOf(InvalidRequestException.class);
    }
}

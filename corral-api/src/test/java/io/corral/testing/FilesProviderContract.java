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

    protected static final String TENANT = "key-0123456789abcdef";
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
        var info = files.upload(TENANT, "notes.txt", "assistants", null, bytes("The cat sat on the mat."));
        assertThat(info.id()).startsWith("file-");
        assertThat(info.bytes()).isEqualTo(23);
        assertThat(info.createdAt()).isEqualTo(clock.instant().getEpochSecond());
        assertThat(files.get(TENANT, info.id())).contains(info);
        try (InputStream in = files.content(TENANT, info.id()).orElseThrow()) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("The cat sat on the mat.");
        }
        assertThat(files.delete(TENANT, info.id())).isTrue();
        assertThat(files.get(TENANT, info.id())).isEmpty();
        assertThat(files.content(TENANT, info.id())).isEmpty();
        assertThat(files.delete(TENANT, info.id())).isFalse();
    }

    @Test
    void theList_isNewestFirst_andByPurpose() {
        var a = files.upload(TENANT, "a.txt", "assistants", null, bytes("a"));
        clock.advance(Duration.ofSeconds(5));
        var b = files.upload(TENANT, "b.jsonl", "batch", null, bytes("b"));
        clock.advance(Duration.ofSeconds(5));
        var c = files.upload(TENANT, "c.txt", "assistants", null, bytes("c"));
        assertThat(files.list(TENANT, null)).extracting(FilesProvider.FileInfo::id).containsExactly(c.id(), b.id(), a.id());
        assertThat(files.list(TENANT, "assistants")).extracting(FilesProvider.FileInfo::id).containsExactly(c.id(), a.id());
    }

    @Test
    void unknownIds_andBadUploads_areRefusedCleanly() {
        assertThat(files.get(TENANT, "file-nope")).isEmpty();
        assertThat(files.get(TENANT, "../../etc/passwd")).isEmpty();
        assertThat(files.content(TENANT, "../../etc/passwd")).isEmpty();
        assertThat(files.delete(TENANT, "../x")).isFalse();
        assertThatThrownBy(() -> files.upload(TENANT, "", "assistants", null, bytes("x"))).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> files.upload(TENANT, "x.txt", null, null, bytes("x"))).isInstanceOf(InvalidRequestException.class);
    }

    @Test
    void aTenantSeesOnlyItsOwnFiles_andNoTenantIsItsOwnSharedOne() {
        var mine = files.upload(TENANT, "mine.txt", "assistants", null, bytes("mine"));
        var shared = files.upload(null, "shared.txt", "assistants", null, bytes("shared"));
        String other = "key-fedcba9876543210";
        assertThat(files.list(other, null)).isEmpty();
        assertThat(files.get(other, mine.id())).isEmpty();
        assertThat(files.content(other, mine.id())).isEmpty();
        assertThat(files.delete(other, mine.id())).isFalse();
        assertThat(files.get(TENANT, mine.id())).isPresent(); // still there for its own tenant
        assertThat(files.list(null, null)).extracting(FilesProvider.FileInfo::id).containsExactly(shared.id());
        assertThat(files.list(TENANT, null)).extracting(FilesProvider.FileInfo::id).containsExactly(mine.id());
    }

    @Test
    void anExpiredFile_isGone() {
        var brief = files.upload(TENANT, "brief.txt", "assistants", 3600L, bytes("soon gone"));
        var kept = files.upload(TENANT, "kept.txt", "assistants", null, bytes("kept"));
        assertThat(brief.expiresAt()).isEqualTo(brief.createdAt() + 3600);
        clock.advance(Duration.ofSeconds(3599));
        assertThat(files.get(TENANT, brief.id())).isPresent();
        clock.advance(Duration.ofSeconds(2));
        assertThat(files.get(TENANT, brief.id())).isEmpty();
        assertThat(files.content(TENANT, brief.id())).isEmpty();
        assertThat(files.list(TENANT, null)).extracting(FilesProvider.FileInfo::id).containsExactly(kept.id());
    }
}

package io.corral.retrieval;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Follows a knowledge folder while the server runs: after changes (once the folder has been quiet for
 * {@code quietMillis}) it syncs the store again. Folders made later are watched too.
 */
public final class FolderWatch implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("corral.retrieval");

    private final WatchService watcher;
    private final Thread thread;

    public FolderWatch(Path folder, long quietMillis, Callable<FolderSync.Summary> sync, Consumer<FolderSync.Summary> synced)
            throws IOException {
        this.watcher = FileSystems.getDefault().newWatchService();
        register(folder);
        this.thread = Thread.ofPlatform().daemon().name("corral-watch-" + folder.getFileName()).start(() -> {
            try {
                while (true) {
                    WatchKey key = watcher.take();
                    key.pollEvents();
                    key.reset();
                    // wait for the folder to be quiet, so a file being written is read whole
                    WatchKey more;
                    while ((more = watcher.poll(quietMillis, TimeUnit.MILLISECONDS)) != null) {
                        more.pollEvents();
                        more.reset();
                    }
                    register(folder);
                    try {
                        synced.accept(sync.call());
                    } catch (Exception e) {
                        LOG.log(System.Logger.Level.WARNING, "syncing " + folder + " failed: " + e.getMessage());
                    }
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                // closed
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "watching " + folder + " stopped: " + e.getMessage());
            }
        });
    }

    private void register(Path folder) throws IOException {
        Files.walkFileTree(folder, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                        StandardWatchEventKinds.ENTRY_MODIFY);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        thread.interrupt();
    }
}

package io.corral.api;

/** How full a conversation's context window is. */
public record ContextUsage(int used, int capacity) {

    public double percent() {
        return capacity == 0 ? 0 : 100.0 * used / capacity;
    }

    @Override
    public String toString() {
        return "%d / %d tokens (%.1f%%)".formatted(used, capacity, percent());
    }
}

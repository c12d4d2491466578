package io.corral.llamacpp.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Opens a shared library and says why when it cannot: the dynamic loader's own message ({@code dlerror}: which
 * dependency is missing), which {@link SymbolLookup#libraryLookup} does not pass on. On Windows, where there is no
 * {@code dlopen}, the JDK's message.
 */
final class Dl {

    private static final int RTLD_NOW = 2;

    /** A library opened ({@code lookup} set) or not ({@code error} set). */
    record Opened(SymbolLookup lookup, String error) {
    }

    private Dl() {
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    static Opened open(Path library) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Optional<MemorySegment> dlopen = libc.find("dlopen");
        if (System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("win") || dlopen.isEmpty()) {
            try {
                return new Opened(SymbolLookup.libraryLookup(library, Arena.global()), "");
            } catch (IllegalArgumentException e) {
                return new Opened(null, e.getMessage());
            }
        }
        MethodHandle open = linker.downcallHandle(dlopen.get(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle error = linker.downcallHandle(libc.find("dlerror").orElseThrow(), FunctionDescriptor.of(ADDRESS));
        MethodHandle sym = linker.downcallHandle(libc.find("dlsym").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) open.invokeExact(arena.allocateFrom(library.toString()), RTLD_NOW);
            if (handle.equals(MemorySegment.NULL)) {
                MemorySegment message = (MemorySegment) error.invokeExact();
                String why = message.equals(MemorySegment.NULL) ? "cannot open " + library
                        : message.reinterpret(Long.MAX_VALUE).getString(0);
                return new Opened(null, why);
            }
            SymbolLookup lookup = name -> {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment address = (MemorySegment) sym.invokeExact(handle, a.allocateFrom(name));
                    return address.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(address);
                } catch (Throwable t) {
                    throw rethrow(t);
                }
            };
            return new Opened(lookup, "");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}

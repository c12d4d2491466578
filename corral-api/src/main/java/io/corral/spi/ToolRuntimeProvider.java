package io.corral.spi;

import java.util.List;
import java.util.Map;

/**
 * Tools that run outside the model ({@link Api#TOOL_RUNTIME}): an MCP server's tools, web search, RAG, as
 * Llama Stack's tool_runtime lists and invokes them.
 */
public interface ToolRuntimeProvider extends AutoCloseable {

    /** A tool: its name, what it does, and its parameters' JSON Schema (as JSON text). */
    record ToolDef(String name, String description, String parameters) {
    }

    /** What a call returned: its content, or an error message; and anything else the tool says. */
    record Result(String content, String errorMessage, Map<String, Object> metadata) {
    }

    /** The tools of {@code toolGroup} (an MCP server's endpoint, a built-in group). */
    List<ToolDef> tools(String toolGroup);

    Result invoke(String toolName, Map<String, Object> arguments);

    @Override
    void close();
}

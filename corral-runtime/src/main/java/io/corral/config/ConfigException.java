package io.corral.config;

import io.corral.api.NonRetriableException;

/** A distribution config that cannot be used; the message names the file, the line and the key. */
public final class ConfigException extends NonRetriableException {

    public ConfigException(String file, int line, String key, String problem) {
        super("invalid_config", file + ":" + line + ": " + key + ": " + problem, null);
    }
}

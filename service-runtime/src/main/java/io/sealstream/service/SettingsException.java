package io.sealstream.service;

/**
 * A service's configuration cannot be used: a file that cannot be read, an unknown or missing
 * setting, a value of the wrong form. The message names the setting, where its value came from
 * and what to give instead; it never repeats a value that could be secret.
 */
public final class SettingsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SettingsException(String message) {
        super(message);
    }

    public SettingsException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.sealstream.service;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One setting of a service: its name in the config file (dotted, lower case), its default (null:
 * none), whether the service cannot start without it, and what it means. The environment
 * variable that sets it is derived from the name by its service's {@link SettingsSchema}.
 */
public record Setting(String name, String defaultValue, boolean required, String description) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)*");

    public Setting {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a setting name is dotted lower-case words, got '" + name + "'");
        }
        if (required && defaultValue != null) {
            throw new IllegalArgumentException("a required setting has no default: " + name);
        }
    }

    /** The description without its closing full stop, to quote inside a sentence. */
    public String meaning() {
        return description.endsWith(".") ? description.substring(0, description.length() - 1) : description;
    }

    /** A setting the service cannot start without. */
    public static Setting required(String name, String description) {
        return new Setting(name, null, true, description);
    }

    /** A setting with no default that the service can do without (or needs only together with another). */
    public static Setting optional(String name, String description) {
        return new Setting(name, null, false, description);
    }

    /** A setting with a default, written as the config file would hold it. */
    public static Setting withDefault(String name, Object defaultValue, String description) {
        return new Setting(name, String.valueOf(Objects.requireNonNull(defaultValue, "default")), false, description);
    }
}

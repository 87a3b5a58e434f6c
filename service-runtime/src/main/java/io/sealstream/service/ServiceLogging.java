package io.sealstream.service;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Where a Sealstream process's log lines go and in which format: the console (the default of
 * the logging configuration, logback.xml beside this class), a file instead of the console (the
 * CLI's {@code demo} and {@code up}, so the console keeps a short status), and text or JSON
 * lines ({@link #FORMAT}, a setting of every service). Log lines carry ids and codes, never
 * payloads, in either format.
 */
public final class ServiceLogging {
    /** How each line is written. */
    public enum Format {
        /** Time, level, logger and the event's {@code name key=value} message. */
        TEXT,
        /** One JSON object per line (logback's JsonEncoder), for a log collector. */
        JSON;

        static Format parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new SettingsException("log.format is text or json, not '" + value + "'");
            }
        }
    }

    /** Every service's format setting (part of each service's schema). */
    public static final Setting FORMAT = Setting.withDefault("log.format", "text",
            "Format of the service's log lines: text, or json (one object per line, for a log collector).");
    private static final String TEXT_PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{24} %msg%n";
    private static final String FILE_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{24} %msg%n";

    private ServiceLogging() {
    }

    /** Applies the {@link #FORMAT} setting of {@code settings} to the console. */
    public static void apply(ServiceSettings settings) {
        console(Format.parse(settings.string(FORMAT)));
    }

    /** Writes every log line to standard error in {@code format}, replacing the console output there was. */
    public static void console(Format format) {
        LoggerContext context = context();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setTarget("System.err");
        console.setEncoder(encoder(context, format, TEXT_PATTERN));
        console.start();
        replace(context, console);
    }

    /**
     * Writes every log line to {@code file} (appended, text) instead of the console, so the console
     * keeps only what a command prints for people.
     */
    public static void toFile(Path file) {
        LoggerContext context = context();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("file");
        appender.setFile(file.toAbsolutePath().toString());
        appender.setAppend(true);
        appender.setEncoder(encoder(context, Format.TEXT, FILE_PATTERN));
        appender.start();
        replace(context, appender);
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, Format format, String pattern) {
        if (format == Format.JSON) {
            JsonEncoder json = new JsonEncoder();
            json.setContext(context);
            // the event as one string (name key=value ...), not its pattern and arguments apart
            json.setWithFormattedMessage(true);
            json.setWithMessage(false);
            json.setWithArguments(false);
            json.start();
            return json;
        }
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(pattern);
        text.start();
        return text;
    }

    /** Puts {@code appender} on the root logger in place of every console or file appender it had. */
    private static void replace(LoggerContext context, OutputStreamAppender<ILoggingEvent> appender) {
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        List<Appender<ILoggingEvent>> old = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            Appender<ILoggingEvent> a = it.next();
            if (a instanceof OutputStreamAppender) {
                old.add(a);
            }
        }
        root.addAppender(appender);
        for (Appender<ILoggingEvent> a : old) {
            root.detachAppender(a);
            a.stop();
        }
    }

    private static LoggerContext context() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            throw new IllegalStateException("the log configuration needs logback as SLF4J's backend");
        }
        return context;
    }
}

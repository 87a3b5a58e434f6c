package io.sealstream.localstack;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** Captures every log event of this JVM at every level, with stack traces, for canary scans. */
final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    private final Logger root;
    private final ch.qos.logback.classic.Level previous;

    LogCapture() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        previous = root.getLevel();
        setContext(ctx);
        setName("canary-capture");
        start();
        root.addAppender(this);
    }

    @Override
    protected void append(ILoggingEvent e) {
        StringBuilder line = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
        if (e.getThrowableProxy() != null) {
            line.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
        }
        lines.add(line.toString());
    }

    /** Everything captured, one event per line. */
    String text() {
        return String.join("\n", lines);
    }

    int events() {
        return lines.size();
    }

    @Override
    public void close() {
        root.detachAppender(this);
        root.setLevel(previous);
        stop();
    }
}

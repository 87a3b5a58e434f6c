package io.sealstream.localstack;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class whose tests share one {@link LocalStack}: started before the class's first
 * {@code @BeforeAll} method with the options its {@link StackOptions} method gives (the defaults
 * without one), ready when the class starts (every worker answers {@code /readyz}), and closed
 * after its last {@code @AfterAll} method. Tests and {@code @BeforeAll} methods take it as a
 * parameter of type {@link LocalStack}.
 *
 * <p>The options method may use the class's static {@code @TempDir} fields: JUnit's own
 * extensions run first, and the stack is closed before the directory is deleted. {@code @Nested}
 * classes share their enclosing class's stack; a subclass inherits the annotation and options.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(LocalStackExtension.class)
public @interface WithLocalStack {
    /** How long the workers may take to become ready before the class fails. */
    long readySeconds() default LocalStackExtension.DEFAULT_READY_SECONDS;

    /**
     * Whether the class fails when any worker of the stack replaced a failed stream thread while
     * it ran: for classes whose traffic must never fail a thread (hostile input, tenants).
     */
    boolean streamThreadsNeverFail() default false;
}

package io.sealstream.localstack;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;

/**
 * The JUnit 5 extension behind {@link WithLocalStack}: one stack per test class, kept in the
 * class's extension store, which closes it when the class is done, also when a test failed.
 */
public final class LocalStackExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    /** How long a class waits for its stack's workers unless {@link WithLocalStack#readySeconds} says otherwise. */
    public static final long DEFAULT_READY_SECONDS = 120;
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalStackExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (stackOf(context) != null) {
            return; // a @Nested class: its enclosing class's stack serves it
        }
        Class<?> testClass = context.getRequiredTestClass();
        long readySeconds = settings(testClass).map(WithLocalStack::readySeconds).orElse(DEFAULT_READY_SECONDS);
        LocalStack stack = LocalStack.start(options(testClass));
        // an AutoCloseable in the store is closed with the class's context
        context.getStore(NAMESPACE).put(LocalStack.class, stack);
        if (!stack.awaitWorkersReady(Duration.ofSeconds(readySeconds))) {
            throw new IllegalStateException("the local stack's workers were not ready within " + readySeconds
                    + " s; their log lines above say why");
        }
    }

    /** Runs after the class's {@code @AfterAll} methods, before JUnit closes the stack. */
    @Override
    public void afterAll(ExtensionContext context) {
        LocalStack stack = context.getStore(NAMESPACE).get(LocalStack.class, LocalStack.class);
        boolean strict = settings(context.getRequiredTestClass()).map(WithLocalStack::streamThreadsNeverFail).orElse(false);
        if (!strict || stack == null) {
            return;
        }
        List<String> replaced = stack.workers().stream().filter(w -> w.streamThreadReplacements() > 0)
                .map(w -> w.workerId() + " (" + w.streamThreadReplacements() + ")").toList();
        if (!replaced.isEmpty()) {
            throw new AssertionError("stream threads failed and were replaced during the class: " + replaced);
        }
    }

    private static Optional<WithLocalStack> settings(Class<?> testClass) {
        return AnnotationSupport.findAnnotation(testClass, WithLocalStack.class);
    }

    private static LocalStack.Options options(Class<?> testClass) throws ReflectiveOperationException {
        List<Method> marked = AnnotationSupport.findAnnotatedMethods(testClass, StackOptions.class,
                HierarchyTraversalMode.BOTTOM_UP);
        if (marked.isEmpty()) {
            return new LocalStack.Options();
        }
        Method m = marked.get(0);
        if (marked.size() > 1 || !Modifier.isStatic(m.getModifiers()) || m.getParameterCount() != 0
                || m.getReturnType() != LocalStack.Options.class) {
            throw new ExtensionConfigurationException(testClass.getName() + ": one static, parameterless @StackOptions "
                    + "method returning LocalStack.Options, not " + marked.stream().map(Method::getName).toList());
        }
        m.setAccessible(true);
        return (LocalStack.Options) m.invoke(null);
    }

    /** The stack of this class or of a class enclosing it; null before {@link #beforeAll}. */
    private static LocalStack stackOf(ExtensionContext context) {
        return context.getStore(NAMESPACE).get(LocalStack.class, LocalStack.class);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        LocalStack stack = stackOf(context);
        if (stack == null) {
            throw new ParameterResolutionException("no local stack: annotate the test class with @WithLocalStack");
        }
        return stack;
    }
}

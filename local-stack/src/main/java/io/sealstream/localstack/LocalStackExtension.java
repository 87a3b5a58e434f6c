package io.sealstream.localstack;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension behind {@link WithLocalStack}: one stack per test class, kept in the
 * class's extension store, so JUnit closes it when the class is done, also when a test failed.
 */
public final class LocalStackExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalStackExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Class<?> testClass = context.getRequiredTestClass();
        WithLocalStack settings = testClass.getAnnotation(WithLocalStack.class);
        LocalStack stack = LocalStack.start(options(testClass));
        context.getStore(NAMESPACE).put(testClass, (ExtensionContext.Store.CloseableResource) stack::close);
        context.getStore(NAMESPACE).put(LocalStack.class, stack);
        Duration ready = Duration.ofSeconds(settings == null ? 120 : settings.readySeconds());
        if (!stack.awaitWorkersReady(ready)) {
            throw new IllegalStateException("the local stack's workers were not ready within " + ready.toSeconds()
                    + " s; their log lines above say why");
        }
    }

    /** Runs after the class's {@code @AfterAll} methods, before JUnit closes the stack. */
    @Override
    public void afterAll(ExtensionContext context) {
        WithLocalStack settings = context.getRequiredTestClass().getAnnotation(WithLocalStack.class);
        LocalStack stack = context.getStore(NAMESPACE).get(LocalStack.class, LocalStack.class);
        if (settings == null || !settings.streamThreadsNeverFail() || stack == null) {
            return;
        }
        List<String> replaced = stack.workers().stream().filter(w -> w.streamThreadReplacements() > 0)
                .map(w -> w.workerId() + " (" + w.streamThreadReplacements() + ")").toList();
        if (!replaced.isEmpty()) {
            throw new AssertionError("stream threads failed and were replaced during the class: " + replaced);
        }
    }

    private static LocalStack.Options options(Class<?> testClass) throws ReflectiveOperationException {
        List<Method> marked = Arrays.stream(testClass.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(StackOptions.class)).toList();
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

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        LocalStack stack = context.getStore(NAMESPACE).get(LocalStack.class, LocalStack.class);
        if (stack == null) {
            throw new ParameterResolutionException("no local stack: annotate the test class with @WithLocalStack");
        }
        return stack;
    }
}

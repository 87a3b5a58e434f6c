package io.sealstream.devstack.junit;

import io.sealstream.devstack.DevStack;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The JUnit 5 side of {@link EmbeddedStack}: one {@link DevStack} per test class, kept in the
 * class's extension store so JUnit closes it after the class's last test, even on failure.
 */
public final class EmbeddedStackExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(EmbeddedStackExtension.class);
    private static final Set<Class<?>> RESOLVED = Set.of(DevStack.class, EmbeddedKafka.class, SchemaRegistryServer.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        stack(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return RESOLVED.contains(parameter.getParameter().getType());
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        DevStack stack = stack(context).stack();
        Class<?> type = parameter.getParameter().getType();
        if (type == DevStack.class) {
            return stack;
        }
        if (type == EmbeddedKafka.class) {
            return stack.kafka();
        }
        if (type == SchemaRegistryServer.class) {
            return stack.registry().orElseThrow(() -> new ParameterResolutionException(
                    "this test class runs without a schema registry; use @EmbeddedStack(registry = true)"));
        }
        throw new ParameterResolutionException("no embedded stack part of type " + type.getName());
    }

    private static StackResource stack(ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        boolean registry = AnnotationSupport.findAnnotation(classContext.getRequiredTestClass(), EmbeddedStack.class)
                .map(EmbeddedStack::registry).orElse(true);
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(
                StackResource.class, k -> new StackResource(DevStack.start(registry)), StackResource.class);
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    /** Closed by JUnit when the class's store is discarded. */
    private record StackResource(DevStack stack) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            stack.close();
        }
    }
}

package io.sealstream.devstack.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Starts a real Kafka broker (and a real schema registry unless {@code registry = false}) once
 * for the annotated test class and stops it after the last test. Test methods, constructors and
 * lifecycle methods receive it as a {@link io.sealstream.devstack.DevStack},
 * {@link io.sealstream.devstack.kafka.EmbeddedKafka} or
 * {@link io.sealstream.devstack.registry.SchemaRegistryServer} parameter.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(EmbeddedStackExtension.class)
public @interface EmbeddedStack {
    /** Whether to start the schema registry as well. */
    boolean registry() default true;
}

package io.sealstream.schemas.registry;

/** The schema registry could not be reached: refused, timed out, or not an HTTP server. */
public final class SchemaRegistryUnavailableException extends SchemaRegistryException {
    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, NO_STATUS, NO_STATUS, cause);
    }
}

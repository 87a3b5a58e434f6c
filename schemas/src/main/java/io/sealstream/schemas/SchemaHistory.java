package io.sealstream.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The earlier writer schemas of the plaintext records, which a reader must still resolve: the
 * plaintext travels in single-object encoding without a registry, so a reader knows only the
 * schemas it carries (docs/schemas.md). Each earlier schema is kept verbatim under
 * {@code io/sealstream/schemas/history/}; when a plaintext schema changes, its previous text goes
 * there and into this list.
 */
public final class SchemaHistory {
    private SchemaHistory() {
    }

    private static final List<Schema> INFERENCE_REQUEST = List.of(load("InferenceRequest-1.avsc"));

    /** Earlier schemas of {@code InferenceRequest}: 1, before {@code ChatParameters.stream}. */
    public static List<Schema> inferenceRequest() {
        return INFERENCE_REQUEST;
    }

    private static Schema load(String name) {
        try (InputStream in = SchemaHistory.class.getResourceAsStream("history/" + name)) {
            if (in == null) {
                throw new IllegalStateException("schema history " + name + " is missing from the schemas jar");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

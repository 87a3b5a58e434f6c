package io.sealstream.schemas.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * A client of the standard Confluent Schema Registry REST API (Avro schemas only): register,
 * look up, fetch by id, list subjects and versions. Schema ids are immutable, so lookups by id and
 * registrations are cached for the client's life. Thread-safe.
 *
 * <p>Errors are {@link SchemaRegistryException}s naming the call, the HTTP status and the
 * registry's message; an unreachable registry is a {@link SchemaRegistryUnavailableException}.
 */
public final class SchemaRegistryClient {
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int REGISTER_ATTEMPTS = 4;

    private final String baseUrl;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();

    /** A client of the registry at {@code baseUrl}, e.g. {@code http://127.0.0.1:8081/apis/ccompat/v7}. */
    public SchemaRegistryClient(String baseUrl, Duration requestTimeout) {
        Objects.requireNonNull(baseUrl, "baseUrl");
        URI parsed = URI.create(baseUrl);
        if (!"http".equals(parsed.getScheme()) && !"https".equals(parsed.getScheme())) {
            throw new IllegalArgumentException("schema registry URL must be http or https, got '" + baseUrl + "'");
        }
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(requestTimeout).build();
    }

    /** The registry's base URL. */
    public String baseUrl() {
        return baseUrl;
    }

    /** Registers {@code schema} under {@code subject} (idempotent) and returns its global id. */
    public int register(String subject, Schema schema) {
        SubjectSchema key = new SubjectSchema(subject, schema);
        Integer cached = idsBySubjectSchema.get(key);
        if (cached != null) {
            return cached;
        }
        int id = registerWithRetry(subject, schema);
        idsBySubjectSchema.put(key, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /**
     * Some registries answer concurrent first registrations of one subject with 409 or a 5xx
     * (Apicurio's table locks); the schema is usually there a moment later. Up to
     * {@value #REGISTER_ATTEMPTS} attempts with a short back-off, looking the schema up in between.
     */
    private int registerWithRetry(String subject, Schema schema) {
        SchemaRegistryException last = null;
        for (int attempt = 1; attempt <= REGISTER_ATTEMPTS; attempt++) {
            try {
                JsonNode body = call("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema),
                        "register a schema under subject '" + subject + "'");
                return requiredInt(body, "id", "register");
            } catch (SchemaRegistryUnavailableException e) {
                throw e;
            } catch (SchemaRegistryException e) {
                if (e.httpStatus() != 409 && e.httpStatus() < 500) {
                    throw e;
                }
                last = e;
            }
            try {
                return lookup(subject, schema).id();
            } catch (SchemaRegistryException notThere) {
                sleep(100L << (attempt - 1));
            }
        }
        throw last;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Finds {@code schema} among the versions of {@code subject} without registering it. */
    public RegisteredSchema lookup(String subject, Schema schema) {
        JsonNode body = call("POST", "/subjects/" + encode(subject), schemaBody(schema),
                "look up a schema under subject '" + subject + "'");
        RegisteredSchema found = new RegisteredSchema(subject, requiredInt(body, "version", "lookup"),
                requiredInt(body, "id", "lookup"), schema);
        idsBySubjectSchema.put(new SubjectSchema(subject, schema), found.id());
        schemasById.putIfAbsent(found.id(), schema);
        return found;
    }

    /** The id under which {@code schema} is known for {@code subject}; cached after the first call. */
    public int idOf(String subject, Schema schema) {
        Integer cached = idsBySubjectSchema.get(new SubjectSchema(subject, schema));
        return cached != null ? cached : lookup(subject, schema).id();
    }

    /** The schema with global id {@code id}; cached, since ids never change meaning. */
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode body = call("GET", "/schemas/ids/" + id, null, "fetch schema id " + id);
        Schema schema = parse(requiredText(body, "schema", "fetch schema id " + id), "schema id " + id);
        schemasById.put(id, schema);
        return schema;
    }

    /** The version numbers of {@code subject}, oldest first. */
    public List<Integer> versions(String subject) {
        JsonNode body = call("GET", "/subjects/" + encode(subject) + "/versions", null,
                "list the versions of subject '" + subject + "'");
        List<Integer> out = new ArrayList<>();
        body.forEach(v -> out.add(v.asInt()));
        return out;
    }

    /** One version of {@code subject}; {@code version} is a number or {@code "latest"}. */
    public RegisteredSchema version(String subject, String version) {
        String what = "fetch version " + version + " of subject '" + subject + "'";
        JsonNode body = call("GET", "/subjects/" + encode(subject) + "/versions/" + encode(version), null, what);
        int id = requiredInt(body, "id", what);
        Schema schema = parse(requiredText(body, "schema", what), "subject '" + subject + "' version " + version);
        schemasById.putIfAbsent(id, schema);
        return new RegisteredSchema(subject, requiredInt(body, "version", what), id, schema);
    }

    /**
     * Sets the compatibility level of {@code subject} (BACKWARD, FORWARD, FULL, their _TRANSITIVE
     * forms, or NONE); later registrations that break it are refused with HTTP 409.
     */
    public void setCompatibility(String subject, String level) {
        ObjectNode node = JSON.createObjectNode();
        node.put("compatibility", level);
        call("PUT", "/config/" + encode(subject), node.toString(),
                "set compatibility " + level + " on subject '" + subject + "'");
    }

    /** Every subject the registry holds. */
    public List<String> subjects() {
        JsonNode body = call("GET", "/subjects", null, "list subjects");
        List<String> out = new ArrayList<>();
        body.forEach(s -> out.add(s.asText()));
        return out;
    }

    private JsonNode call(String method, String path, String body, String what) {
        URI uri = URI.create(baseUrl + path);
        HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                .timeout(requestTimeout)
                .header("Accept", CONTENT_TYPE + ", application/json");
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw unavailable(what, "connection refused", e);
        } catch (HttpTimeoutException e) {
            throw unavailable(what, "no answer within " + requestTimeout.toMillis() + " ms", e);
        } catch (IOException e) {
            throw unavailable(what, e.getClass().getSimpleName(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(what, "interrupted", e);
        }
        JsonNode json = parseJson(response.body());
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            if (json == null) {
                throw new SchemaRegistryException("the schema registry at " + baseUrl + " answered " + method + " "
                        + path + " with a body that is not JSON; check that schema.registry.url points at the "
                        + "Confluent-compatible API", status, status, null);
            }
            return json;
        }
        int errorCode = json != null && json.has("error_code") ? json.get("error_code").asInt(status) : status;
        String message = json != null && json.hasNonNull("message") ? json.get("message").asText() : "no message";
        throw new SchemaRegistryException("could not " + what + ": the schema registry at " + baseUrl
                + " answered HTTP " + status + " (error " + errorCode + "): " + message + "; " + advice(status),
                status, errorCode, null);
    }

    private SchemaRegistryUnavailableException unavailable(String what, String reason, Exception cause) {
        return new SchemaRegistryUnavailableException("could not " + what + ": the schema registry at " + baseUrl
                + " is unreachable (" + reason + "); check schema.registry.url and that the registry runs", cause);
    }

    private static String advice(int status) {
        if (status == 404) {
            return "register the schema first or check the subject, version or id";
        }
        if (status == 409) {
            return "the schema is incompatible with the subject's earlier versions; see docs/schemas.md";
        }
        if (status == 401 || status == 403) {
            return "check the registry credentials";
        }
        if (status == 422) {
            return "the registry rejected the schema as invalid";
        }
        if (status >= 500) {
            return "the registry failed; retry, and check its logs if it persists";
        }
        return "check the request";
    }

    private static JsonNode parseJson(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static String schemaBody(Schema schema) {
        ObjectNode node = JSON.createObjectNode();
        node.put("schema", schema.toString());
        return node.toString();
    }

    private int requiredInt(JsonNode body, String field, String what) {
        if (!body.has(field) || !body.get(field).canConvertToInt()) {
            throw new SchemaRegistryException("could not " + what + ": the answer of the schema registry at "
                    + baseUrl + " has no '" + field + "'", 200, 200, null);
        }
        return body.get(field).asInt();
    }

    private String requiredText(JsonNode body, String field, String what) {
        if (!body.hasNonNull(field)) {
            throw new SchemaRegistryException("could not " + what + ": the answer of the schema registry at "
                    + baseUrl + " has no '" + field + "'", 200, 200, null);
        }
        return body.get(field).asText();
    }

    private static Schema parse(String text, String what) {
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException("the registry's " + what + " is not a valid Avro schema", 200, 200, e);
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return "SchemaRegistryClient[" + baseUrl + ", cachedIds=" + schemasById.size() + "]";
    }

    private record SubjectSchema(String subject, Schema schema) {
    }
}

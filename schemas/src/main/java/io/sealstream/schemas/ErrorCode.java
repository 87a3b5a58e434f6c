package io.sealstream.schemas;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every code a worker can send: inside an encrypted error answer ({@code InferenceError.code}) or
 * as the reason header of a dead letter. This enum is the one definition; docs/schemas.md's table
 * is checked against it by a test, and the SDK maps codes to exceptions and HTTP statuses from it.
 *
 * <p>A code is safe for DLQ headers, log lines and metric labels: it names the failure and never
 * carries key material, request data or a tenant-chosen string.
 */
public enum ErrorCode {
    MALFORMED("malformed", Delivery.BOTH, 400,
            "The record does not have the shape of a v1 envelope; re-send it with a current client."),
    UNDECODABLE("undecodable", Delivery.ANSWER, 400,
            "The payload authenticated but its schema is unknown here; upgrade the reader (docs/schemas.md)."),
    UNSUPPORTED_VERSION("unsupported_version", Delivery.DEAD_LETTER, 400,
            "Upgrade the worker or send with a client that speaks envelope v1."),
    TAMPERED("tampered", Delivery.DEAD_LETTER, 400,
            "The record was altered or moved to another request, client or topic; re-send the original request."),
    UNKNOWN_KEY("unknown_key", Delivery.DEAD_LETTER, 400,
            "The record was sealed to a key this topic never had; fetch the topic's public keys again."),
    RETIRED_KEY("retired_key", Delivery.DEAD_LETTER, 400,
            "The topic key was rotated out; the client must open a new session with the current key and re-send."),
    EXPIRED("expired", Delivery.ANSWER, 408,
            "The request is older than max-request-age; re-send it as a new request."),
    CLIENT_MISMATCH("client_mismatch", Delivery.DEAD_LETTER, 403,
            "The envelope's client_id is not the client whose request topic carried it; a client sends only under its own id, to sealstream.requests.<client_id>."),
    UNKNOWN_CLIENT("unknown_client", Delivery.DEAD_LETTER, 400,
            "The client of this request topic has no response topic (the request topic was created without provisioning the client); provision the client, then re-send."),
    INVALID_RESPONSE_TOPIC("invalid_response_topic", Delivery.ANSWER, 400,
            "The response topic must be sealstream.responses.<client_id>; re-send with that response topic."),
    UNDELIVERABLE("undeliverable", Delivery.DEAD_LETTER, 502,
            "The answer cannot be written to the client's response topic: its schema subject refuses the response schema, or the registry failed on the request for longer than max-request-age; the operator must fix the registry or subject, then the client re-sends."),
    REPLAYED("replayed", Delivery.DEAD_LETTER, 409,
            "These exact request bytes were already answered; the answer is on the response topic. A replay is not answered again."),
    REQUEST_TOO_LARGE("request_too_large", Delivery.BOTH, 413,
            "The request exceeds a limit named in the message; split it into smaller requests."),
    RESPONSE_TOO_LARGE("response_too_large", Delivery.ANSWER, 413,
            "The answer would exceed the response topic's message size; send a smaller request."),
    INVALID_REQUEST("invalid_request", Delivery.ANSWER, 400,
            "A field of the request is out of range; the message names it."),
    UNSUPPORTED_TASK("unsupported_task", Delivery.ANSWER, 400,
            "The model does not perform this task (embeddings or chat); send it to a model that does."),
    MODEL_NOT_SERVED("model_not_served", Delivery.ANSWER, 404,
            "No worker serves this model; send the request with a model the workers serve."),
    ENGINE_FAILURE("engine_failure", Delivery.ANSWER, 500,
            "The inference engine failed on this request; retry it, and report it to the operator if it persists."),
    ENGINE_CLOSED("engine_closed", Delivery.ANSWER, 503,
            "The worker was shutting down; re-send the request.");

    /** How a code reaches the sender. */
    public enum Delivery {
        /** An encrypted error answer on the client's response topic: the request authenticated. */
        ANSWER,
        /** A dead letter (ciphertext and reason): the sender cannot be answered. */
        DEAD_LETTER,
        /** Either, depending on whether the request authenticated before it failed. */
        BOTH
    }

    private final String code;
    private final Delivery delivery;
    private final int httpStatus;
    private final String remedy;

    ErrorCode(String code, Delivery delivery, int httpStatus, String remedy) {
        this.code = code;
        this.delivery = delivery;
        this.httpStatus = httpStatus;
        this.remedy = remedy;
    }

    /** Stable lower-case code for wire formats, DLQ headers and metrics. */
    public String code() {
        return code;
    }

    /** Whether the code is answered to the client, dead-lettered, or either. */
    public Delivery delivery() {
        return delivery;
    }

    /** The HTTP-style status an OpenAI-shaped error carries for this code. */
    public int httpStatus() {
        return httpStatus;
    }

    /** What the sender should do about it. */
    public String remedy() {
        return remedy;
    }

    /** The code with this wire name, if it is one of ours. */
    public static Optional<ErrorCode> of(String code) {
        return Arrays.stream(values()).filter(c -> c.code.equals(code)).findFirst();
    }
}

package io.sealstream.proxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.AttestationFailedException;
import io.sealstream.client.DeliveryFailedException;
import io.sealstream.client.KeyUnavailableException;
import io.sealstream.client.ModelNotServedException;
import io.sealstream.client.PolicyMismatchException;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.RequestTimeoutException;
import io.sealstream.client.ResponsesUnavailableException;
import io.sealstream.client.openai.OpenAiBodies;
import io.sealstream.client.openai.OpenAiRequests;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.RecordTooLargeException;

/**
 * An error in OpenAI's shape: HTTP status, {@code error.type}, {@code error.code}, a message that
 * names what was wrong and what to do, and the field at fault. Every failure the proxy answers
 * with is mapped here, in one place, so a client in any language can act on {@code code}.
 * Messages come from the SDK, the worker or this proxy; none quotes a prompt or an answer.
 *
 * @param status HTTP status
 * @param type OpenAI's error type ({@code invalid_request_error}, {@code authentication_error},
 *     {@code server_error}, ...) or ours ({@code attestation_error}, {@code timeout_error})
 * @param code a stable code: the worker's {@code ErrorCode}, the SDK's attestation code, or the proxy's
 * @param message what was wrong and what to do
 * @param param the request field at fault, or null
 */
public record ProxyError(int status, String type, String code, String message, String param) {

    /**
     * Whether a retry of the same request cannot help (the key broker failed verification) or
     * would only send it again for a second answer (a timeout): the OpenAI libraries retry 5xx
     * unless the answer says {@code x-should-retry: false}.
     */
    public boolean retryPointless() {
        return type.equals("attestation_error") || type.equals("timeout_error");
    }

    /** The body, {@code {"error": {...}}}. */
    public ObjectNode body() {
        return OpenAiBodies.error(message, type, param, code);
    }

    static ProxyError invalidBody(OpenAiRequests.InvalidBody e) {
        return new ProxyError(400, "invalid_request_error", "invalid_request", e.getMessage(), e.param());
    }

    static ProxyError notJson() {
        return new ProxyError(400, "invalid_request_error", "invalid_json",
                "the body is not JSON; send a JSON object with Content-Type: application/json", null);
    }

    static ProxyError unreadable() {
        return new ProxyError(400, "invalid_request_error", "unreadable_body", "the body could not be read to its "
                + "end (the connection stalled or broke); send it again", null);
    }

    static ProxyError tooLarge(long limit) {
        return new ProxyError(413, "invalid_request_error", "request_too_large", "the body is larger than " + limit
                + " bytes, the most this proxy reads; split the input over several requests", null);
    }

    static ProxyError unauthorized() {
        return new ProxyError(401, "invalid_request_error", "invalid_api_key", "this proxy needs the bearer token it "
                + "was started with: send 'Authorization: Bearer <token>' (the OpenAI SDKs send their api key so)", null);
    }

    static ProxyError foreignOrigin() {
        return new ProxyError(403, "invalid_request_error", "foreign_origin", "requests from web pages (an Origin "
                + "header) or for another host name are refused: the proxy serves programs on this machine", null);
    }

    static ProxyError notFound(String what) {
        return new ProxyError(404, "invalid_request_error", "unknown_url", what + " is not served here; the proxy "
                + "serves /v1/embeddings, /v1/chat/completions and /v1/models", null);
    }

    static ProxyError methodNotAllowed(String allowed) {
        return new ProxyError(405, "invalid_request_error", "method_not_allowed", "use " + allowed + " on this path",
                null);
    }

    static ProxyError busy(int limit) {
        return new ProxyError(429, "rate_limit_error", "too_many_requests", "the proxy already holds " + limit
                + " requests awaiting answers; retry after some complete, or start it with a higher --max-in-flight",
                null);
    }

    static ProxyError busyUploading(int limit) {
        return new ProxyError(429, "rate_limit_error", "too_many_requests", limit + " request bodies are being read "
                + "already; retry in a moment", null);
    }

    static ProxyError unexpectedOutput(String route) {
        return new ProxyError(502, "server_error", "unexpected_output", "the worker answered a request to " + route
                + " with another kind of output; report it to the operator", null);
    }

    static ProxyError closing() {
        return new ProxyError(503, "server_error", "proxy_closing", "the proxy is shutting down; retry against a "
                + "running one", null);
    }

    /** The error for a failure of the SDK, the pipeline or the worker. */
    static ProxyError of(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof OpenAiRequests.InvalidBody b) {
            return invalidBody(b);
        }
        if (t instanceof RequestRejectedException r) {
            int status = OpenAiBodies.statusOf(r.code());
            String type = status >= 500 ? "server_error" : "invalid_request_error";
            String code = "model_not_served".equals(r.code()) ? "model_not_found" : r.code();
            return new ProxyError(status, type, code, r.getMessage(), "model_not_served".equals(r.code()) ? "model"
                    : null);
        }
        if (t instanceof ModelNotServedException m) {
            return new ProxyError(404, "invalid_request_error", "model_not_found", m.getMessage(), "model");
        }
        if (t instanceof io.sealstream.client.StreamDivergedException) {
            return new ProxyError(502, "server_error", "stream_diverged", t.getMessage(), null);
        }
        if (t instanceof RequestTimeoutException) {
            return new ProxyError(504, "timeout_error", "timeout", t.getMessage(), null);
        }
        if (t instanceof AttestationFailedException a) {
            return new ProxyError(502, "attestation_error", a.code(), "the key broker failed verification, so "
                    + "nothing was sent: " + a.getMessage(), null);
        }
        if (t instanceof PolicyMismatchException) {
            return new ProxyError(502, "attestation_error", "policy_mismatch", "the key broker no longer serves "
                    + "the pinned policy, so nothing was sent: " + t.getMessage(), null);
        }
        if (t instanceof DeliveryFailedException && t.getCause() instanceof RecordTooLargeException) {
            return new ProxyError(413, "invalid_request_error", "request_too_large", "the sealed request is larger "
                    + "than the request topic takes; split the input over several requests", null);
        }
        if (t instanceof DeliveryFailedException || t instanceof KeyUnavailableException
                || t instanceof ResponsesUnavailableException) {
            return new ProxyError(503, "server_error", "pipeline_unavailable", t.getMessage(), null);
        }
        if (t instanceof IllegalStateException) {
            // a session that ended while it was renewed, or a client closing: another try opens a new one
            return new ProxyError(503, "server_error", "session_unavailable", "the client's session with the workers "
                    + "could not seal this request (" + t.getClass().getSimpleName() + "); retry", null);
        }
        if (t instanceof IllegalArgumentException) {
            // the SDK's own checks of a request it was handed (they name the field, never its value)
            return new ProxyError(400, "invalid_request_error", "invalid_request", t.getMessage(), null);
        }
        return new ProxyError(500, "server_error", "proxy_failure", "the proxy failed on this request ("
                + t.getClass().getSimpleName() + "); see its log by the request id, and retry", null);
    }
}

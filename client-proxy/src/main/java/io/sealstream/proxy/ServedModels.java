package io.sealstream.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.client.Answer;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code GET /v1/models} lists: the model names the pinned policy routes to worker pools, and
 * every model an attested worker has answered this proxy with, with the digests of the models
 * that served it (from the answers' sealed provenance). Names come from verified sources only:
 * the policy the key broker's evidence binds, and answers that opened under this client's session
 * keys, which only attested workers hold. Where the policy names pools, a learnt name it no longer
 * routes is not listed. Listing never calls the key broker.
 */
final class ServedModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Most names learnt from answers; a worker cannot grow the list without bound. */
    static final int MAX_LEARNT = 256;

    private final Map<String, Set<String>> answered = new ConcurrentHashMap<>();
    private volatile AttestationPolicy policy;

    /** The policy the key broker's evidence showed when the proxy started. */
    void policy(AttestationPolicy verified) {
        this.policy = verified;
    }

    /** Takes note of the model that answered. */
    synchronized void saw(Answer answer) {
        String model = answer.body().getModel();
        if (model == null || model.isEmpty() || answered.size() >= MAX_LEARNT && !answered.containsKey(model)) {
            return;
        }
        Set<String> digests = answered.computeIfAbsent(model, m -> ConcurrentHashMap.newKeySet());
        answer.provenance().ifPresent(p -> {
            if (!p.modelDigest().isEmpty() && digests.size() < 16) {
                digests.add(p.modelDigest());
            }
        });
    }

    /** OpenAI's model list. */
    ObjectNode list() {
        AttestationPolicy p = policy;
        Map<String, Set<String>> all = new TreeMap<>();
        if (p != null) {
            p.pools().values().forEach(names -> names.forEach(n -> all.computeIfAbsent(n, k -> new TreeSet<>())));
        }
        answered.forEach((name, digests) -> {
            if (p == null || p.pools().isEmpty() || p.poolServing(name).isPresent()) {
                all.computeIfAbsent(name, k -> new TreeSet<>()).addAll(digests);
            }
        });
        ObjectNode body = JSON.createObjectNode().put("object", "list");
        ArrayNode data = body.putArray("data");
        all.forEach((name, digests) -> {
            ObjectNode m = data.addObject().put("id", name).put("object", "model").put("created", 0)
                    .put("owned_by", "sealstream");
            ArrayNode d = m.putArray("sealstream_model_digests");
            digests.forEach(d::add);
        });
        return body;
    }
}

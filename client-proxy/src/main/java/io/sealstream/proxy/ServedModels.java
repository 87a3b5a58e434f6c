package io.sealstream.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.client.Answer;
import io.sealstream.client.SealstreamClient;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@code GET /v1/models} lists, with the digests of the model files behind each name:
 * <ul>
 *   <li>the models of the live leases in the key broker's transparency log, granted under the
 *       pinned policy ({@link SealstreamClient#servedModels()}: the log audited whole, at most
 *       every {@value #REFRESH_SECONDS} s);</li>
 *   <li>the model names the pinned policy routes to worker pools;</li>
 *   <li>every model an attested worker has answered this proxy with (from the answers' sealed
 *       provenance), for workers older than named leases.</li>
 * </ul>
 * Where the policy names pools, a name it does not route is not listed.
 */
final class ServedModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Most names learnt from answers; a worker cannot grow the list without bound. */
    static final int MAX_LEARNT = 256;

    /** How often the log is read again for the leases' models. */
    static final long REFRESH_SECONDS = 30;

    private final SealstreamClient client;
    private final Map<String, Set<String>> answered = new ConcurrentHashMap<>();
    private volatile AttestationPolicy policy;
    private volatile Map<String, Set<String>> leased = Map.of();
    private volatile long leasedAt;

    ServedModels(SealstreamClient client) {
        this.client = client;
    }

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

    /**
     * OpenAI's model list. Reads the log when its last reading is older than
     * {@value #REFRESH_SECONDS} s (so it may take a key-broker call: not on a thread that must not wait).
     *
     * @throws io.sealstream.client.AttestationFailedException when the log fails its audit
     */
    ObjectNode list() {
        long now = System.currentTimeMillis();
        if (now - leasedAt > REFRESH_SECONDS * 1000) {
            try {
                leased = client.servedModels();
                leasedAt = now;
            } catch (io.sealstream.client.KeyUnavailableException unreadable) {
                // the last reading stands until the log can be read again
            }
        }
        AttestationPolicy p = policy;
        Map<String, Set<String>> all = new TreeMap<>();
        leased.forEach((name, digests) -> all.computeIfAbsent(name, k -> new TreeSet<>()).addAll(digests));
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

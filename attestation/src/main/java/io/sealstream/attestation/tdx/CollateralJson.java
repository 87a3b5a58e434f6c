package io.sealstream.attestation.tdx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Field access for Intel's collateral JSON that names the missing or malformed field. */
final class CollateralJson {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String document;

    private CollateralJson(String document) {
        this.document = document;
    }

    static CollateralJson of(String document) {
        return new CollateralJson(document);
    }

    JsonNode parse(String json) throws AttestationException {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !n.isObject()) {
                throw bad("is not a JSON object");
            }
            return n;
        } catch (java.io.IOException e) {
            throw bad("is not JSON");
        }
    }

    JsonNode node(JsonNode parent, String field) throws AttestationException {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw bad("has no field '" + field + "'");
        }
        return n;
    }

    String text(JsonNode parent, String field) throws AttestationException {
        JsonNode n = node(parent, field);
        if (!n.isTextual()) {
            throw bad("field '" + field + "' is not a string");
        }
        return n.asText();
    }

    int integer(JsonNode parent, String field) throws AttestationException {
        JsonNode n = node(parent, field);
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw bad("field '" + field + "' is not an integer");
        }
        return n.asInt();
    }

    byte[] hex(JsonNode parent, String field, int length) throws AttestationException {
        String s = text(parent, field);
        try {
            byte[] b = HexFormat.of().parseHex(s);
            if (b.length != length) {
                throw bad("field '" + field + "' has " + b.length + " bytes, expected " + length);
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw bad("field '" + field + "' is not hex");
        }
    }

    Instant instant(JsonNode parent, String field) throws AttestationException {
        try {
            return Instant.parse(text(parent, field));
        } catch (DateTimeParseException e) {
            throw bad("field '" + field + "' is not an ISO-8601 instant");
        }
    }

    List<JsonNode> array(JsonNode parent, String field) throws AttestationException {
        JsonNode n = node(parent, field);
        if (!n.isArray()) {
            throw bad("field '" + field + "' is not an array");
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

    List<String> strings(JsonNode parent, String field) throws AttestationException {
        List<String> out = new ArrayList<>();
        if (parent.has(field)) {
            for (JsonNode n : array(parent, field)) {
                out.add(n.asText());
            }
        }
        return List.copyOf(out);
    }

    TcbStatus status(JsonNode parent) throws AttestationException {
        String s = text(parent, "tcbStatus");
        return TcbStatus.of(s).orElseThrow(() -> bad("tcbStatus '" + s + "' is not one Intel defines"));
    }

    AttestationException bad(String what) {
        return new AttestationException(AttestationFailure.BAD_COLLATERAL, document + " " + what);
    }
}

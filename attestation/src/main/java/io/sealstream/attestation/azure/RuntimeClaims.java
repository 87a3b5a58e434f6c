package io.sealstream.attestation.azure;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The runtime claims of an HCL report (UTF-8 JSON the hardware report binds by hash): the vTPM's
 * attestation key {@code HCLAkPub} (an RSA JWK), the VM's configuration, and on newer paravisors
 * the 64 bytes of {@code user-data} the guest wrote to NV index 0x01400002 before the report was
 * made: the only field of the report a guest chooses, so it is where the binding goes.
 *
 * @param attestationKey the vTPM attestation key (persistent handle 0x81000003)
 * @param userData the 64 bytes of user-data, empty on paravisors that do not report it
 * @param vmConfiguration the boolean settings of {@code vm-configuration} by name (secure-boot,
 *     tpm-enabled, console-enabled, ...)
 */
public record RuntimeClaims(RSAPublicKey attestationKey, Optional<byte[]> userData, Map<String, Boolean> vmConfiguration) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public RuntimeClaims {
        userData = userData.map(byte[]::clone);
        vmConfiguration = Map.copyOf(vmConfiguration);
    }

    @Override
    public Optional<byte[]> userData() {
        return userData.map(byte[]::clone);
    }

    /**
     * Parses the claims' bytes.
     *
     * @throws AttestationException MALFORMED_EVIDENCE for JSON that is not an object, a missing or
     *     unusable HCLAkPub, or user-data that is not 128 hex digits
     */
    public static RuntimeClaims parse(byte[] json) throws AttestationException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw malformed("the runtime claims are not valid JSON");
        } catch (java.io.IOException e) {
            throw malformed("the runtime claims cannot be read");
        }
        if (root == null || !root.isObject() || !root.path("keys").isArray()) {
            throw malformed("the runtime claims are not an object with a 'keys' list");
        }
        JsonNode ak = null;
        for (JsonNode key : root.get("keys")) {
            if ("HCLAkPub".equals(key.path("kid").asText())) {
                if (ak != null) {
                    throw malformed("the runtime claims name HCLAkPub twice");
                }
                ak = key;
            }
        }
        if (ak == null) {
            throw malformed("the runtime claims name no HCLAkPub (the vTPM attestation key)");
        }
        RSAPublicKey akPub = rsa(ak);
        Optional<byte[]> userData = Optional.empty();
        if (root.has("user-data")) {
            String hex = root.get("user-data").asText("");
            if (!root.get("user-data").isTextual() || !hex.matches("[0-9a-fA-F]{128}")) {
                throw malformed("the runtime claims' user-data is not 128 hex digits");
            }
            userData = Optional.of(HexFormat.of().parseHex(hex));
        }
        Map<String, Boolean> config = new LinkedHashMap<>();
        root.path("vm-configuration").fields().forEachRemaining(e -> {
            if (e.getValue().isBoolean()) {
                config.put(e.getKey(), e.getValue().asBoolean());
            }
        });
        return new RuntimeClaims(akPub, userData, config);
    }

    private static RSAPublicKey rsa(JsonNode jwk) throws AttestationException {
        if (!"RSA".equals(jwk.path("kty").asText())) {
            throw malformed("HCLAkPub is not an RSA key");
        }
        try {
            BigInteger n = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.path("n").asText("")));
            BigInteger e = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.path("e").asText("")));
            if (n.bitLength() < 2048 || n.bitLength() > 4096 || e.signum() == 0) {
                throw malformed("HCLAkPub's modulus has " + n.bitLength() + " bits; expected 2048 to 4096");
            }
            return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
        } catch (IllegalArgumentException | GeneralSecurityException ex) {
            throw malformed("HCLAkPub's n or e is not base64url");
        }
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }
}

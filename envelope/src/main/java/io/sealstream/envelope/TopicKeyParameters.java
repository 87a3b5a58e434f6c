package io.sealstream.envelope;

import com.google.crypto.tink.hybrid.HpkeParameters;
import com.google.crypto.tink.hybrid.HybridConfig;
import java.security.GeneralSecurityException;

/**
 * The one HPKE suite of envelope v1: DHKEM(P-384, HKDF-SHA384), HKDF-SHA384, AES-256-GCM, with
 * Tink's 5-byte key-id prefix on every wrapped DEK.
 */
final class TopicKeyParameters {
    private static final HpkeParameters HPKE;

    static {
        try {
            HybridConfig.register();
            HPKE = HpkeParameters.builder()
                    .setKemId(HpkeParameters.KemId.DHKEM_P384_HKDF_SHA384)
                    .setKdfId(HpkeParameters.KdfId.HKDF_SHA384)
                    .setAeadId(HpkeParameters.AeadId.AES_256_GCM)
                    .setVariant(HpkeParameters.Variant.TINK)
                    .build();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private TopicKeyParameters() {
    }

    static HpkeParameters hpke() {
        return HPKE;
    }
}

package io.sealstream.envelope;

import com.google.crypto.tink.HybridEncrypt;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.hybrid.HpkePublicKey;
import java.security.GeneralSecurityException;

/**
 * A public HPKE keyset of the v1 suite that something can be encrypted to: a topic's keys (for
 * session DEKs) or a TEE's ephemeral key (for released keysets). Parsing refuses any other suite.
 */
final class HpkeRecipient {
    private final KeysetHandle handle;
    private final HybridEncrypt encrypt;
    private final byte[] serialized;

    private HpkeRecipient(KeysetHandle handle) throws GeneralSecurityException {
        for (int i = 0; i < handle.size(); i++) {
            if (!(handle.getAt(i).getKey() instanceof HpkePublicKey key)
                    || !key.getParameters().equals(TopicKeyParameters.hpke())) {
                throw new GeneralSecurityException("key " + TopicKeyset.unsigned(handle.getAt(i).getId())
                        + " is not an HPKE P-384/AES-256-GCM public key");
            }
        }
        this.handle = handle;
        this.encrypt = handle.getPrimitive(RegistryConfiguration.get(), HybridEncrypt.class);
        this.serialized = TinkProtoKeysetFormat.serializeKeysetWithoutSecret(handle);
    }

    static HpkeRecipient of(KeysetHandle publicHandle) throws GeneralSecurityException {
        return new HpkeRecipient(publicHandle);
    }

    static HpkeRecipient parse(byte[] serializedPublicKeyset) throws GeneralSecurityException {
        TopicKeyParameters.hpke(); // registers Tink's HPKE before parsing
        return new HpkeRecipient(TinkProtoKeysetFormat.parseKeysetWithoutSecret(serializedPublicKeyset));
    }

    KeysetHandle handle() {
        return handle;
    }

    /** The Tink binary public keyset; callers must not modify it. */
    byte[] serialized() {
        return serialized;
    }

    byte[] encrypt(byte[] plaintext, byte[] contextInfo) {
        try {
            return encrypt.encrypt(plaintext, contextInfo);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HPKE encryption failed", e);
        }
    }
}

package io.sealstream.transparency;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/** A fresh log signing key for a test (ECDSA P-256, as the log signs heads). */
final class LogKeys {
    private LogKeys() {
    }

    static KeyPair generate() throws GeneralSecurityException {
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        return ec.generateKeyPair();
    }
}

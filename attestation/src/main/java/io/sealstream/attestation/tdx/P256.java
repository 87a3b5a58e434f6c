package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;

/** ECDSA P-256 with SHA-256 as Intel encodes it: raw r‖s signatures and raw x‖y public keys. */
final class P256 {
    private P256() {
    }

    /** Whether {@code rs} (32-byte r then 32-byte s, big-endian) signs {@code data} under {@code key}. */
    static boolean verify(PublicKey key, byte[] data, byte[] rs) throws AttestationException {
        if (rs.length != 64) {
            return false;
        }
        try {
            ASN1EncodableVector v = new ASN1EncodableVector();
            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(rs, 0, 32))));
            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(rs, 32, 64))));
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(key);
            s.update(data);
            return s.verify(new DERSequence(v).getEncoded());
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE, "an ECDSA P-256 signature cannot be "
                    + "checked (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The P-256 public key with affine coordinates x‖y (32 bytes each, big-endian). */
    static PublicKey publicKey(byte[] xy) throws AttestationException {
        try {
            AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
            p.init(new ECGenParameterSpec("secp256r1"));
            ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
            ECPoint point = new ECPoint(new BigInteger(1, Arrays.copyOfRange(xy, 0, 32)),
                    new BigInteger(1, Arrays.copyOfRange(xy, 32, 64)));
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, spec));
        } catch (GeneralSecurityException e) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the quote's attestation key is not a P-256 point");
        }
    }
}

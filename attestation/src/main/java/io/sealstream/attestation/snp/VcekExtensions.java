package io.sealstream.attestation.snp;

import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;

/**
 * AMD's X.509 extensions on a VCEK or VLEK certificate: the TCB it was issued for, the chip it
 * belongs to and the product. Older certificates carry some values as raw bytes instead of DER,
 * so both encodings are read.
 */
public record VcekExtensions(Map<String, Integer> tcb, Optional<byte[]> hwid, Optional<String> productName) {
    public static final String OID_PRODUCT_NAME = "1.3.6.1.4.1.3704.1.2";
    public static final String OID_BOOTLOADER = "1.3.6.1.4.1.3704.1.3.1";
    public static final String OID_TEE = "1.3.6.1.4.1.3704.1.3.2";
    public static final String OID_SNP = "1.3.6.1.4.1.3704.1.3.3";
    public static final String OID_MICROCODE = "1.3.6.1.4.1.3704.1.3.8";
    public static final String OID_FMC = "1.3.6.1.4.1.3704.1.3.9";
    public static final String OID_HWID = "1.3.6.1.4.1.3704.1.4";

    /** Reads the extensions; a missing TCB component is absent from the map. */
    public static VcekExtensions of(X509Certificate cert) {
        Map<String, Integer> tcb = new LinkedHashMap<>();
        putInt(tcb, "fmc", cert, OID_FMC);
        putInt(tcb, "bootloader", cert, OID_BOOTLOADER);
        putInt(tcb, "tee", cert, OID_TEE);
        putInt(tcb, "snp", cert, OID_SNP);
        putInt(tcb, "microcode", cert, OID_MICROCODE);
        return new VcekExtensions(Map.copyOf(tcb), inner(cert, OID_HWID).map(VcekExtensions::octets),
                inner(cert, OID_PRODUCT_NAME).map(VcekExtensions::text));
    }

    /** True for a Turin product name (Turin reports have an FMC component and another TCB layout). */
    public boolean isTurin() {
        return productName.map(p -> p.toLowerCase(java.util.Locale.ROOT).startsWith("turin")).orElse(tcb.containsKey("fmc"));
    }

    private static void putInt(Map<String, Integer> tcb, String name, X509Certificate cert, String oid) {
        inner(cert, oid).ifPresent(value -> tcb.put(name, integer(value)));
    }

    /** The extension's value: the bytes inside the OCTET STRING that X.509 wraps every extension in. */
    private static Optional<byte[]> inner(X509Certificate cert, String oid) {
        byte[] ext = cert.getExtensionValue(oid);
        if (ext == null) {
            return Optional.empty();
        }
        return Optional.of(ASN1OctetString.getInstance(ext).getOctets());
    }

    private static int integer(byte[] value) {
        ASN1Primitive p = parse(value);
        if (p instanceof ASN1Integer i) {
            return i.getValue().intValueExact();
        }
        return new BigInteger(1, value).intValueExact(); // legacy: the raw number
    }

    private static byte[] octets(byte[] value) {
        ASN1Primitive p = parse(value);
        return p instanceof ASN1OctetString o ? o.getOctets() : value; // legacy: raw bytes
    }

    private static String text(byte[] value) {
        ASN1Primitive p = parse(value);
        if (p instanceof ASN1IA5String || p instanceof ASN1String) {
            return ((ASN1String) p).getString();
        }
        return new String(value, java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static ASN1Primitive parse(byte[] value) {
        try {
            ASN1Primitive p = ASN1Primitive.fromByteArray(value);
            return p.getEncoded().length == value.length ? p : null;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }
}

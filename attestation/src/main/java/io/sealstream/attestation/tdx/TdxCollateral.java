package io.sealstream.attestation.tdx;

import com.fasterxml.jackson.databind.JsonNode;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.RevocationLists;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Intel's verification collateral for the TDX platforms of one FMSPC: the signed TCB Info and QE
 * Identity documents with their issuer chains (Intel SGX TCB Signing → Intel SGX Root CA), and
 * optionally the PCK CRL and the Root CA CRL. The documents are kept byte for byte as Intel signed
 * them; {@link TdxVerifier} checks their signatures, validity windows and CRLs at verification
 * time, not here, so captured collateral can be verified as of a past instant.
 *
 * <p>Two layouts load: the single JSON file of a QuoteCollateralV3 (fields {@code tcb_info},
 * {@code tcb_info_signature}, {@code tcb_info_issuer_chain}, {@code qe_identity}, ...,
 * {@code pck_crl}, {@code root_ca_crl}, hex for binary values), and a directory of Intel PCS
 * responses ({@link #load(Path)}).
 */
public final class TdxCollateral {
    private final String tcbInfoJson;
    private final byte[] tcbInfoSignature;
    private final List<X509Certificate> tcbInfoChain;
    private final String qeIdentityJson;
    private final byte[] qeIdentitySignature;
    private final List<X509Certificate> qeIdentityChain;
    private final RevocationLists crls;
    private final TcbInfo tcbInfo;
    private final QeIdentity qeIdentity;

    private TdxCollateral(String tcbInfoJson, byte[] tcbInfoSignature, List<X509Certificate> tcbInfoChain,
                          String qeIdentityJson, byte[] qeIdentitySignature, List<X509Certificate> qeIdentityChain,
                          RevocationLists crls) throws AttestationException {
        this.tcbInfoJson = tcbInfoJson;
        this.tcbInfoSignature = tcbInfoSignature.clone();
        this.tcbInfoChain = List.copyOf(tcbInfoChain);
        this.qeIdentityJson = qeIdentityJson;
        this.qeIdentitySignature = qeIdentitySignature.clone();
        this.qeIdentityChain = List.copyOf(qeIdentityChain);
        this.crls = crls;
        this.tcbInfo = TcbInfo.parse(tcbInfoJson);
        this.qeIdentity = QeIdentity.parse(qeIdentityJson);
    }

    /**
     * From Intel PCS responses: the TCB Info response body {@code {"tcbInfo":{...},"signature":"..."}}
     * and QE Identity body {@code {"enclaveIdentity":{...},"signature":"..."}} exactly as served,
     * with the issuer chains of their {@code TCB-Info-Issuer-Chain} and {@code SGX-Enclave-Identity-Issuer-Chain}
     * headers (URL-decoded PEM).
     */
    public static TdxCollateral fromPcsResponses(String tcbInfoResponse, String tcbInfoIssuerChainPem,
                                                 String qeIdentityResponse, String qeIdentityIssuerChainPem,
                                                 RevocationLists crls) throws AttestationException {
        SignedDocument tcb = SignedDocument.split(tcbInfoResponse, "tcbInfo", "TCB Info response");
        SignedDocument qe = SignedDocument.split(qeIdentityResponse, "enclaveIdentity", "QE Identity response");
        return new TdxCollateral(tcb.body(), tcb.signature(), pem(tcbInfoIssuerChainPem, "TCB Info issuer chain"),
                qe.body(), qe.signature(), pem(qeIdentityIssuerChainPem, "QE Identity issuer chain"), crls);
    }

    /** From the JSON of a QuoteCollateralV3 (as DCAP quote verification libraries exchange it). */
    public static TdxCollateral fromQuoteCollateralJson(String json) throws AttestationException {
        CollateralJson j = CollateralJson.of("quote collateral");
        JsonNode n = j.parse(json);
        List<X509CRL> crls = new ArrayList<>();
        for (String field : List.of("pck_crl", "root_ca_crl")) {
            if (n.hasNonNull(field)) {
                crls.add(RevocationLists.parse(unhex(j, n, field)));
            }
        }
        return new TdxCollateral(j.text(n, "tcb_info"), unhex(j, n, "tcb_info_signature"),
                pem(j.text(n, "tcb_info_issuer_chain"), "tcb_info_issuer_chain"), j.text(n, "qe_identity"),
                unhex(j, n, "qe_identity_signature"), pem(j.text(n, "qe_identity_issuer_chain"),
                "qe_identity_issuer_chain"), RevocationLists.of(crls));
    }

    /**
     * Loads collateral from {@code path}: a file is read as QuoteCollateralV3 JSON; a directory must
     * hold the PCS responses {@code tcbinfo.json} and {@code qeidentity.json} with
     * {@code tcbinfo-issuer-chain.pem} and {@code qeidentity-issuer-chain.pem}, and may hold the CRLs
     * {@code pckcrl.der} and {@code rootcrl.der} (DER or PEM).
     */
    public static TdxCollateral load(Path path) throws AttestationException {
        try {
            if (Files.isRegularFile(path)) {
                return fromQuoteCollateralJson(Files.readString(path));
            }
            if (!Files.isDirectory(path)) {
                throw new AttestationException(AttestationFailure.BAD_COLLATERAL, "collateral " + path
                        + " is neither a QuoteCollateralV3 JSON file nor a directory of PCS responses");
            }
            List<X509CRL> crls = new ArrayList<>();
            for (String name : List.of("pckcrl.der", "rootcrl.der")) {
                if (Files.isRegularFile(path.resolve(name))) {
                    crls.add(RevocationLists.parse(Files.readAllBytes(path.resolve(name))));
                }
            }
            return fromPcsResponses(read(path, "tcbinfo.json"), read(path, "tcbinfo-issuer-chain.pem"),
                    read(path, "qeidentity.json"), read(path, "qeidentity-issuer-chain.pem"), RevocationLists.of(crls));
        } catch (IOException e) {
            throw new AttestationException(AttestationFailure.BAD_COLLATERAL, "cannot read collateral " + path + ": "
                    + e.getClass().getSimpleName());
        }
    }

    /** The FMSPC this collateral is for, 12 upper-case hex digits. */
    public String fmspc() {
        return tcbInfo.fmspc();
    }

    /** The earliest nextUpdate of TCB Info and QE Identity: after it the collateral is stale. */
    public Instant nextUpdate() {
        return tcbInfo.nextUpdate().isBefore(qeIdentity.nextUpdate()) ? tcbInfo.nextUpdate() : qeIdentity.nextUpdate();
    }

    /** Intel's TCB evaluation data number of the TCB Info. */
    public int evaluationDataNumber() {
        return tcbInfo.evaluationDataNumber();
    }

    public RevocationLists revocationLists() {
        return crls;
    }

    TcbInfo tcbInfo() {
        return tcbInfo;
    }

    QeIdentity qeIdentity() {
        return qeIdentity;
    }

    String tcbInfoJson() {
        return tcbInfoJson;
    }

    byte[] tcbInfoSignature() {
        return tcbInfoSignature.clone();
    }

    List<X509Certificate> tcbInfoChain() {
        return tcbInfoChain;
    }

    String qeIdentityJson() {
        return qeIdentityJson;
    }

    byte[] qeIdentitySignature() {
        return qeIdentitySignature.clone();
    }

    List<X509Certificate> qeIdentityChain() {
        return qeIdentityChain;
    }

    @Override
    public String toString() {
        return "TdxCollateral[fmspc=" + fmspc() + ", evaluationDataNumber=" + evaluationDataNumber()
                + ", nextUpdate=" + nextUpdate() + ", crls=" + crls.lists().size() + "]";
    }

    static List<X509Certificate> pem(String pem, String what) throws AttestationException {
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(pem.replace("\u0000", "").getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the " + what
                    + " is not a PEM X.509 certificate chain");
        }
        if (out.isEmpty()) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the " + what
                    + " holds no certificate");
        }
        return out;
    }

    private static byte[] unhex(CollateralJson j, JsonNode n, String field) throws AttestationException {
        try {
            String s = j.text(n, field);
            return HexFormat.of().parseHex(s.startsWith("0x") ? s.substring(2) : s);
        } catch (IllegalArgumentException e) {
            throw j.bad("field '" + field + "' is not hex");
        }
    }

    private static String read(Path dir, String name) throws IOException, AttestationException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new AttestationException(AttestationFailure.BAD_COLLATERAL, "collateral directory " + dir
                    + " has no " + name + " (expected tcbinfo.json, tcbinfo-issuer-chain.pem, qeidentity.json, "
                    + "qeidentity-issuer-chain.pem, optionally pckcrl.der and rootcrl.der)");
        }
        return Files.readString(p);
    }

    /**
     * A PCS response split into the exact bytes Intel signed (the value of its body field, as
     * served) and the signature. PCS serves {@code {"<field>":<body>,"signature":"<hex>"}}.
     */
    private record SignedDocument(String body, byte[] signature) {
        static SignedDocument split(String response, String field, String what) throws AttestationException {
            CollateralJson j = CollateralJson.of(what);
            JsonNode n = j.parse(response);
            byte[] signature;
            try {
                signature = HexFormat.of().parseHex(j.text(n, "signature"));
            } catch (IllegalArgumentException e) {
                throw j.bad("field 'signature' is not hex");
            }
            String trimmed = response.strip();
            String head = "{\"" + field + "\":";
            int end = trimmed.lastIndexOf(",\"signature\":");
            if (!trimmed.startsWith(head) || end < head.length()) {
                throw j.bad("is not laid out as Intel PCS serves it ({\"" + field + "\":{...},\"signature\":\"...\"}); "
                        + "the signed bytes cannot be located");
            }
            String body = trimmed.substring(head.length(), end);
            j.parse(body);
            return new SignedDocument(body, signature);
        }
    }
}

package io.sealstream.attestation.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.TeeType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What an Azure confidential VM's evidence is made of, and its encoding as the report of an
 * {@link Evidence} of type {@code azure-snp} or {@code azure-tdx}: a JSON object (base64 fields)
 * holding the HCL report read from NV index 0x01400001, for TDX the TD quote made from its
 * TDREPORT, the vTPM quote (TPMS_ATTEST and its signature) with the values of the PCRs it covers,
 * and optionally the attestation key's certificate chain (NV index 0x01C101D0, leaf first). For SNP
 * the VCEK (and optionally ASK and ARK) travel as the evidence's certificates, as for bare SNP.
 *
 * @param hclReport the HCL report bytes (NV padding may follow)
 * @param tdQuote the TD quote (TDX only)
 * @param tpmQuote the TPMS_ATTEST bytes
 * @param tpmSignature the quote's signature (raw, or a TPMT_SIGNATURE)
 * @param pcrs the quoted PCR values by index
 * @param akCertificates the attestation key's certificate and intermediates, DER, leaf first; may be empty
 */
public record AzureEvidence(byte[] hclReport, Optional<byte[]> tdQuote, byte[] tpmQuote, byte[] tpmSignature,
                            SortedMap<Integer, byte[]> pcrs, List<byte[]> akCertificates) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Larger than any real evidence (a TD quote is about 5 KiB, an HCL report 2.6 KiB). */
    public static final int MAX_LENGTH = 64 * 1024;
    private static final Set<String> FIELDS = Set.of("version", "hcl_report", "td_quote", "tpm_quote", "tpm_signature",
            "pcrs", "ak_certificates");

    public AzureEvidence {
        hclReport = hclReport.clone();
        tdQuote = tdQuote.map(byte[]::clone);
        tpmQuote = tpmQuote.clone();
        tpmSignature = tpmSignature.clone();
        TreeMap<Integer, byte[]> copy = new TreeMap<>();
        pcrs.forEach((i, v) -> copy.put(i, v.clone()));
        pcrs = java.util.Collections.unmodifiableSortedMap(copy);
        akCertificates = akCertificates.stream().map(byte[]::clone).toList();
    }

    /** The evidence to send: its JSON as the report, {@code vcekChain} (SNP; DER, leaf first) as the certificates. */
    public Evidence toEvidence(List<byte[]> vcekChain) {
        ObjectNode n = JSON.createObjectNode();
        Base64.Encoder b64 = Base64.getEncoder();
        n.put("version", 1);
        n.put("hcl_report", b64.encodeToString(hclReport));
        tdQuote.ifPresent(q -> n.put("td_quote", b64.encodeToString(q)));
        n.put("tpm_quote", b64.encodeToString(tpmQuote));
        n.put("tpm_signature", b64.encodeToString(tpmSignature));
        ObjectNode p = n.putObject("pcrs");
        pcrs.forEach((i, v) -> p.put(Integer.toString(i), HexFormat.of().formatHex(v)));
        if (!akCertificates.isEmpty()) {
            akCertificates.forEach(c -> n.withArray("ak_certificates").add(b64.encodeToString(c)));
        }
        return new Evidence(tdQuote.isPresent() ? TeeType.AZURE_TDX : TeeType.AZURE_SNP,
                n.toString().getBytes(StandardCharsets.UTF_8), vcekChain);
    }

    /**
     * Reads evidence from a directory of the parts as a guest or a capture tool saves them:
     * {@code hcl-report.bin} (NV index 0x01400001), {@code td-quote.bin} (TDX only),
     * {@code tpm-quote.msg} (TPMS_ATTEST), {@code tpm-quote.sig}, {@code tpm-pcrs-sha256.bin} (the
     * SHA-256 bank, 32 bytes per PCR from PCR 0; only the quoted ones are kept), and optionally
     * {@code ak-cert.der} (NV index 0x01C101D0, zero padding allowed) with {@code ak-intermediates.pem}.
     *
     * @throws AttestationException MALFORMED_EVIDENCE naming a missing or unreadable part
     */
    public static AzureEvidence fromParts(java.nio.file.Path dir) throws AttestationException {
        byte[] quote = part(dir, "tpm-quote.msg");
        byte[] pcrBank = part(dir, "tpm-pcrs-sha256.bin");
        SortedMap<Integer, byte[]> pcrs = new TreeMap<>();
        for (int i : TpmQuote.parse(quote).selectedPcrs()) {
            if (pcrBank.length < 32 * (i + 1)) {
                throw malformed("tpm-pcrs-sha256.bin holds " + pcrBank.length / 32 + " PCRs; the quote covers PCR " + i);
            }
            pcrs.put(i, java.util.Arrays.copyOfRange(pcrBank, 32 * i, 32 * i + 32));
        }
        List<byte[]> ak = new ArrayList<>();
        if (java.nio.file.Files.exists(dir.resolve("ak-cert.der"))) {
            ak.add(part(dir, "ak-cert.der"));
            if (java.nio.file.Files.exists(dir.resolve("ak-intermediates.pem"))) {
                try {
                    for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509")
                            .generateCertificates(new java.io.ByteArrayInputStream(part(dir, "ak-intermediates.pem")))) {
                        ak.add(c.getEncoded());
                    }
                } catch (java.security.GeneralSecurityException e) {
                    throw malformed("ak-intermediates.pem is not a file of PEM certificates");
                }
            }
        }
        boolean tdx = java.nio.file.Files.exists(dir.resolve("td-quote.bin"));
        return new AzureEvidence(part(dir, "hcl-report.bin"), tdx ? Optional.of(part(dir, "td-quote.bin")) : Optional.empty(),
                quote, part(dir, "tpm-quote.sig"), pcrs, ak);
    }

    private static byte[] part(java.nio.file.Path dir, String name) throws AttestationException {
        try {
            byte[] b = java.nio.file.Files.readAllBytes(dir.resolve(name));
            if (b.length > MAX_LENGTH) {
                throw malformed(name + " has " + b.length + " bytes, more than any Azure evidence part");
            }
            return b;
        } catch (IOException e) {
            throw malformed("Azure evidence part " + name + " cannot be read from " + dir + " ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * Reads the report of Azure evidence.
     *
     * @throws AttestationException MALFORMED_EVIDENCE naming the field that is missing or wrong
     */
    public static AzureEvidence parse(Evidence evidence) throws AttestationException {
        if (!evidence.tee().azure()) {
            throw malformed("an Azure verifier got " + evidence.tee().id() + " evidence");
        }
        byte[] raw = evidence.report();
        if (raw.length > MAX_LENGTH) {
            throw malformed("Azure evidence of " + raw.length + " bytes is larger than the " + MAX_LENGTH + " accepted");
        }
        JsonNode n;
        try {
            n = JSON.readTree(raw);
        } catch (IOException e) {
            throw malformed("Azure evidence is a JSON object with hcl_report, tpm_quote, tpm_signature and pcrs; "
                    + "this is not JSON");
        }
        if (n == null || !n.isObject() || n.path("version").asInt(-1) != 1) {
            throw malformed("Azure evidence is a JSON object with version 1");
        }
        for (var it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw malformed("Azure evidence has an unknown field '" + io.sealstream.attestation.EvidenceText.printable(f) + "'");
            }
        }
        boolean tdx = evidence.tee() == TeeType.AZURE_TDX;
        if (tdx != n.has("td_quote")) {
            throw malformed(tdx ? "azure-tdx evidence needs td_quote" : "azure-snp evidence has no td_quote");
        }
        SortedMap<Integer, byte[]> pcrs = new TreeMap<>();
        JsonNode p = n.path("pcrs");
        if (!p.isObject()) {
            throw malformed("Azure evidence needs pcrs: the quoted PCR values by index");
        }
        for (var it = p.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().matches("[0-9]{1,2}") || Integer.parseInt(e.getKey()) >= TpmQuote.PCR_COUNT
                    || !e.getValue().asText("").matches("[0-9a-f]{64}")) {
                throw malformed("pcrs." + e.getKey() + " is not a PCR index 0 to 23 with 64 lower-case hex digits");
            }
            pcrs.put(Integer.parseInt(e.getKey()), HexFormat.of().parseHex(e.getValue().asText()));
        }
        List<byte[]> certs = new ArrayList<>();
        if (n.has("ak_certificates")) {
            if (!n.get("ak_certificates").isArray() || n.get("ak_certificates").size() > 4) {
                throw malformed("ak_certificates is a list of at most 4 base64 DER certificates");
            }
            for (JsonNode c : n.get("ak_certificates")) {
                certs.add(bytes(c, "ak_certificates[]"));
            }
        }
        return new AzureEvidence(bytes(n.get("hcl_report"), "hcl_report"),
                tdx ? Optional.of(bytes(n.get("td_quote"), "td_quote")) : Optional.empty(),
                bytes(n.get("tpm_quote"), "tpm_quote"), bytes(n.get("tpm_signature"), "tpm_signature"), pcrs, certs);
    }

    private static byte[] bytes(JsonNode n, String field) throws AttestationException {
        if (n == null || !n.isTextual()) {
            throw malformed("Azure evidence needs " + field + " (base64)");
        }
        try {
            return Base64.getDecoder().decode(n.asText());
        } catch (IllegalArgumentException e) {
            throw malformed(field + " is not base64");
        }
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }
}

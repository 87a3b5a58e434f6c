package io.sealstream.cli.attestation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.RevocationLists;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.azure.AzureEvidence;
import io.sealstream.attestation.azure.AzureVerifier;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.snp.SnpReport;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxCollateral;
import io.sealstream.attestation.tdx.TdxQuote;
import io.sealstream.attestation.tdx.TdxTcbEvaluation;
import io.sealstream.attestation.tdx.TdxVerifier;
import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream attestation verify}: parse and verify an SNP report or TDX quote with the
 * vendors' pinned roots, optionally against a policy, print every claim and check, and exit 0 only
 * if every check passed.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Verify SEV-SNP, TDX or Azure confidential-VM evidence; exit 0 only if every check passes.")
public final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--evidence", required = true, description = "SNP report (1184 bytes), TDX quote (v4 or v5), "
            + "an answer of a Kata guest's attestation agent (its JSON, as GET /aa/evidence returns it), or "
            + "Azure confidential-VM evidence: its JSON, or a directory of its parts (hcl-report.bin, td-quote.bin for TDX, "
            + "tpm-quote.msg, tpm-quote.sig, tpm-pcrs-sha256.bin, optionally ak-cert.der).")
    Path evidence;

    @Option(names = "--certs", description = "Directory of DER/PEM certificates for SNP (VCEK, optionally ASK and ARK); "
            + "unset for an agent's answer: its certificate table.")
    Path certs;

    @Option(names = "--collateral", description = "TDX collateral for the TCB status: a QuoteCollateralV3 JSON file, or a "
            + "directory of Intel PCS responses (tcbinfo.json, qeidentity.json, their -issuer-chain.pem files, "
            + "optionally pckcrl.der and rootcrl.der).")
    Path collateral;

    @Option(names = "--crl", description = "A CRL (DER or PEM) to check the chain against, e.g. AMD KDS's or Intel's PCK "
            + "CRL; repeatable.")
    List<Path> crls = new ArrayList<>();

    @Option(names = "--policy", description = "Policy YAML to check the claims against.")
    Path policy;

    @Option(names = "--model-digest", description = "SHA-256 of the model files, for the policy's model check.")
    String modelDigest;

    @Option(names = "--at", description = "Verification time, ISO-8601 (default now): captured evidence verifies as of then.")
    Instant at;

    @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
    String format;

    /** A step that could not run: its check, failed with a code, ends the verification. */
    private static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Map<String, String> check;

        Stopped(String name, String code, String detail) {
            super(detail);
            this.check = check(name, "fail", code, detail);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!format.equals("text") && !format.equals("json")) {
            System.err.println("sealstream attestation verify: --format is text or json, not '" + format + "'");
            return 2;
        }
        Instant when = at != null ? at : Instant.now();
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, String>> checks = new ArrayList<>();
        out.put("evidence", evidence.toString());
        out.put("verified_at", when.toString());
        out.put("checks", checks);
        try {
            boolean ok = verify(when, out, checks);
            out.put("result", ok ? "pass" : "fail");
            print(out);
            return ok ? 0 : 1;
        } catch (Stopped e) {
            // evidence, certificates, CRLs or a policy that cannot be read: a failed check like any
            // other, so --format json still prints JSON and no stack trace reaches the user
            checks.add(e.check);
            out.put("result", "fail");
            print(out);
            return 1;
        }
    }

    private boolean verify(Instant when, Map<String, Object> out, List<Map<String, String>> checks) throws Exception {
        AttestationPolicy p = null;
        if (policy != null) {
            try {
                p = AttestationPolicy.fromFile(policy);
            } catch (java.io.UncheckedIOException | IllegalArgumentException e) {
                throw new Stopped("policy", "bad_policy", e.getMessage());
            }
        }
        byte[] bytes;
        try {
            bytes = Files.isDirectory(evidence) ? azureParts() : Files.readAllBytes(evidence);
        } catch (java.io.IOException e) {
            throw new Stopped("read evidence", "unreadable", "cannot read " + evidence + " (" + e.getClass().getSimpleName()
                    + "); give the path of a report or quote file");
        }
        List<byte[]> agentCertificates = List.of();
        if (isAgentAnswer(bytes)) {
            // captured in a Kata pod: the report or quote the agent's JSON carries, and its certificate table
            try {
                Evidence fromAgent = AttestationAgentProvider.evidenceOf(bytes);
                bytes = fromAgent.report();
                agentCertificates = fromAgent.certificates();
                out.put("source", "attestation agent answer");
            } catch (AttestationException e) {
                throw new Stopped("read evidence", e.failure().code(), e.detail());
            }
        }
        TeeType tee = detect(bytes);
        out.put("tee", tee.id());
        boolean ok = true;
        AttestedClaims claims = null;
        RevocationLists lists = revocationLists();
        SnpVerifier snp = SnpVerifier.withAmdRoots().withRevocationLists(lists);
        TdxVerifier tdx = TdxVerifier.withIntelRoot().withRevocationLists(lists);
        EvidenceVerifier verifier = switch (tee) {
            case SNP -> snp;
            case TDX -> tdx;
            // the TD quote is inside: its TCB status comes from the collateral the verifier holds
            case AZURE_SNP, AZURE_TDX -> AzureVerifier.of(snp, collateral == null ? tdx : tdx.withCollateral(List.of(collateral())));
        };
        String chainCheck = "signature, certificate chain and pinned vendor root" + (lists.isEmpty() ? "" : ", CRLs");
        List<byte[]> chain = certs == null ? agentCertificates : certificates();
        try {
            claims = verifier.verify(new Evidence(tee, bytes, chain), when);
            checks.add(check(chainCheck, "pass", ""));
        } catch (AttestationException e) {
            ok = false;
            checks.add(check(chainCheck, "fail", e.failure().code(), e.detail()));
        } catch (RuntimeException e) {
            // a layout the parser did not expect is malformed evidence, whatever broke while reading it
            ok = false;
            checks.add(check(chainCheck, "fail", "malformed_evidence", "the " + tee.id() + " evidence (" + bytes.length
                    + " bytes) does not parse (" + e.getClass().getSimpleName() + "); it is truncated or not a report"));
        }
        if (claims != null) {
            if (tee == TeeType.AZURE_TDX) {
                checks.add(claims.tcbStatus().map(s -> check("TCB status from collateral", "pass", s))
                        .orElseGet(() -> check("TCB status from collateral", collateral == null ? "not evaluated" : "fail",
                                collateral == null ? "" : "tcb_mismatch", collateral == null
                                        ? "no --collateral given; a policy with TDX rules needs a TCB status"
                                        : "the collateral is not for this platform's FMSPC; fetch the TCB Info for it")));
                ok &= claims.tcbStatus().isPresent() || collateral == null;
            }
            if (tee == TeeType.TDX) {
                Map<String, String> tcbCheck = tdxTcbStatus(bytes, lists, when, out);
                ok &= !"fail".equals(tcbCheck.get("outcome"));
                checks.add(tcbCheck);
                if (out.get("tcb") instanceof Map<?, ?> tcb) {
                    claims = withStatus(claims, (String) tcb.get("status"));
                }
            }
            out.put("claims", claims(claims));
            if (p != null) {
                out.put("policy_id", p.id());
                byte[] model;
                try {
                    model = modelDigest != null ? HexFormat.of().parseHex(modelDigest)
                            : HexFormat.of().parseHex(p.allowedModelDigests().iterator().next());
                } catch (IllegalArgumentException e) {
                    throw new Stopped("model digest", "bad_argument", "--model-digest is not hex; give the model file's "
                            + "SHA-256 as 64 hex digits");
                }
                try {
                    p.check(claims, claims.reportData(), model, when);
                    checks.add(check("policy " + p.name(), "pass", ""));
                } catch (AttestationException e) {
                    ok = false;
                    checks.add(check("policy " + p.name(), "fail", e.failure().code(), e.detail()));
                }
                checks.add(check("report_data binding", "not checked", "needs the nonce and key of a live attestation"));
                if (modelDigest == null) {
                    checks.add(check("model digest", "not checked", "pass --model-digest"));
                }
            }
        }
        return ok;
    }

    /** Evaluates the TCB status from --collateral; records the evaluation under "tcb" in {@code out}. */
    private Map<String, String> tdxTcbStatus(byte[] quote, RevocationLists lists, Instant when, Map<String, Object> out) {
        String name = "TCB status from collateral";
        if (collateral == null) {
            return check(name, "not evaluated", "no --collateral given; a policy with TDX rules needs a TCB status");
        }
        try {
            TdxVerifier.Result r = TdxVerifier.withIntelRoot().withRevocationLists(lists)
                    .withCollateral(List.of(TdxCollateral.load(collateral)))
                    .verifyDetailed(new Evidence(TeeType.TDX, quote, List.of()), when);
            if (r.tcb().isEmpty()) {
                return check(name, "fail", "tcb_mismatch", "the collateral is not for this platform's FMSPC " + r.fmspc()
                        + "; fetch the TCB Info for that FMSPC");
            }
            TdxTcbEvaluation t = r.tcb().get();
            Map<String, Object> tcb = new LinkedHashMap<>();
            tcb.put("status", t.status().id());
            tcb.put("platform", t.platformStatus().id());
            t.moduleStatus().ifPresent(m -> tcb.put("tdx_module", m.id()));
            tcb.put("quoting_enclave", t.qeStatus().id());
            tcb.put("tcb_date", t.tcbDate().toString());
            tcb.put("advisory_ids", t.advisoryIds());
            tcb.put("fmspc", t.fmspc());
            tcb.put("tcb_evaluation_data_number", t.evaluationDataNumber());
            out.put("tcb", tcb);
            return check(name + " (FMSPC " + t.fmspc() + ")", "pass", t.status().id()
                    + (t.advisoryIds().isEmpty() ? "" : ", advisories " + t.advisoryIds()));
        } catch (AttestationException e) {
            return check(name, "fail", e.failure().code(), e.detail());
        }
    }

    /** Azure evidence JSON from a directory of its parts ({@code AzureEvidence.fromParts}). */
    private byte[] azureParts() throws Stopped {
        try {
            return AzureEvidence.fromParts(evidence).toEvidence(List.of()).report();
        } catch (AttestationException e) {
            throw new Stopped("read evidence", e.failure().code(), e.detail());
        }
    }

    private TdxCollateral collateral() throws Stopped {
        try {
            return TdxCollateral.load(collateral);
        } catch (AttestationException e) {
            throw new Stopped("read collateral", e.failure().code(), e.detail());
        }
    }

    private static AttestedClaims withStatus(AttestedClaims c, String status) {
        return new AttestedClaims(c.tee(), c.simulated(), c.reportVersion(), c.measurement(), c.extraMeasurements(),
                c.reportData(), c.debug(), c.migrationAgent(), c.tcb(), java.util.Optional.of(status), c.signedAt(),
                c.properties());
    }

    private RevocationLists revocationLists() throws Stopped {
        List<X509CRL> out = new ArrayList<>();
        for (Path p : crls) {
            try {
                out.add(RevocationLists.parse(Files.readAllBytes(p)));
            } catch (Exception e) {
                throw new Stopped("read CRLs", "bad_collateral", "the CRL " + p + " cannot be used ("
                        + e.getClass().getSimpleName() + "); give a DER or PEM CRL");
            }
        }
        return RevocationLists.of(out);
    }

    /** A JSON answer of a Kata guest's attestation agent ({@code curl 127.0.0.1:8006/aa/evidence?...}), not Azure's evidence. */
    private static boolean isAgentAnswer(byte[] b) {
        if (b.length == 0 || b[0] != '{') {
            return false;
        }
        String json = new String(b, java.nio.charset.StandardCharsets.UTF_8);
        return !json.contains("\"hcl_report\"") && (json.contains("\"attestation_report\"") || json.contains("\"quote\""));
    }

    private static TeeType detect(byte[] b) throws Stopped {
        if (b.length > 0 && b[0] == '{') {
            // Azure evidence (docs/attestation.md): a JSON object, with td_quote for TDX
            return new String(b, java.nio.charset.StandardCharsets.UTF_8).contains("\"td_quote\"") ? TeeType.AZURE_TDX
                    : TeeType.AZURE_SNP;
        }
        if (b.length == SnpReport.LENGTH) {
            return TeeType.SNP;
        }
        if (b.length > 8 && ((b[0] & 0xFF) == 4 || (b[0] & 0xFF) == 5) && b[1] == 0
                && (b[4] & 0xFF) == TdxQuote.TEE_TYPE_TDX) {
            return TeeType.TDX;
        }
        throw new Stopped("read evidence", "malformed_evidence", "the evidence is neither a 1184-byte SEV-SNP report, "
                + "a TDX v4/v5 quote nor Azure evidence JSON (" + b.length + " bytes)");
    }

    private List<byte[]> certificates() throws Stopped {
        try {
            return readCertificates();
        } catch (Exception e) {
            throw new Stopped("read certificates", "bad_certificate_chain", "the certificates in " + certs
                    + " cannot be read (" + e.getClass().getSimpleName() + "); give a directory of DER or PEM files");
        }
    }

    private List<byte[]> readCertificates() throws Exception {
        if (certs == null) {
            return List.of();
        }
        List<X509Certificate> found = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (Stream<Path> files = Files.list(certs)) {
            for (Path f : files.sorted().toList()) {
                for (var c : cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(f)))) {
                    found.add((X509Certificate) c);
                }
            }
        }
        // leaf first, then intermediates, root last
        found.sort(Comparator.comparingInt(c -> c.getSubjectX500Principal().equals(c.getIssuerX500Principal()) ? 2
                : c.getBasicConstraints() >= 0 ? 1 : 0));
        List<byte[]> out = new ArrayList<>();
        for (X509Certificate c : found) {
            out.add(c.getEncoded());
        }
        return out;
    }

    private static Map<String, Object> claims(AttestedClaims c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", c.reportVersion());
        m.put("measurement", c.measurementHex());
        c.extraMeasurements().forEach((k, v) -> m.put(k, HexFormat.of().formatHex(v)));
        m.put("report_data", HexFormat.of().formatHex(c.reportData()));
        m.put("debug", c.debug());
        m.put("migration_agent", c.migrationAgent());
        m.put("tcb", c.tcb());
        m.putAll(new java.util.TreeMap<>(c.properties()));
        m.put("simulated", c.simulated());
        c.tcbStatus().ifPresent(s -> m.put("tcb_status", s));
        return m;
    }

    private static Map<String, String> check(String name, String outcome, String detail) {
        return check(name, outcome, "", detail);
    }

    /** A check's result; a failure carries its code once, apart from the detail. */
    private static Map<String, String> check(String name, String outcome, String code, String detail) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("check", name);
        m.put("outcome", outcome);
        m.put("code", code);
        m.put("detail", detail);
        return m;
    }

    @SuppressWarnings("unchecked")
    private void print(Map<String, Object> out) throws Exception {
        PrintStream p = System.out;
        if ("json".equals(format)) {
            p.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
            return;
        }
        p.println(out.getOrDefault("tee", "unrecognised") + " evidence " + out.get("evidence") + " as of "
                + out.get("verified_at"));
        Object claims = out.get("claims");
        if (claims instanceof Map<?, ?> m) {
            p.println("claims:");
            m.forEach((k, v) -> p.printf("  %-16s %s%n", k, v));
        }
        if (out.get("tcb") instanceof Map<?, ?> tcb) {
            p.println("tcb:");
            tcb.forEach((k, v) -> p.printf("  %-16s %s%n", k, v));
        }
        p.println("checks:");
        for (Map<String, String> c : (List<Map<String, String>>) out.get("checks")) {
            p.printf("  %-14s %s%s%n", c.get("outcome").toUpperCase(java.util.Locale.ROOT), c.get("check"),
                    c.get("detail").isEmpty() ? "" : " — " + (c.get("code").isEmpty() ? "" : c.get("code") + ": ")
                            + c.get("detail"));
        }
        p.println("result: " + out.get("result"));
    }
}

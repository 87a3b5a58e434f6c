package io.sealstream.attestation.snp;

import io.sealstream.attestation.Certificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AMD's published SEV-SNP certificate chains for Milan, Genoa and Turin, shipped as resources and
 * pinned: each ARK must have the SHA-256 fingerprint AMD publishes, or loading fails. The ASKs and
 * ASVKs complete evidence that carries only its VCEK or VLEK.
 */
public final class AmdRoots {
    /** ARK SHA-256 fingerprints by product, lower-case hex. */
    public static final Map<String, String> ARK_FINGERPRINTS = Map.of(
            "Milan", "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
            "Genoa", "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
            "Turin", "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a");

    private static final AmdRoots INSTANCE = load();

    private final Map<String, Chain> chains;

    private AmdRoots(Map<String, Chain> chains) {
        this.chains = chains;
    }

    /** The shipped chains, checked against the pinned fingerprints. */
    public static AmdRoots get() {
        return INSTANCE;
    }

    /** The three ARKs. */
    public List<X509Certificate> arks() {
        return chains.values().stream().map(Chain::ark).toList();
    }

    /** The published chain of {@code product} (Milan, Genoa or Turin, any case). */
    public Optional<Chain> chain(String product) {
        return chains.values().stream().filter(c -> c.product().equalsIgnoreCase(product)).findFirst();
    }

    /** The intermediate that issued {@code leaf} (ASK for a VCEK, ASVK for a VLEK), if AMD's. */
    public Optional<Chain> issuerOf(X509Certificate leaf) {
        for (Chain c : chains.values()) {
            for (X509Certificate intermediate : List.of(c.ask(), c.asvk())) {
                if (intermediate.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                    return Optional.of(new Chain(c.product(), intermediate, c.ark(), c.asvk()));
                }
            }
        }
        return Optional.empty();
    }

    /** One product's chain; in {@link #issuerOf} results {@code ask} is the leaf's actual issuer. */
    public record Chain(String product, X509Certificate ask, X509Certificate ark, X509Certificate asvk) {
    }

    private static AmdRoots load() {
        Map<String, Chain> chains = new java.util.LinkedHashMap<>();
        for (String product : List.of("Milan", "Genoa", "Turin")) {
            String resource = "amd/" + product.toLowerCase(java.util.Locale.ROOT) + "_ask_ark_asvk.pem";
            try (InputStream in = AmdRoots.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("AMD certificate chain resource " + resource + " is missing");
                }
                List<X509Certificate> certs = new ArrayList<>();
                for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    certs.add((X509Certificate) c);
                }
                X509Certificate ark = byCommonName(certs, "ARK-" + product);
                X509Certificate ask = byCommonName(certs, "SEV-" + product);
                X509Certificate asvk = byCommonName(certs, "SEV-VLEK-" + product);
                if (!Certificates.fingerprint(ark).equals(ARK_FINGERPRINTS.get(product))) {
                    throw new IllegalStateException("the shipped ARK-" + product + " is not AMD's: fingerprint "
                            + Certificates.fingerprint(ark));
                }
                chains.put(product, new Chain(product, ask, ark, asvk));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot read AMD certificate chain " + resource, e);
            }
        }
        return new AmdRoots(Map.copyOf(chains));
    }

    private static X509Certificate byCommonName(List<X509Certificate> certs, String cn) {
        return certs.stream().filter(c -> c.getSubjectX500Principal().getName().contains("CN=" + cn + ","))
                .findFirst()
                .or(() -> certs.stream().filter(c -> c.getSubjectX500Principal().getName().endsWith("CN=" + cn)).findFirst())
                .orElseThrow(() -> new IllegalStateException("no certificate CN=" + cn + " in the AMD chain"));
    }
}

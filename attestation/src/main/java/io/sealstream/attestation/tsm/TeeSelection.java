package io.sealstream.attestation.tsm;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeType;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code --tee=auto|snp|tdx|simulated}. {@code auto} uses configfs-tsm and fails when it is absent:
 * it never falls back to the simulated TEE, which must be asked for by name.
 */
public final class TeeSelection {
    private TeeSelection() {
    }

    /** Opens configfs-tsm; a seam so tests can play the kernel. */
    @FunctionalInterface
    public interface TsmOpener {
        ConfigfsTsmProvider open() throws AttestationException;
    }

    /**
     * The evidence provider for {@code choice}; {@code simulated} is made by {@code simulated}
     * (the dev stack's), the others from configfs-tsm under {@code tsmRoot}.
     */
    public static EvidenceProvider select(String choice, Path tsmRoot, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        return select(choice, () -> ConfigfsTsmProvider.open(tsmRoot), simulated);
    }

    /** As {@link #select(String, Path, Supplier)} with configfs-tsm opened by {@code tsm}. */
    public static EvidenceProvider select(String choice, TsmOpener tsm, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        String c = choice == null ? "auto" : choice.toLowerCase(Locale.ROOT);
        switch (c) {
            case "simulated":
                return simulated.get();
            case "auto":
                return tsm.open();
            case "snp":
            case "tdx":
                ConfigfsTsmProvider p = tsm.open();
                if (p.tee() != TeeType.fromId(c)) {
                    throw new AttestationException(io.sealstream.attestation.AttestationFailure.TEE_NOT_ALLOWED,
                            "--tee=" + c + " was asked for, but this guest is " + p.tee().id());
                }
                return p;
            default:
                throw new IllegalArgumentException("--tee must be auto, snp, tdx or simulated, got '" + choice + "'");
        }
    }
}

package io.sealstream.attestation.tsm;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.azure.AzureImds;
import io.sealstream.attestation.azure.AzureVtpmProvider;
import io.sealstream.attestation.azure.TpmDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code --tee=auto|snp|tdx|azure|simulated}. {@code auto} uses configfs-tsm, or where it is absent
 * an Azure confidential VM's vTPM ({@link AzureVtpmProvider}), and fails when neither is there: it
 * never falls back to the simulated TEE, which must be asked for by name. {@code snp} and
 * {@code tdx} mean configfs-tsm on that hardware; {@code azure} the vTPM.
 */
public final class TeeSelection {
    private TeeSelection() {
    }

    /** Opens configfs-tsm; a seam so tests can play the kernel. */
    @FunctionalInterface
    public interface TsmOpener {
        ConfigfsTsmProvider open() throws AttestationException;
    }

    /** Opens an Azure confidential VM's vTPM; a seam so tests can play it. */
    @FunctionalInterface
    public interface AzureOpener {
        AzureVtpmProvider open() throws AttestationException;
    }

    /**
     * The evidence provider for {@code choice}; {@code simulated} is made by {@code simulated}
     * (the dev stack's), the others from configfs-tsm under {@code tsmRoot} or the vTPM at
     * {@link TpmDevice#RESOURCE_MANAGER}.
     */
    public static EvidenceProvider select(String choice, Path tsmRoot, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        return select(choice, () -> ConfigfsTsmProvider.open(tsmRoot), TeeSelection::openAzure, simulated);
    }

    /** As {@link #select(String, Path, Supplier)} with configfs-tsm opened by {@code tsm}. */
    public static EvidenceProvider select(String choice, TsmOpener tsm, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        return select(choice, tsm, TeeSelection::openAzure, simulated);
    }

    /** As {@link #select(String, Path, Supplier)} with configfs-tsm and the vTPM opened by the given openers. */
    public static EvidenceProvider select(String choice, TsmOpener tsm, AzureOpener azure, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        String c = choice == null ? "auto" : choice.toLowerCase(Locale.ROOT);
        switch (c) {
            case "simulated":
                return simulated.get();
            case "azure":
                return azure.open();
            case "auto":
                try {
                    return tsm.open();
                } catch (AttestationException noTsm) {
                    try {
                        return azure.open();
                    } catch (AttestationException noAzure) {
                        throw new AttestationException(noTsm.failure(), noTsm.detail() + "; nor is this an Azure "
                                + "confidential VM (" + noAzure.detail() + ")");
                    }
                }
            case "snp":
            case "tdx":
                ConfigfsTsmProvider p = tsm.open();
                if (p.tee() != TeeType.fromId(c)) {
                    throw new AttestationException(io.sealstream.attestation.AttestationFailure.TEE_NOT_ALLOWED,
                            "--tee=" + c + " was asked for, but this guest is " + p.tee().id());
                }
                return p;
            default:
                throw new IllegalArgumentException("--tee must be auto, snp, tdx, azure or simulated, got '" + choice + "'");
        }
    }

    /** The vTPM of this VM with Azure's IMDS as its host; fails where there is no TPM or no HCL report. */
    private static AzureVtpmProvider openAzure() throws AttestationException {
        if (!Files.exists(TpmDevice.RESOURCE_MANAGER)) {
            throw new AttestationException(io.sealstream.attestation.AttestationFailure.MALFORMED_EVIDENCE, "there is no TPM at "
                    + TpmDevice.RESOURCE_MANAGER);
        }
        TpmDevice device;
        try {
            device = TpmDevice.open(TpmDevice.RESOURCE_MANAGER);
        } catch (IOException e) {
            throw new AttestationException(io.sealstream.attestation.AttestationFailure.MALFORMED_EVIDENCE, "cannot open "
                    + TpmDevice.RESOURCE_MANAGER + " (" + e.getMessage() + "); run with access to the TPM");
        }
        try {
            return AzureVtpmProvider.open(device, AzureImds.at(AzureImds.DEFAULT));
        } catch (AttestationException e) {
            try {
                device.close();
            } catch (IOException ignored) {
                // the first failure is the one to report
            }
            throw e;
        }
    }
}

package io.sealstream.attestation.tsm;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.azure.AzureImds;
import io.sealstream.attestation.azure.AzureVtpmProvider;
import io.sealstream.attestation.azure.TpmDevice;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code --tee=auto|snp|tdx|azure|coco-snp|coco-tdx|simulated}. {@code auto} uses configfs-tsm, or
 * where it is absent an Azure confidential VM's vTPM ({@link AzureVtpmProvider}), and fails when
 * neither is there: it never falls back to the simulated TEE, which must be asked for by name.
 * {@code snp} and {@code tdx} mean configfs-tsm on that hardware; {@code azure} the vTPM;
 * {@code coco-snp} and {@code coco-tdx} the Confidential Containers attestation agent of a Kata
 * pod's guest ({@link AttestationAgentProvider}), which {@code auto} does not try: a pod says
 * which runtime class it asked for.
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

    /** Opens the attestation agent for a TEE type; a seam so tests can play it. */
    @FunctionalInterface
    public interface AgentOpener {
        AttestationAgentProvider open(TeeType tee) throws AttestationException;
    }

    /** The choices, as settings and {@code --tee} list them. */
    public static final java.util.List<String> CHOICES = java.util.List.of("auto", "snp", "tdx", "azure", "coco-snp",
            "coco-tdx", "simulated");

    /**
     * The evidence provider for {@code choice}; {@code simulated} is made by {@code simulated}
     * (the dev stack's), the others from configfs-tsm under {@code tsmRoot}, the vTPM at
     * {@link TpmDevice#RESOURCE_MANAGER} or the attestation agent at {@code agentUrl}.
     */
    public static EvidenceProvider select(String choice, Path tsmRoot, URI agentUrl, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        return select(choice, () -> ConfigfsTsmProvider.open(tsmRoot), TeeSelection::openAzure,
                tee -> AttestationAgentProvider.open(agentUrl, tee), simulated);
    }

    /** As {@link #select(String, Path, URI, Supplier)} with configfs-tsm opened by {@code tsm}. */
    public static EvidenceProvider select(String choice, TsmOpener tsm, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        return select(choice, tsm, TeeSelection::openAzure, simulated);
    }

    /** As {@link #select(String, Path, URI, Supplier)} with configfs-tsm and the vTPM opened by the given openers. */
    public static EvidenceProvider select(String choice, TsmOpener tsm, AzureOpener azure, Supplier<EvidenceProvider> simulated)
            throws AttestationException {
        return select(choice, tsm, azure, tee -> AttestationAgentProvider.open(AttestationAgentProvider.DEFAULT_URL, tee),
                simulated);
    }

    /** As {@link #select(String, Path, URI, Supplier)} with every evidence source opened by the given openers. */
    public static EvidenceProvider select(String choice, TsmOpener tsm, AzureOpener azure, AgentOpener agent,
                                          Supplier<EvidenceProvider> simulated) throws AttestationException {
        String c = choice == null ? "auto" : choice.toLowerCase(Locale.ROOT);
        switch (c) {
            case "simulated":
                return simulated.get();
            case "azure":
                return azure.open();
            case "coco-snp":
                return agent.open(TeeType.SNP);
            case "coco-tdx":
                return agent.open(TeeType.TDX);
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
                throw new IllegalArgumentException("--tee must be one of " + String.join(", ", CHOICES) + ", got '" + choice + "'");
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

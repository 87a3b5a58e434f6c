package io.sealstream.attestation;

import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * What verified evidence says, after its signatures and certificate chain checked out. Policy
 * decisions are made on these claims only.
 *
 * @param tee the TEE type
 * @param simulated true when the chain ends in the development root of the simulated TEE
 * @param reportVersion the report or quote version
 * @param measurement SNP MEASUREMENT or TDX MRTD
 * @param extraMeasurements further measurements by name: SNP {@code host_data}; TDX {@code rtmr0}
 *     to {@code rtmr3}, {@code mrconfigid}, {@code mrowner}, {@code mrownerconfig}
 * @param reportData the 64-byte report_data
 * @param debug whether the guest can be debugged (SNP policy bit 19, TDX attribute bit 0)
 * @param migrationAgent whether an SNP migration agent is allowed (policy bit 18); false for TDX
 * @param tcb TCB components by name (SNP: {@code bootloader}, {@code tee}, {@code snp},
 *     {@code microcode}, plus {@code fmc} on Turin; TDX: {@code tee_tcb_svn} bytes by index)
 * @param tcbStatus for TDX, the status from collateral when supplied (UpToDate, OutOfDate, ...)
 * @param signedAt when the evidence was produced if the format says so, else empty
 * @param properties the launch's other properties by name: SNP {@code vmpl} (the privilege level
 *     that asked for the report), {@code smt_allowed} (1 if the guest policy allows SMT),
 *     {@code abi_major}, {@code abi_minor} (the firmware ABI the guest policy requires); TDX
 *     {@code td_attributes}
 */
public record AttestedClaims(
        TeeType tee,
        boolean simulated,
        int reportVersion,
        byte[] measurement,
        Map<String, byte[]> extraMeasurements,
        byte[] reportData,
        boolean debug,
        boolean migrationAgent,
        Map<String, Integer> tcb,
        Optional<String> tcbStatus,
        Optional<Instant> signedAt,
        Map<String, Long> properties) {

    /** The measurement in lower-case hex, as policies list it. */
    public String measurementHex() {
        return HexFormat.of().formatHex(measurement);
    }

    @Override
    public String toString() {
        return "AttestedClaims[tee=" + tee.id() + ", simulated=" + simulated + ", version=" + reportVersion
                + ", measurement=" + measurementHex() + ", debug=" + debug + ", migrationAgent=" + migrationAgent
                + ", tcb=" + tcb + ", tcbStatus=" + tcbStatus.orElse("-") + ", properties=" + properties + "]";
    }
}

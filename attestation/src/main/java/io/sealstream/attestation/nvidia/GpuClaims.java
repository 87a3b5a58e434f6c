package io.sealstream.attestation.nvidia;

import java.util.Optional;
import java.util.SortedMap;

/**
 * What a verified GPU report says.
 *
 * @param hardwareModel the model its BROM certificate names ("GH100 A01 GSP BROM")
 * @param architecture HOPPER, BLACKWELL, or the chip name for others
 * @param driverVersion the driver version, e.g. 580.159.03
 * @param vbiosVersion the VBIOS version, e.g. 96.00.74.00.20
 * @param measurements measurement values by SPDM block index
 */
public record GpuClaims(String hardwareModel, String architecture, Optional<String> driverVersion,
                        Optional<String> vbiosVersion, SortedMap<Integer, byte[]> measurements) {
}

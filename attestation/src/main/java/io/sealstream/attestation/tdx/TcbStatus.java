package io.sealstream.attestation.tdx;

import java.util.Arrays;
import java.util.Optional;

/**
 * The TCB status Intel's collateral assigns to a platform, a TDX module or a Quoting Enclave, by
 * the names Intel's TCB Info and QE Identity use. {@link #converge} folds the statuses of the
 * parts into the one a policy decides on: an out-of-date or revoked part makes the whole so.
 */
public enum TcbStatus {
    UP_TO_DATE("UpToDate"),
    SW_HARDENING_NEEDED("SWHardeningNeeded"),
    CONFIGURATION_NEEDED("ConfigurationNeeded"),
    CONFIGURATION_AND_SW_HARDENING_NEEDED("ConfigurationAndSWHardeningNeeded"),
    OUT_OF_DATE("OutOfDate"),
    OUT_OF_DATE_CONFIGURATION_NEEDED("OutOfDateConfigurationNeeded"),
    REVOKED("Revoked");

    private final String id;

    TcbStatus(String id) {
        this.id = id;
    }

    /** The name in Intel's collateral and in policies, e.g. {@code UpToDate}. */
    public String id() {
        return id;
    }

    /** The status named {@code id}, as Intel spells it. */
    public static Optional<TcbStatus> of(String id) {
        return Arrays.stream(values()).filter(s -> s.id.equals(id)).findFirst();
    }

    /**
     * This platform status combined with the status of a component the platform runs (the TDX
     * module or the Quoting Enclave): a revoked component revokes the whole, an out-of-date one
     * makes an otherwise current platform out of date (keeping a pending configuration need).
     */
    public TcbStatus converge(TcbStatus component) {
        if (this == REVOKED || component == REVOKED) {
            return REVOKED;
        }
        if (component == OUT_OF_DATE || component == OUT_OF_DATE_CONFIGURATION_NEEDED) {
            return switch (this) {
                case UP_TO_DATE, SW_HARDENING_NEEDED, OUT_OF_DATE -> OUT_OF_DATE;
                default -> OUT_OF_DATE_CONFIGURATION_NEEDED;
            };
        }
        return this;
    }
}

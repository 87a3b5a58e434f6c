package io.sealstream.attestation.tdx;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The TCB status of a TDX platform as Intel's collateral assesses it.
 *
 * @param status the converged status a policy decides on
 * @param platformStatus the status of the platform's TCB level (SGX components, PCE SVN, TDX components)
 * @param moduleStatus the status of the TDX module's own TCB level, when TCB Info lists its identity
 * @param qeStatus the status of the Quoting Enclave's TCB level
 * @param tcbDate the date of the platform's TCB level
 * @param advisoryIds the Intel security advisories of every matched level, without repeats
 * @param fmspc the platform's FMSPC
 * @param evaluationDataNumber Intel's TCB evaluation data number of the TCB Info used
 */
public record TdxTcbEvaluation(TcbStatus status, TcbStatus platformStatus, Optional<TcbStatus> moduleStatus,
                               TcbStatus qeStatus, Instant tcbDate, List<String> advisoryIds, String fmspc,
                               int evaluationDataNumber) {
    public TdxTcbEvaluation {
        advisoryIds = List.copyOf(advisoryIds);
    }
}

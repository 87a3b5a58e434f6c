package io.sealstream.client;

/**
 * Which attested worker answered: what the response's AAD binds (the lease it answered under, the
 * TEE type and measurement the key broker verified for it, the digest of the model that served),
 * and whether the key broker's transparency log holds that lease with the same TEE type,
 * measurement and model ({@code inLog}). A response whose lease the log does not prove is flagged,
 * not dropped: it opened under this client's session key, which only an attested worker holds, so
 * it is genuine; what is unproven is which build produced it.
 *
 * @param leaseId the key broker's lease
 * @param leaseLogIndex where the log holds the lease (-1: the worker was not told)
 * @param tee the worker's TEE type
 * @param measurement the worker's launch measurement, hex
 * @param modelDigest SHA-256 of the model that served, hex (empty when no model ran)
 * @param inLog whether the log proved the lease as the response states it
 */
public record AnswerProvenance(String leaseId, long leaseLogIndex, String tee, String measurement, String modelDigest,
                               boolean inLog) {

    /**
     * Whether {@code lease}, a log entry, proves this provenance: it is the {@code lease} entry of
     * this lease id, with this TEE type and measurement, and the serving model among its models.
     * (It says nothing of the entry's inclusion: that is the log's proof.)
     */
    public boolean isStatedBy(io.sealstream.transparency.LogEntry lease) {
        java.util.Map<String, String> f = lease.fields();
        return lease.type() == io.sealstream.transparency.LogEntry.Type.LEASE && leaseId.equals(f.get("lease_id"))
                && tee.equals(f.get("tee")) && measurement.equals(f.get("measurement"))
                && (modelDigest.isEmpty()
                        || java.util.Arrays.asList(f.getOrDefault("models", "").split("\\.")).contains(modelDigest));
    }

    static AnswerProvenance of(io.sealstream.schemas.v1.Provenance bound, boolean inLog) {
        return new AnswerProvenance(bound.getLeaseId(), bound.getLeaseLogIndex(), bound.getTee(), bound.getMeasurement(),
                bound.getModelDigest(), inLog);
    }
}

package io.sealstream.keybroker.api;

import java.util.List;

/**
 * {@code GET /v1/log/proof/inclusion?index=&size=} and {@code GET /v1/log/proof/consistency?first=&second=}:
 * the RFC 9162 audit path or consistency proof, each hash 32 bytes.
 */
public record LogProof(List<byte[]> hashes) {
}

package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/custody/recovery}: the owner's nonce of the offer it answers and the root sealed
 * to the offer's TEE key.
 */
public record RecoveryDelivery(byte[] nonce, byte[] sealedRoot) {
}

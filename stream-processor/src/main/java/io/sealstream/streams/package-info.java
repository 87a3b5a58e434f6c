/**
 * The Kafka Streams topology of the worker (ARCHITECTURE.md §7): ciphertext buffered per task,
 * batches handed to a {@code BatchHandler}, responses routed per client. Arrives with the
 * pipeline issue.
 */
package io.sealstream.streams;

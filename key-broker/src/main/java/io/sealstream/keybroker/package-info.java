/**
 * The key broker (ARCHITECTURE.md §6): releases a topic's private keyset only to a worker whose
 * evidence satisfies the policy. Arrives with the pipeline issue.
 */
package io.sealstream.keybroker;

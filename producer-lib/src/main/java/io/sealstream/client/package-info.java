/**
 * The client SDK (ARCHITECTURE.md §4): verifies the key broker's evidence and policy, seals
 * requests and opens responses. Arrives with the pipeline issue.
 */
package io.sealstream.client;

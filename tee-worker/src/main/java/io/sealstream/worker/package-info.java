/**
 * The confidential worker (ARCHITECTURE.md §7): boot sequence, key acquisition, inference
 * engines. Arrives with the pipeline issue.
 */
package io.sealstream.worker;

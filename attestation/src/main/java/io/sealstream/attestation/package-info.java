/**
 * Attestation evidence and its verification (ARCHITECTURE.md §6): AMD SEV-SNP reports, Intel TDX
 * quotes, the simulated TEE, and the YAML policy whose hash is the policy id. Arrives with the
 * attestation issue; this package marks the module's place in the build.
 */
package io.sealstream.attestation;

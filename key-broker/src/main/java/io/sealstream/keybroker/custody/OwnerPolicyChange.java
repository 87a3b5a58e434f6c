package io.sealstream.keybroker.custody;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.PolicyChallenge;
import io.sealstream.keybroker.api.PolicyChange;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.client.KeyBrokerClient;
import java.security.GeneralSecurityException;

/**
 * The owner's side of a live policy change ({@code sealstream key-broker policy}): take a
 * challenge, open it with the recovery key, MAC the new policy under it. Used to revoke a
 * measurement, TCB level or model while everything runs.
 */
public final class OwnerPolicyChange {
    private OwnerPolicyChange() {
    }

    /**
     * Makes {@code broker} enforce {@code policyYaml}.
     *
     * @throws KeyBrokerException if the broker refuses (no owner key, not the owner, a bad policy)
     * @throws GeneralSecurityException if the challenge does not open with {@code owner}: it names another owner key
     */
    public static PolicyChanged apply(KeyBrokerClient broker, SealingKeyPair owner, String policyYaml)
            throws KeyBrokerException, GeneralSecurityException {
        AttestationPolicy.parse(policyYaml); // a policy that does not parse is refused here, with its field named
        PolicyChallenge challenge = broker.policyChallenge();
        byte[] mac = OwnerChallenges.answer(owner, challenge.nonce(), challenge.sealedKey(), policyYaml);
        return broker.changePolicy(new PolicyChange(challenge.nonce(), policyYaml, mac));
    }
}

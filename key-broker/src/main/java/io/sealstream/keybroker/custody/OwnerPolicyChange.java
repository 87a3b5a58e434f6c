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
     * Makes {@code broker} enforce {@code policyYaml} in place of {@code currentPolicyId}, the policy
     * the owner believes is in force there: a broker (or a challenge relayed from one) enforcing
     * another policy is refused before anything is MAC'd.
     *
     * @throws KeyBrokerException if the broker refuses (no owner key, not the owner, a bad policy) or
     *     enforces another policy ({@code policy_mismatch})
     * @throws GeneralSecurityException if the challenge does not open with {@code owner}: it names another owner key
     */
    public static PolicyChanged apply(KeyBrokerClient broker, SealingKeyPair owner, String currentPolicyId,
                                      String policyYaml) throws KeyBrokerException, GeneralSecurityException {
        AttestationPolicy.parse(policyYaml); // a policy that does not parse is refused here, with its field named
        PolicyChallenge challenge = broker.policyChallenge();
        if (!currentPolicyId.equals(challenge.policyId())) {
            throw new KeyBrokerException(409, "policy_mismatch", "the broker at " + broker.baseUrl() + " enforces policy "
                    + challenge.policyId() + ", not " + currentPolicyId + "; check the URL and which policy is in force");
        }
        byte[] mac = OwnerChallenges.answer(owner, challenge.nonce(), challenge.sealedKey(), currentPolicyId, policyYaml);
        return broker.changePolicy(new PolicyChange(challenge.nonce(), policyYaml, mac));
    }
}

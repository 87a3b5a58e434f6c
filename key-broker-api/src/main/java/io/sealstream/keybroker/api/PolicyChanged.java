package io.sealstream.keybroker.api;

import java.util.List;

/**
 * The answer to a {@link PolicyChange}: the policy id now enforced, the one it replaced, the
 * topics whose next key was published (promoted at {@code promote_at}), and when leases under the
 * old policy stopped counting (now: every worker attests again at its next refresh).
 */
public record PolicyChanged(String policyId, String previousPolicyId, List<String> rotatingTopics, String promoteAt) {
}

package io.sealstream.keybroker.api;

import java.util.List;

/**
 * {@code GET /v1/keys/}: the request topic families the key broker holds keysets for. A hint for
 * finding one to verify, outside any evidence binding: what a client relies on (the policy, with
 * its pools, and each family's keys) it takes only from a verified {@link PublicTopicKeys}.
 */
public record TopicList(List<String> topics) {
}

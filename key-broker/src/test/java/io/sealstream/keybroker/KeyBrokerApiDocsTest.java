package io.sealstream.keybroker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.sealstream.keybroker.api.AuthChallenge;
import io.sealstream.keybroker.api.KeyRelease;
import io.sealstream.keybroker.api.LeaseGrant;
import io.sealstream.keybroker.api.PublicTopicKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** docs/key-broker.md lists, for each endpoint, exactly the fields of the record the broker answers with. */
class KeyBrokerApiDocsTest {

    @ParameterizedTest(name = "{0} answers with the documented fields of {1}")
    @CsvSource({
            "'`POST /v1/auth`', AuthChallenge",
            "'`POST /v1/attest`', LeaseGrant",
            "'`GET /v1/keys/{topic}`', KeyRelease",
            "'`GET /v1/keys/{topic}/public?nonce=B64URL`', PublicTopicKeys",
            "'`GET /v1/keys/`', TopicList",
            "'`GET /v1/custody`', CustodyStatus",
            "'`GET /readyz`', CustodyStatus",
            "'`POST /v1/custody/handover`', HandoverGrant",
            "'`GET /v1/custody/recovery?nonce=B64URL`', RecoveryOffer",
            "'`POST /v1/custody/recovery`', CustodyStatus",
            "'`GET /v1/log/head`', LogHead",
            "'`GET /v1/log/entries?start=&end=`', LogEntries",
            "'`GET /v1/log/proof/inclusion?index=&size=`', LogProof",
            "'`GET /v1/log/proof/consistency?first=&second=`', LogProof",
            "'`GET /v1/log/key`', LogKey"})
    void theDocumentedAnswerListsEveryFieldTheBrokerSends(String endpoint, String record) throws Exception {
        Class<?> type = switch (record) {
            case "AuthChallenge" -> AuthChallenge.class;
            case "LeaseGrant" -> LeaseGrant.class;
            case "KeyRelease" -> KeyRelease.class;
            case "TopicList" -> io.sealstream.keybroker.api.TopicList.class;
            case "CustodyStatus" -> io.sealstream.keybroker.api.CustodyStatus.class;
            case "HandoverGrant" -> io.sealstream.keybroker.api.HandoverGrant.class;
            case "RecoveryOffer" -> io.sealstream.keybroker.api.RecoveryOffer.class;
            case "LogHead" -> io.sealstream.keybroker.api.LogHead.class;
            case "LogEntries" -> io.sealstream.keybroker.api.LogEntries.class;
            case "LogProof" -> io.sealstream.keybroker.api.LogProof.class;
            case "LogKey" -> io.sealstream.keybroker.api.LogKey.class;
            default -> PublicTopicKeys.class;
        };
        PropertyNamingStrategies.SnakeCaseStrategy snake = new PropertyNamingStrategies.SnakeCaseStrategy();
        List<String> sent = Arrays.stream(type.getRecordComponents()).map(c -> snake.translate(c.getName())).toList();

        String row = Files.readAllLines(Path.of("..", "docs", "key-broker.md")).stream()
                .filter(l -> l.startsWith("| " + endpoint + " |")).findFirst()
                .orElseThrow(() -> new AssertionError("docs/key-broker.md has no row for " + endpoint));
        String answer = row.split("\\|")[3];
        Matcher braces = Pattern.compile("\\{([^}]*)}").matcher(answer);
        assertThat(braces.find()).as("the answer column of %s names its fields in braces", endpoint).isTrue();
        List<String> documented = Arrays.stream(braces.group(1).split(",")).map(String::strip).toList();

        assertThat(documented).containsExactlyInAnyOrderElementsOf(sent);
    }
}

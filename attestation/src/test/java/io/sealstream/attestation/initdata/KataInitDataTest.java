package io.sealstream.attestation.initdata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class KataInitDataTest {
    private static final Map<String, String> FILES = Map.of("worker.properties", "tee=auto\nengine=minilm\n",
            "policy.rego", "package agent_policy\n\ndefault ExecProcessRequest := false\n");

    @Test
    void theDocumentIsInitDataVersion010WithEveryFileAsALiteralString() {
        String toml = new String(KataInitData.of(KataInitData.Algorithm.SHA384, FILES).toml(), StandardCharsets.UTF_8);

        assertThat(toml).startsWith("algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n")
                .contains("\"policy.rego\" = '''\npackage agent_policy\n").contains("\"worker.properties\" = '''\ntee=auto\n");
        assertThat(toml.indexOf("policy.rego")).as("files in name order").isLessThan(toml.indexOf("worker.properties"));
    }

    @Test
    void theDigestIsTheDocumentsOwnWithItsAlgorithm() throws Exception {
        KataInitData d = KataInitData.of(KataInitData.Algorithm.SHA256, FILES);

        assertThat(d.digestHex()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(d.toml())))
                .hasSize(64);
        assertThat(KataInitData.of(KataInitData.Algorithm.SHA384, FILES).digestHex()).hasSize(96);
    }

    @Test
    void anyChangedSettingChangesTheDigest() {
        String before = KataInitData.of(KataInitData.Algorithm.SHA256, FILES).digestHex();
        String after = KataInitData.of(KataInitData.Algorithm.SHA256, Map.of("worker.properties", "tee=auto\nengine=synthetic\n",
                "policy.rego", FILES.get("policy.rego"))).digestHex();

        assertThat(after).isNotEqualTo(before);
    }

    @Test
    void theAnnotationIsTheGzippedDocumentInBase64AndReproducible() throws Exception {
        KataInitData d = KataInitData.of(KataInitData.Algorithm.SHA256, FILES);

        byte[] unzipped = new GZIPInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(d.annotation()))).readAllBytes();

        assertThat(unzipped).isEqualTo(d.toml());
        assertThat(d.annotation()).isEqualTo(KataInitData.of(KataInitData.Algorithm.SHA256, FILES).annotation());
    }

    @Test
    void contentThatWouldEndTheLiteralStringIsRefused() {
        assertThatThrownBy(() -> KataInitData.of(KataInitData.Algorithm.SHA256, Map.of("x.rego", "a ''' b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'''");
    }
}

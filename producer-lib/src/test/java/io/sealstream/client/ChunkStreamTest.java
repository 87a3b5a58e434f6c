package io.sealstream.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.envelope.OpenedChunk;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the client follows the chunks of one streamed answer, whatever order and copies Kafka brings. */
class ChunkStreamTest {
    private final List<String> handedOn = new ArrayList<>();
    private final ChunkStream stream = new ChunkStream("r1", handedOn::add);

    @Test
    void piecesAreHandedOnInOrderOnceEachAndTheAnswerBringsTheRest() {
        stream.chunk(new OpenedChunk("r1", "a", 0, false, "Once"));
        stream.chunk(new OpenedChunk("r1", "a", 2, false, " a"));
        stream.chunk(new OpenedChunk("r1", "a", 1, false, " upon"));
        stream.chunk(new OpenedChunk("r1", "a", 1, false, " upon"));

        boolean consistent = stream.finish("Once upon a time");

        assertThat(consistent).isTrue();
        assertThat(handedOn).containsExactly("Once", " upon", " a", " time");
    }

    @Test
    void chunksOfASecondAttemptAreIgnored() {
        stream.chunk(new OpenedChunk("r1", "first", 0, false, "Once"));
        stream.chunk(new OpenedChunk("r1", "second", 0, false, "Twice"));
        stream.chunk(new OpenedChunk("r1", "second", 1, false, " more"));

        assertThat(handedOn).containsExactly("Once");
    }

    @Test
    void anAnswerThatDoesNotBeginWithTheStreamedTextIsReportedAsDiverged() {
        stream.chunk(new OpenedChunk("r1", "died", 0, false, "Once upon"));

        assertThat(stream.finish("Twice upon a time")).isFalse();
        assertThat(handedOn).containsExactly("Once upon");
    }

    @Test
    void nothingIsHandedOnAfterTheAnswer() {
        stream.finish("Whole");
        stream.chunk(new OpenedChunk("r1", "a", 0, false, "Whole"));

        assertThat(handedOn).containsExactly("Whole");
    }

    @Test
    void aCallbackThatThrowsDoesNotStopTheStream() {
        List<String> got = new ArrayList<>();
        ChunkStream s = new ChunkStream("r2", t -> {
            got.add(t);
            throw new IllegalStateException("the caller's bug");
        });

        s.chunk(new OpenedChunk("r2", "a", 0, false, "one"));

        assertThat(s.finish("one two")).isTrue();
        assertThat(got).containsExactly("one", " two");
    }
}

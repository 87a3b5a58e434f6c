package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ServiceExitTest {
    @Test
    void everyExitHasItsOwnCodeAndSuccessIsOnlyAGracefulStop() {
        assertThat(Arrays.stream(ServiceExit.values()).map(ServiceExit::code)).doesNotHaveDuplicates();
        assertThat(Arrays.stream(ServiceExit.values()).filter(e -> e.code() == 0)).containsExactly(ServiceExit.STOPPED);
        // 126 and above are the shell's and the signals' (128 + n)
        assertThat(Arrays.stream(ServiceExit.values()).map(ServiceExit::code)).allMatch(c -> c >= 0 && c < 126);
    }

    @Test
    void docsConfigurationHoldsTheExitCodesAsTheCodeDefinesThem() throws Exception {
        DocumentedTable.assertConfigurationDocHolds("exit-codes", ServiceExit.markdown());
    }

    @Test
    void aRequestedStopEndsTheWaitWithoutAnExitOfItsOwn() throws Exception {
        ServiceProcess p = ServiceProcess.withoutSignals();
        p.requestStop("test");

        assertThat(p.awaitStop()).isEmpty();
    }

    @Test
    void aServiceThatStopsItselfGivesItsExit() throws Exception {
        ServiceProcess p = ServiceProcess.withoutSignals();
        p.stoppedItself(ServiceExit.ENGINE_STALLED);

        assertThat(p.awaitStop()).contains(ServiceExit.ENGINE_STALLED);
    }
}

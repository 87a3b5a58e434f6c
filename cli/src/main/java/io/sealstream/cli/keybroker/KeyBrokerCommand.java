package io.sealstream.cli.keybroker;

import io.sealstream.cli.stack.ServiceOptions;
import io.sealstream.keybroker.KeyBrokerMain;
import io.sealstream.keybroker.KeyBrokerSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code sealstream key-broker}: runs the key broker (as the key-broker module's own main,
 * {@link KeyBrokerMain}); its subcommands are the owner's custody tools (docs/key-broker.md, "Custody").
 */
@Command(name = "key-broker", mixinStandardHelpOptions = true,
        description = {"Run the key broker until SIGTERM; or, with a subcommand, the owner's tools: a recovery key, "
                + "recovery after every replica was lost, live policy changes.",
                "Settings come from --config FILE, SEALSTREAM_KEY_BROKER_* variables and --set (docs/configuration.md)."},
        subcommands = {RecoveryKeyCommand.class, RecoverCommand.class, PolicyCommand.class})
public final class KeyBrokerCommand implements Callable<Integer> {
    @Mixin
    ServiceOptions service;

    @Override
    public Integer call() {
        return service.launch(KeyBrokerSettings.SCHEMA, KeyBrokerMain::run);
    }
}

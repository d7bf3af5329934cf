package idex;

import idex.cli.AccountCommand;
import idex.cli.DecryptCommand;
import idex.cli.DeliveriesCommand;
import idex.cli.KeyCommand;
import idex.cli.EncryptCommand;
import idex.cli.JobsCommand;
import idex.cli.RequestCommand;
import idex.cli.ServeCommand;
import idex.cli.Uid2Command;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `idex` command line. */
@Command(name = "idex", mixinStandardHelpOptions = true, version = "idex 0.1.0",
        description = "Identity and audience exchange server with a UID2/EUID-compatible operator API.",
        subcommands = {ServeCommand.class, Uid2Command.class, AccountCommand.class, KeyCommand.class, JobsCommand.class,
                DeliveriesCommand.class, EncryptCommand.class, DecryptCommand.class, RequestCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // Operator mistakes (a bad flag value, a missing file) print one clear line, not a stack trace.
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            Throwable cause = e instanceof java.io.UncheckedIOException && e.getCause() != null ? e.getCause() : e;
            cmd.getErr().println("idex: " + (cause.getMessage() != null ? cause.getMessage() : cause.toString()));
            return 1;
        });
        return cli.execute(args);
    }
}

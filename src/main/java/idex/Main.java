package idex;

import idex.cli.ServeCommand;
import idex.cli.Uid2Command;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `idex` command line. */
@Command(name = "idex", mixinStandardHelpOptions = true, version = "idex 0.1.0",
        description = "Identity and audience exchange server with a UID2/EUID-compatible operator API.",
        subcommands = {ServeCommand.class, Uid2Command.class, 
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // Operator mistakes (a bad flag value, a missing file) print one clear line, not a stack trace.
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("idex: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        });
        return cli.execute(args);
    }
}

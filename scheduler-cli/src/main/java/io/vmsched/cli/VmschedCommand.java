package io.vmsched.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import picocli.CommandLine.Command;

/**
 * The {@code vmsched} command: the entry point of the shaded jar, run by the {@code ./vmsched}
 * launcher with the JVM flags the libraries need.
 */
@Command(
    name = "vmsched",
    mixinStandardHelpOptions = true,
    version = "vmsched 0.1.0-SNAPSHOT",
    description = "A VM scheduler runtime: off-heap lock-free schedules, random-peer balancing, journaled migration.",
    subcommands = { DemoCommand.class, DispatchDemoCommand.class, SimulateCommand.class, NodeCommand.class, StatCommand.class, JournalCommand.class, CommandLine.HelpCommand.class })
public final class VmschedCommand implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed, e.g. 'vmsched demo'");
    }

    /**
     * Run the command line and return its exit code; user errors are one line on stderr, no trace.
     *
     * @param args the arguments.
     * @return 0 on success, 2 for a usage error, 1 for a failure.
     */
    public static int execute(final String... args)
    {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Run the command line with the given output streams.
     *
     * @param out  where normal output goes.
     * @param err  where errors go.
     * @param args the arguments.
     * @return 0 on success, 2 for a usage error, 1 for a failure.
     */
    public static int execute(final PrintWriter out, final PrintWriter err, final String... args)
    {
        final CommandLine commandLine = new CommandLine(new VmschedCommand());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            // a damaged journal or a directory in use is a failure (1), not a usage error (2)
            final boolean corrupt = ex instanceof io.vmsched.journal.JournalCorruptException ||
                ex instanceof io.vmsched.cluster.DataDirectory.InUseException;
            if (corrupt || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException)
            {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
                cmd.getErr().flush();
                return corrupt ? 1 : 2; // a broken journal: what was readable before the bad record has been shown
            }
            throw ex;
        });
        return commandLine.execute(args);
    }

    /**
     * @param args the command line.
     */
    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }
}

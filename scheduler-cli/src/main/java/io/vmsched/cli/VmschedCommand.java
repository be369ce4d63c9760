package io.vmsched.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;

/**
 * The {@code vmsched} command: the entry point of the shaded jar, run by the {@code ./vmsched}
 * launcher with the JVM flags the libraries need.
 */
@Command(
    name = "vmsched",
    mixinStandardHelpOptions = true,
    version = "vmsched 0.1.0-SNAPSHOT",
    resourceBundle = "io.vmsched.cli.HelpTexts", // what a shared flag means to each command
    description = "A VM scheduler runtime: off-heap lock-free schedules, random-peer balancing, journaled migration.",
    subcommands = { DemoCommand.class, QemuDemoCommand.class, DispatchDemoCommand.class, SimulateCommand.class, ForecastEvalCommand.class, NodeCommand.class, RegistryCommand.class, ClusterDemoCommand.class, StatCommand.class, StatusCommand.class, InventoryCommand.class, ConstraintsCommand.class, DrainCommand.Drain.class, DrainCommand.Undrain.class, JournalCommand.class, CommandLine.HelpCommand.class })
public final class VmschedCommand implements Runnable
{
    /** Exit status of a usage error: a bad flag, value, file or directory. */
    static final int USAGE = 2;
    /** Exit status of a failure: the command ran and something went wrong. */
    static final int FAILURE = 1;

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
        commandLine.setParameterExceptionHandler(VmschedCommand::usageError);
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            // a damaged journal or a directory in use is a failure (1), not a usage error (2)
            final boolean corrupt = ex instanceof io.vmsched.journal.JournalCorruptException ||
                ex instanceof io.vmsched.cluster.DataDirectory.InUseException;
            if (corrupt || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException)
            {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
                cmd.getErr().flush();
                // bad input (flags, files) is a usage error; a broken journal (what was readable before the
                // bad record has been shown) or a run that went wrong is a failure
                return ex instanceof IllegalArgumentException && !corrupt ? USAGE : FAILURE;
            }
            throw ex;
        });
        return commandLine.execute(args);
    }

    /**
     * A flag or argument picocli could not parse: one line naming it and where help is, never the
     * whole usage (the README promises one line).
     */
    private static int usageError(final CommandLine.ParameterException ex, final String[] args)
    {
        final CommandLine cmd = ex.getCommandLine();
        final String name = cmd.getCommandSpec().qualifiedName();
        String message = ex.getMessage();
        if (ex instanceof CommandLine.UnmatchedArgumentException)
        {
            final CommandLine.UnmatchedArgumentException unmatched = (CommandLine.UnmatchedArgumentException)ex;
            final List<String> rest = unmatched.getUnmatched();
            if (unmatched.isUnknownOption() && !rest.isEmpty())
            {
                message = "unknown option '" + rest.get(0) + "'"; // picocli also lists the value that followed it
            }
            else if (!cmd.getSubcommands().isEmpty() && !rest.isEmpty())
            {
                message = "unknown command '" + rest.get(0) + "'";
            }
            final List<String> suggestions = unmatched.getSuggestions();
            if (!suggestions.isEmpty())
            {
                message += "; did you mean " + String.join(" or ", suggestions.subList(0, Math.min(3, suggestions.size()))) +
                    "?";
            }
        }
        if (message.endsWith("."))
        {
            message = message.substring(0, message.length() - 1); // picocli ends some messages with one; the hint follows
        }
        final PrintWriter err = cmd.getErr();
        err.println(name + ": " + message + " (see '" + name + " --help')");
        err.flush();
        return USAGE;
    }

    /**
     * @param ex a failed file operation.
     * @return why it failed, in words, without the exception's class (a user reads it).
     */
    static String reason(final IOException ex)
    {
        if (ex instanceof NoSuchFileException)
        {
            return "no such file or directory";
        }
        if (ex instanceof AccessDeniedException)
        {
            return "permission denied";
        }
        if (ex instanceof FileAlreadyExistsException)
        {
            return "it exists already";
        }
        if (ex instanceof NotDirectoryException)
        {
            return "not a directory";
        }
        if (ex instanceof FileSystemException && ((FileSystemException)ex).getReason() != null)
        {
            return ((FileSystemException)ex).getReason();
        }
        return String.valueOf(ex.getMessage());
    }

    /**
     * @param args the command line.
     */
    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }
}

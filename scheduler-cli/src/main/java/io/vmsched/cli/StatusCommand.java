package io.vmsched.cli;

import io.vmsched.cluster.OfflineStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code vmsched status}: each service with its status, its VMs and where they run, and each rule
 * with whether it holds: a running process's (its status files, refreshed every second), or, when
 * none runs on the directory, read from its journals.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the services, their status and VMs, and the placement rules (a running cluster's, or from the journals).")
final class StatusCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.DataDir dataDir = new Mixins.DataDir();

    @Mixin
    final Mixins.JsonOutput json = new Mixins.JsonOutput();

    @Mixin
    final Mixins.Registry registry = new Mixins.Registry();

    @Override
    public void run()
    {
        if (registry.given())
        {
            // across machines: the registry holds the services and rules and knows where every VM runs
            final io.vmsched.placement.StatusReport report;
            try (io.vmsched.aeron.registry.RegistryClient client = registry.connect())
            {
                report = io.vmsched.aeron.registry.RegistryStatusReport.read(client);
            }
            final PrintWriter out = spec.commandLine().getOut();
            if (json.wanted())
            {
                out.println(StatusFiles.json(report));
            }
            else
            {
                out.println("(the cluster of the registry at " + registry.members + ")");
                out.print(report.toText());
            }
            out.flush();
            return;
        }
        final Path dir = dataDir.checked();
        if (!Files.isDirectory(dir))
        {
            throw new IllegalArgumentException("--data " + dir + " does not exist");
        }
        final PrintWriter out = spec.commandLine().getOut();
        if (StatusFiles.fresh(dir))
        {
            out.print(read(dir.resolve(json.wanted() ? StatusFiles.JSON : StatusFiles.TEXT)));
        }
        else
        {
            final io.vmsched.placement.StatusReport report = OfflineStatus.read(dir);
            if (json.wanted())
            {
                out.println(StatusFiles.json(report));
            }
            else
            {
                out.println("(no cluster runs on " + dir + ": from its journals)");
                out.print(report.toText());
            }
        }
        out.flush();
    }

    private static String read(final Path file)
    {
        try
        {
            return Files.readString(file, StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
        }
    }
}

package io.vmsched.cli;

import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.placement.Placement;
import io.vmsched.placement.RulesText;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code vmsched constraints --registry ... --secret ... [--apply FILE] [--delete-rule NAME] [--delete-service NAME]}:
 * the services and rules of a cluster across machines, kept by its registry; a constraints file applied as one
 * change (all of it, or none, with the statement refused named).
 */
@Command(name = "constraints", mixinStandardHelpOptions = true,
    description = "Show, or change, the services and placement rules a cluster's registry holds.")
final class ConstraintsCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.Registry registry = new Mixins.Registry();

    @Option(names = "--apply", paramLabel = "FILE", description = "Apply a constraints file (the format of " +
        "`vmsched demo --constraints`) as one change.")
    Path apply;

    @Option(names = "--delete-rule", paramLabel = "NAME", description = "Delete a rule.")
    List<String> deleteRules = List.of();

    @Option(names = "--delete-service", paramLabel = "NAME", description = "Delete a service (no rule may cover it).")
    List<String> deleteServices = List.of();

    @Override
    public void run()
    {
        if (!registry.given())
        {
            throw new IllegalArgumentException("vmsched constraints needs --registry and --secret (an embedded " +
                "cluster takes its constraints with `vmsched demo --constraints FILE`)");
        }
        final List<String> change = new java.util.ArrayList<>();
        if (apply != null)
        {
            change.addAll(Placement.textOf(RulesText.read(apply)));
        }
        deleteRules.forEach(name -> change.add("delete-rule " + name));
        deleteServices.forEach(name -> change.add("delete-service " + name));
        final PrintWriter out = spec.commandLine().getOut();
        try (RegistryClient client = registry.connect())
        {
            if (!change.isEmpty())
            {
                try
                {
                    final int version = client.place(change);
                    out.printf("applied %d statement(s): the placement is at version %d%n", change.size(), version);
                }
                catch (final io.vmsched.aeron.registry.RegistryException ex)
                {
                    if (io.vmsched.aeron.registry.RegistryStatus.REFUSED == ex.status())
                    {
                        throw new IllegalArgumentException(ex.getMessage() + " (nothing was applied)");
                    }
                    throw ex;
                }
            }
            final RegistryClient.PlacementCopy copy = client.placement();
            out.printf("# the placement of the registry at %s, version %d%n", registry.members, copy.version());
            copy.statements().forEach(out::println);
        }
        out.flush();
    }
}

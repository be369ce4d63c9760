package io.vmsched.cli;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.registry.RegistryMember;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code vmsched registry}: one member of the registry, the small Aeron Cluster (Raft) that holds a
 * cluster's membership, directory of nodes and owner of every VM; runs until SIGINT or SIGTERM.
 */
@Command(name = "registry", mixinStandardHelpOptions = true,
    description = "Run one registry member (1 for development, 3 to survive a failure) until SIGINT/SIGTERM.")
final class RegistryCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    final Mixins.DataDir dataDir = new Mixins.DataDir();

    @Option(names = "--id", required = true, description = "This member's id in --members.")
    int id;

    @Option(names = "--members", required = true,
        description = "Every member: ID=HOST:PORT,... (each member uses PORT and the 4 ports after it).")
    String members;

    @Option(names = "--secret", required = true,
        description = "The cluster's secret: a file of at least 32 bytes readable by its owner only.")
    Path secret;

    @Option(names = "--session-timeout-ms", defaultValue = "5000",
        description = "A node silent this long is declared down (default: ${DEFAULT-VALUE}).")
    long sessionTimeoutMs;

    @Override
    public void run()
    {
        Flags.within("--session-timeout-ms", sessionTimeoutMs, 200, 600_000);
        final byte[] key = ClusterSecret.read(secret);
        if (!RegistryMember.parseMembers(members).containsKey(id))
        {
            throw new IllegalArgumentException("--id " + id + " is not one of --members " + members);
        }
        final Path data = dataDir.checked();
        final PrintWriter out = spec.commandLine().getOut();
        final RegistryMember member = RegistryMember.launch(new RegistryMember.Context()
            .memberId(id)
            .members(members)
            .dataDir(data.toFile())
            .secret(key)
            .sessionTimeout(sessionTimeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)
            .log(line -> System.err.println("vmsched registry: " + line)));
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                member.close();
                out.println("vmsched registry: member " + id + " stopped");
            }
            finally
            {
                out.flush();
                stopped.countDown();
            }
        }, "vmsched-registry-shutdown"));
        out.printf("vmsched registry: member %d of %s, pid %d, data %s; nodes connect with --registry %s; " +
            "stop with Ctrl-C or SIGTERM%n", id, members, ProcessHandle.current().pid(), data, members);
        out.flush();
        try
        {
            stopped.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}

package io.vmsched.cli;

import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.cluster.ClusterListener;
import io.vmsched.journal.AbortReason;
import io.vmsched.metrics.VmDriverTimes;
import io.vmsched.qemu.QemuProcesses;
import io.vmsched.qemu.QemuVmDriver;
import io.vmsched.vm.MigrationStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code vmsched qemu-demo}: real QEMU VMs (TCG, no guest OS) adopted on host 0 of an embedded cluster whose hosts
 * each have a {@link QemuVmDriver}; their programmed loads are skewed and swing, and the balancer spreads them by
 * live migration. A line a second (hosts' loads and VM counts), a line per live migration as it commits (QEMU's
 * total time and downtime, vmsched's overhead), a summary; then every QEMU process of the run is killed, and
 * on SIGINT or SIGTERM too (a shutdown hook). With {@code --nodes N} the hosts are node processes on 127.0.0.1
 * with a 1-member registry ({@link #runNodes}) instead.
 * <p>
 * Every QEMU of a run names a path under the run's folder (its QMP socket), the VMs launched here and the copies
 * the drivers started alike: that is how they are found and killed ({@link QemuProcesses#killUnder}).
 */
@Command(name = "qemu-demo", mixinStandardHelpOptions = true,
    description = "Run an embedded cluster (or, with --nodes, node processes and a registry) that spreads real QEMU " +
        "VMs (no guest OS) over its hosts by live migration.")
final class QemuDemoCommand implements Runnable
{
    /** How long the shutdown hook waits for the run to stop before it kills the QEMU processes itself. */
    private static final long HOOK_WAIT_S = 20;
    /** Run folder names: the prefix and the time, yyyyMMdd-HHmmss-SSS. */
    private static final String RUN_PREFIX = "qemu-";
    private static final int RUN_TIME_LENGTH = 19;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--hosts", defaultValue = "2", description = "Hosts, 2-8 (default: ${DEFAULT-VALUE}).")
    int hosts;

    @Option(names = "--nodes", defaultValue = "0", description = "Run the hosts as node processes on 127.0.0.1 " +
        "instead, 2-8: a 1-member registry and N `vmsched node --registry` processes, the VMs adopted by node-0 " +
        "(--qemu, --qemu-load) (default: ${DEFAULT-VALUE}, an embedded cluster of --hosts).")
    int nodes;

    @Option(names = "--vms", defaultValue = "4", description = "QEMU VMs to launch, 1-32 (default: ${DEFAULT-VALUE}).")
    int vms;

    @Option(names = "--memory-mib", defaultValue = "64", description = "Each VM's memory, MiB, 32-4096 (default: ${DEFAULT-VALUE}).")
    int memoryMib;

    @Option(names = "--qemu-binary", description = "The QEMU binary (default: " + QemuProcesses.BINARY_NAME +
        " on the PATH or in /usr/bin).")
    Path binary;

    @Mixin
    final Mixins.Run run = new Mixins.Run(20);

    private final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
    private final List<double[]> figures = new ArrayList<>(); // main thread: {total, downtime, overhead, copy start} ms
    private final Map<Long, MigrationStatus> live = new ConcurrentHashMap<>();
    private final VmDriverTimes times = new VmDriverTimes();
    private final ConcurrentLinkedQueue<double[]> committed = new ConcurrentLinkedQueue<>();
    private volatile boolean stopping;

    @Override
    public void run()
    {
        Flags.within("--hosts", hosts, 2, 8);
        if (nodes != 0)
        {
            Flags.within("--nodes", nodes, 2, 8);
        }
        Flags.within("--vms", vms, 1, 32);
        Flags.within("--memory-mib", memoryMib, 32, 4096);
        final int durationSeconds = run.duration.seconds();
        final Path data = run.data.checked();
        final Path qemu = qemu();
        // the longest QMP socket path a run will have: an incoming copy on the last host
        final String longest = data.toAbsolutePath().normalize().resolve(RUN_PREFIX + "x".repeat(RUN_TIME_LENGTH))
            .resolve(nodes > 0 ? "node-" + (nodes - 1) + "/" + NodeCommand.QEMU_RUN_DIR : "h" + (hosts - 1))
            .resolve("vm" + vms + ".qmp").toString();
        final int length = longest.getBytes(StandardCharsets.UTF_8).length;
        if (length > QemuProcesses.MAX_SOCKET_PATH)
        {
            throw new IllegalArgumentException("--data " + data + ": the QMP sockets under it would have paths of " +
                length + " bytes, over " + QemuProcesses.MAX_SOCKET_PATH + ": choose a shorter directory");
        }
        final Path runDir = run.data.newRun(RUN_PREFIX).toAbsolutePath().normalize();
        final List<Process> launched = new ArrayList<>();
        final CountDownLatch finished = new CountDownLatch(1);
        final Thread hook = new Thread(() ->
        {
            stopping = true;
            try
            {
                if (!finished.await(HOOK_WAIT_S, TimeUnit.SECONDS))
                {
                    QemuProcesses.killUnder(runDir); // the run did not stop in time: its QEMUs go all the same
                }
            }
            catch (final InterruptedException ex)
            {
                QemuProcesses.killUnder(runDir);
            }
        }, "vmsched-qemu-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        final PrintWriter out = spec.commandLine().getOut();
        try
        {
            if (nodes > 0)
            {
                runNodes(out, qemu, runDir, launched, durationSeconds);
            }
            else
            {
                runCluster(out, qemu, runDir, launched, durationSeconds);
            }
        }
        finally
        {
            final java.util.Set<Long> alive = new java.util.TreeSet<>();
            launched.stream().filter(Process::isAlive).forEach(p -> alive.add(p.pid()));
            QemuProcesses.under(runDir).forEach(p -> alive.add(p.pid()));
            launched.forEach(Process::destroyForcibly);
            QemuProcesses.killUnder(runDir);
            final int killed = alive.size();
            final List<ProcessHandle> left = QemuProcesses.under(runDir);
            out.printf(Locale.ROOT, "Stopped %d QEMU process%s; %s%n", killed, killed == 1 ? "" : "es",
                left.isEmpty() ? "none of " + runDir + " is left" : "STILL RUNNING: " + left);
            out.flush();
            finished.countDown();
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ex)
            {
                // shutting down: the hook runs, and returns at once
            }
        }
    }

    /** @return the QEMU binary: --qemu-binary's, or the one found. */
    private Path qemu()
    {
        if (binary != null)
        {
            if (!Files.isRegularFile(binary) || !Files.isExecutable(binary))
            {
                throw new IllegalArgumentException("--qemu-binary " + binary + " is not an executable file");
            }
            return binary;
        }
        final Path found = QemuProcesses.binary();
        if (found == null)
        {
            throw new IllegalStateException(QemuProcesses.missing()); // nothing done: no QEMU, no run folder
        }
        return found;
    }

    /** Launch the VMs in RUN/vms; @return their pids by number (1..vms), or null if stopped meanwhile. */
    private long[] launchVms(final PrintWriter out, final Path qemu, final Path runDir, final List<Process> launched)
    {
        final Path vmDir = runDir.resolve("vms");
        try
        {
            Files.createDirectories(vmDir);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot create " + vmDir + ": " + VmschedCommand.reason(ex));
        }
        out.printf(Locale.ROOT, "vmsched qemu-demo: launching %d QEMU VM%s of %d MiB (%s, TCG, no guest OS) in %s%n",
            vms, vms == 1 ? "" : "s", memoryMib, qemu, vmDir);
        out.flush();
        final long[] pids = new long[vms + 1];
        for (int i = 1; i <= vms && !stopping; i++)
        {
            try
            {
                final Process process = QemuProcesses.startTiny(qemu, vmDir.resolve("vm" + i + ".qmp"),
                    vmDir.resolve("vm" + i + ".log"), memoryMib, Duration.ofSeconds(30));
                launched.add(process);
                pids[i] = process.pid();
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException("vm" + i + ": " + ex.getMessage());
            }
        }
        return stopping ? null : pids;
    }

    private void runCluster(final PrintWriter out, final Path qemu, final Path runDir, final List<Process> launched,
        final int durationSeconds)
    {
        final long[] pids = launchVms(out, qemu, runDir, launched);
        if (pids == null)
        {
            out.println("Stopped before the cluster started.");
            return;
        }
        final Path vmDir = runDir.resolve("vms");
        final ClusterConfig config = ClusterConfig.of(hosts, runDir);
        config.host.seed = run.seed.value();
        config.host.balancePeriodNs = TimeUnit.MILLISECONDS.toNanos(400);
        // one live migration out of a host at a time: a host's load counts a VM until its migration commits (a
        // second or so here), so with more a host sheds again before the first ones have left, and overshoots
        config.host.balance.maxConcurrentPerHost = 1;
        config.host.samplePeriodNs = TimeUnit.MILLISECONDS.toNanos(100);
        config.host.balance.thresholdFraction = 0.15;
        config.host.balance.minGainFraction = 0.03;
        config.host.balancing = false; // on after the first second, once the programmed loads are the hosts'
        config.host.vmDriver = h -> times.wrap(new QemuVmDriver(runDir.resolve("h" + h)));
        config.listener = listener();

        // skewed demand: lognormal means, summing to 0.6 cores a host, all of it on host 0 at the start
        final Random random = new Random(run.seed.value());
        final double[] base = new double[vms + 1];
        final double[] period = new double[vms + 1];
        final double[] phase = new double[vms + 1];
        double sum = 0;
        for (int i = 1; i <= vms; i++)
        {
            base[i] = Math.exp(0.5 * random.nextGaussian());
            sum += base[i];
            period[i] = 8 + 8 * random.nextDouble();
            phase[i] = 2 * Math.PI * random.nextDouble();
        }
        final double total = 0.6 * hosts;
        for (int i = 1; i <= vms; i++)
        {
            base[i] *= total / sum;
        }
        try (Cluster cluster = Cluster.start(config))
        {
            for (int i = 1; i <= vms; i++)
            {
                cluster.adoptVm(0, i, "vm" + i, vmDir.resolve("vm" + i + ".qmp"), pids[i]);
                cluster.programLoad(i, base[i], 0, 0);
            }
            out.printf(Locale.ROOT, "%d hosts (1 core each), each with its own QemuVmDriver; %d VM%s adopted on host 0, " +
                "programmed loads of %.2f cores in all (lognormal, each swinging +/-50%% over 8-16 s)%n", hosts, vms,
                vms == 1 ? "" : "s", total);
            out.printf(Locale.ROOT, "journals: %s; incoming copies: %s/h<host>%n%n", runDir.resolve("journal"), runDir);
            out.flush();

            double firstCv = Double.NaN;
            final long start = System.nanoTime();
            int second = 1;
            for (; second <= durationSeconds && !stopping; second++)
            {
                final long tick = start + TimeUnit.SECONDS.toNanos(second);
                while (System.nanoTime() - tick < 0 && !stopping)
                {
                    swing(cluster, base, period, phase, (System.nanoTime() - start) / 1e9);
                    printEvents(out);
                    LockSupport.parkNanos(Math.min(50_000_000L, Math.max(1, tick - System.nanoTime())));
                }
                if (stopping)
                {
                    break;
                }
                if (second == 1)
                {
                    cluster.balancing(true); // the pile-up's loads are the hosts' now: spread it
                }
                printEvents(out);
                final double[] loads = cluster.loads();
                final double cv = io.vmsched.load.ClusterStats.cv(loads);
                if (second == 1)
                {
                    firstCv = cv;
                }
                final StringBuilder line = new StringBuilder();
                for (int h = 0; h < hosts; h++)
                {
                    line.append(String.format(Locale.ROOT, " %.2f(%d)", loads[h], cluster.host(h).vmCount()));
                }
                out.printf(Locale.ROOT, "t=%2ds  loads(vms)%s  cv %.2f  live migrations %d / aborted %d  QEMU processes %d%n",
                    second, line, cv, cluster.migrationsCommitted(), cluster.migrationsAborted(),
                    QemuProcesses.under(runDir).size());
                out.flush();
            }
            if (stopping)
            {
                out.printf(Locale.ROOT, "Interrupted at t=%.1fs: stopping%n", (System.nanoTime() - start) / 1e9);
            }
            cluster.balancing(false);
            final long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (cluster.migrationsInFlight() > 0 && System.nanoTime() - settle < 0)
            {
                LockSupport.parkNanos(20_000_000L); // the migrations under way end before the summary
            }
            printEvents(out);
            summary(out, cluster, firstCv);
        }
        printEvents(out); // the errors of the close
        out.flush();
    }

    /**
     * The same VMs on node processes: a 1-member registry and {@link #nodes} {@code vmsched node --registry}
     * processes on 127.0.0.1, node-0 adopting every VM with a programmed load; the registry's table once a second
     * and each node's live-migration lines as they come. The nodes are stopped (SIGTERM) at the end, Ctrl-C
     * included; the QEMU processes by the caller.
     */
    private void runNodes(final PrintWriter out, final Path qemu, final Path runDir, final List<Process> launched,
        final int durationSeconds)
    {
        final long[] pids = launchVms(out, qemu, runDir, launched);
        if (pids == null)
        {
            out.println("Stopped before the nodes started.");
            return;
        }
        final Path vmDir = runDir.resolve("vms");
        final Path secret = runDir.resolve("cluster.secret");
        io.vmsched.aeron.ClusterSecret.generate(secret);
        final String registry = "0=127.0.0.1:" + Children.freeUdpPorts(io.vmsched.aeron.registry.RegistryMember.PORTS_PER_MEMBER);
        final double load = 0.6 * nodes / vms; // 0.6 cores a node in all, every VM on node-0 at the start
        final Children children = new Children(15_000);
        final Thread hook = new Thread(children::close, "vmsched-qemu-demo-nodes-stop");
        Runtime.getRuntime().addShutdownHook(hook); // Ctrl-C stops the nodes; the other hook the QEMUs
        final List<Path> logs = new ArrayList<>();
        final long[] read = new long[nodes];
        final int[] migrations = {0};
        try
        {
            children.start(runDir.resolve("registry-0.log"), "registry", "--id", "0", "--members", registry,
                "--secret", secret.toString(), "--data", runDir.resolve("registry-0").toString());
            for (int n = 0; n < nodes; n++)
            {
                final String name = "node-" + n;
                final List<String> args = new ArrayList<>(List.of("node", "--registry", registry, "--name", name,
                    "--bind", "127.0.0.1:" + Children.freeUdpPorts(1), "--secret", secret.toString(),
                    "--data", runDir.resolve(name).toString(), "--balance-period-ms", "400"));
                if (n == 0)
                {
                    for (int i = 1; i <= vms; i++)
                    {
                        args.addAll(List.of("--qemu", "vm" + i + "=" + vmDir.resolve("vm" + i + ".qmp") + "@" + pids[i]));
                    }
                    args.addAll(List.of("--qemu-load", String.format(Locale.ROOT, "%.4f", load)));
                }
                logs.add(runDir.resolve(name + ".log"));
                children.start(logs.get(n), args.toArray(new String[0]));
            }
            out.printf(Locale.ROOT, "a registry at %s and %d node processes on 127.0.0.1; the %d VM%s adopted by " +
                "node-0, %.3f cores each%nlogs, journals and incoming copies: %s/node-<n>%n%n", registry, nodes, vms,
                vms == 1 ? "" : "s", load, runDir);
            out.flush();
            final Runnable relay = () -> migrations[0] += relay(out, logs, read);
            ClusterDemoCommand.watch(out, registry, secret, durationSeconds, nodes, vms, "QEMU VMs", relay,
                () -> stopping);
            relay.run();
        }
        finally
        {
            children.close(); // SIGTERM: each node settles its migrations under way and leaves its VMs running
            migrations[0] += relay(out, logs, read);
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ex)
            {
                // shutting down: the hook runs
            }
        }
        final List<String> dirs = new ArrayList<>();
        for (int n = 0; n < nodes; n++)
        {
            dirs.add(runDir.resolve("node-" + n).toString());
        }
        out.printf(Locale.ROOT, "%nSummary: %d live migration%s between node processes; every node stopped. " +
            "Check the journals across the nodes: vmsched journal verify %s%n", migrations[0],
            migrations[0] == 1 ? "" : "s", String.join(" ", dirs));
        out.flush();
    }

    /** Print the nodes' new live-migration and error lines; @return the live migrations among them. */
    private static int relay(final PrintWriter out, final List<Path> logs, final long[] read)
    {
        int migrations = 0;
        for (int n = 0; n < logs.size(); n++)
        {
            final byte[] all;
            try
            {
                all = Files.readAllBytes(logs.get(n)); // small: a node logs a line per event
            }
            catch (final IOException ex)
            {
                continue; // not there yet
            }
            final int end = lastNewline(all) + 1;
            if (end <= read[n])
            {
                continue;
            }
            final String text = new String(all, (int)read[n], end - (int)read[n], StandardCharsets.UTF_8);
            read[n] = end;
            for (final String line : text.split("\n"))
            {
                if (line.contains(" live-migrated to ") || line.contains("error") || line.contains("aborted"))
                {
                    out.println("       " + line.replaceFirst("^vmsched node ", ""));
                    migrations += line.contains(" live-migrated to ") ? 1 : 0;
                }
            }
        }
        out.flush();
        return migrations;
    }

    private static int lastNewline(final byte[] bytes)
    {
        for (int i = bytes.length - 1; i >= 0; i--)
        {
            if (bytes[i] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    private ClusterListener listener()
    {
        return new ClusterListener()
        {
            @Override
            public void onLiveMigration(final long vmId, final int source, final int target, final MigrationStatus status)
            {
                live.put(vmId, status);
            }

            @Override
            public void onMigrated(final long vmId, final int source, final int target, final long durationNs)
            {
                final MigrationStatus status = live.remove(vmId);
                if (status == null)
                {
                    events.add(String.format(Locale.ROOT, "       vm%d host %d -> host %d in %.0f ms", vmId, source, target,
                        durationNs / 1e6));
                    return;
                }
                final long prepareNs = times.last("vm" + vmId).prepareNs();
                final double overhead = durationNs / 1e6 - status.totalTimeMs();
                committed.add(new double[] { status.totalTimeMs(), status.downtimeMs(), overhead, prepareNs / 1e6 });
                events.add(String.format(Locale.ROOT, "       vm%d host %d -> host %d: QEMU total %d ms, downtime %d ms, " +
                    "%.1f MiB sent; vmsched overhead %.0f ms (intent to commit %.0f ms; the target's copy started in %s)",
                    vmId, source, target, status.totalTimeMs(), status.downtimeMs(),
                    Math.max(0, status.transferredBytes()) / 1048576.0, overhead, durationNs / 1e6,
                    prepareNs < 0 ? "?" : String.format(Locale.ROOT, "%.0f ms", prepareNs / 1e6)));
            }

            @Override
            public void onAborted(final long vmId, final int source, final int target, final AbortReason code,
                final String reason)
            {
                live.remove(vmId);
                events.add("       vm" + vmId + " host " + source + " -> host " + target + " aborted: " + reason);
            }

            @Override
            public void onRequestFailed(final int host, final io.vmsched.cluster.Request request, final long vmId,
                final String reason)
            {
                if (request != io.vmsched.cluster.Request.PROGRAM_LOAD) // the swing's, while the VM moved: the next goes on
                {
                    events.add("       error: host " + host + ": " + request + " of vm" + vmId + " failed: " + reason);
                }
            }

            @Override
            public void onError(final int host, final Throwable error)
            {
                events.add("       error: host " + host + ": " + error.getMessage());
            }
        };
    }

    /** Each VM's programmed load on its wave now: base × (1 + 0.5 sin(2π t / period + phase)). */
    private static void swing(final Cluster cluster, final double[] base, final double[] period, final double[] phase,
        final double seconds)
    {
        for (int i = 1; i < base.length; i++)
        {
            try
            {
                cluster.programLoad(i, base[i] * (1 + 0.5 * Math.sin(2 * Math.PI * seconds / period[i] + phase[i])), 0, 0);
            }
            catch (final RuntimeException ex)
            {
                // the VM is between hosts, or the cluster is closing: the next tick goes on
            }
        }
    }

    private void printEvents(final PrintWriter out)
    {
        String event;
        boolean any = false;
        while ((event = events.poll()) != null)
        {
            out.println(event);
            any = true;
        }
        double[] figure;
        while ((figure = committed.poll()) != null)
        {
            figures.add(figure);
        }
        if (any)
        {
            out.flush();
        }
    }

    private void summary(final PrintWriter out, final Cluster cluster, final double firstCv)
    {
        final Map<Long, Integer> placement = cluster.placement();
        final int[] perHost = new int[hosts];
        placement.values().forEach(h -> perHost[h]++);
        out.printf(Locale.ROOT, "%nSummary: %d live migrations committed, %d aborted; VMs per host %s; CV of host loads " +
            "first second %.2f, final %.2f%n", cluster.migrationsCommitted(), cluster.migrationsAborted(),
            Arrays.toString(perHost), firstCv, cluster.cv());
        if (figures.isEmpty())
        {
            out.println("No live migration committed.");
        }
        else
        {
            out.printf(Locale.ROOT, "Per live migration, ms (p50 / max of %d): QEMU total %s, downtime %s; vmsched " +
                "overhead (intent to commit less QEMU's total) %s, of which the target's incoming copy starting %s%n",
                figures.size(), p50Max(0), p50Max(1), p50Max(2), p50Max(3));
        }
        out.flush();
    }

    /** @return "p50 / max" of one column of the figures. */
    private String p50Max(final int column)
    {
        final double[] values = figures.stream().mapToDouble(f -> f[column]).sorted().toArray();
        return String.format(Locale.ROOT, "%.0f / %.0f", values[(values.length - 1) / 2], values[values.length - 1]);
    }
}

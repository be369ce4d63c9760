package io.vmsched.bench;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.journal.JournalCorruptException;
import io.vmsched.tools.History;
import io.vmsched.tools.JournalSet;
import org.HdrHistogram.Histogram;
import org.agrona.CloseHelper;
import org.agrona.concurrent.SystemEpochNanoClock;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The handoff of an empty guest between two node processes, from intent to commit, against its
 * baselines, all in one run (issue "vmsched across machines", Measure). A 1-member registry and two
 * {@link NodeHandoffLatencyProcess} nodes run on 127.0.0.1, each its own JVM (the same {@code Node} as
 * {@code vmsched node --registry}, balancing off); the harness moves one {@link io.vmsched.guest.IdleGuest}
 * back and forth between them, one handoff at a time, a pause between two. Each handoff is timed at its
 * source, from the {@code migrate} call to COMMITTED and from MIGRATION_INTENT to COMMITTED (the runtime's
 * own {@code onMigrated} duration). Phases:
 * <ol>
 *   <li><b>idle</b>: {@code cores - 1} workers a node (at least 1), nothing else running on them. Before it,
 *       in the same run: an Aeron ping-pong round trip ({@link RegistryCasLatency#pingPong}: two clients on
 *       their own media drivers set up as the nodes' and the registry's are, UDP loopback) and the owner
 *       compare-and-set round trip from a client of the very registry the nodes use
 *       ({@link RegistryCasLatency#casRoundTrips}), and the nodes' CPU while they idle;</li>
 *   <li><b>busy, workers = cores - 1</b>: the same nodes, each with {@code 2 × workers} guests that burn all
 *       the CPU they are given;</li>
 *   <li><b>busy, workers = cores</b>: two new nodes with {@code cores} workers each, busy the same way.</li>
 * </ol>
 * After the run it reads both nodes' journals ({@link History}) and splits each phase's handoffs into their
 * journaled steps (stop and snapshot, transfer, the registry's MOVE, the ack), which shows where the time goes.
 * Prints a table of p50/p90/p99/p99.9/max in µs, the load average at each phase's start and end, and the
 * issue's targets: idle p50 ≤ 3 × the round trip's p50 + the CAS's p50, and busy p99 ≤ 1 ms with
 * workers = cores - 1.
 * <p>
 * {@code java @scheduler-core/target/classes/META-INF/vmsched/jvm.options -cp benchmarks/target/benchmarks.jar
 * io.vmsched.bench.NodeHandoffLatency [--handoffs 3000] [--warmup 300] [--pause-ms 5] [--phase-s 40]
 * [--phases idle,busy-1,busy] [--round-trips 10000] [--cas 5000] [--dir DIR] [--jvm "-Dx=y ..."]
 * [--pin-workers true] [--nice-workers N] [--idle-workers true]}: each phase ends after
 * {@code --handoffs} measured handoffs or {@code --phase-s} seconds, whichever comes first (the defaults take
 * about 2.5 minutes). Every process it starts is stopped at the end, on a failure, and if the harness is
 * interrupted. Bad arguments: one line on stderr, exit code 2; a node or the registry that failed: exit code 1.
 */
public final class NodeHandoffLatency
{
    private static final long LINE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(60);
    private static final long HANDOFF_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);
    private static final long CAS_VM = 1L << 40; // far from the handoff's VM and the burners' ids
    private static final SystemEpochNanoClock EPOCH = new SystemEpochNanoClock();

    private NodeHandoffLatency()
    {
    }

    /** The run's settings, from the command line. */
    static final class Options
    {
        int handoffs = 3_000;
        int warmup = 300;
        long pauseMs = 5;
        int phaseS = 40;
        final List<String> phases = new ArrayList<>(List.of("idle", "busy-1", "busy"));
        int roundTrips = 10_000;
        int cas = 5_000;
        /** More JVM options for every process started (the registry and the nodes), e.g. system properties. */
        final List<String> jvm = new ArrayList<>();
        /** Linux: in the busy phase with cores - 1 workers, pin every node's workers to the last cores - 1 CPUs. */
        boolean pinWorkers;
        int niceWorkers;
        boolean idleWorkers;
        Path dir;
    }

    /**
     * @param args the options.
     */
    public static void main(final String[] args)
    {
        final Options options;
        try
        {
            options = parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("NodeHandoffLatency: " + ex.getMessage());
            System.exit(2);
            return;
        }
        try
        {
            final Path dir = options.dir != null ? Files.createDirectories(options.dir) :
                Files.createTempDirectory("vmsched-handoff-latency-");
            final Report report = run(options, dir);
            report.print(options);
            System.exit(0);
        }
        catch (final IllegalStateException | IllegalArgumentException | IOException ex)
        {
            System.err.println("NodeHandoffLatency: " + ex.getMessage());
            System.exit(1);
        }
    }

    static Options parse(final String[] args)
    {
        final Options options = new Options();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException("option " + arg + " needs a value");
            }
            final String value = args[++i];
            switch (arg)
            {
                case "--handoffs":
                    options.handoffs = positive(arg, value);
                    break;
                case "--warmup":
                    options.warmup = Math.max(0, Integer.parseInt(value));
                    break;
                case "--pause-ms":
                    options.pauseMs = Long.parseLong(value);
                    if (options.pauseMs < 0 || options.pauseMs > 10_000)
                    {
                        throw new IllegalArgumentException("--pause-ms " + value + ": expected 0 to 10000");
                    }
                    break;
                case "--phase-s":
                    options.phaseS = positive(arg, value);
                    break;
                case "--phases":
                    options.phases.clear();
                    for (final String p : value.split(","))
                    {
                        if (!List.of("idle", "busy-1", "busy").contains(p))
                        {
                            throw new IllegalArgumentException("--phases " + value + ": expected some of idle,busy-1,busy");
                        }
                        options.phases.add(p);
                    }
                    break;
                case "--round-trips":
                    options.roundTrips = positive(arg, value);
                    break;
                case "--cas":
                    options.cas = positive(arg, value);
                    break;
                case "--dir":
                    options.dir = Path.of(value);
                    break;
                case "--pin-workers":
                    options.pinWorkers = Boolean.parseBoolean(value);
                    break;
                case "--idle-workers":
                    options.idleWorkers = Boolean.parseBoolean(value);
                    break;
                case "--nice-workers":
                    options.niceWorkers = positive(arg, value); // renice takes 1-19 without privileges
                    break;
                case "--jvm":
                    options.jvm.addAll(List.of(value.trim().split("\\s+")));
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + arg + " (expected --handoffs, --warmup, --pause-ms, " +
                        "--phase-s, --phases, --round-trips, --cas, --dir, --jvm, --pin-workers, --nice-workers, --idle-workers)");
            }
        }
        return options;
    }

    private static int positive(final String option, final String value)
    {
        try
        {
            final int n = Integer.parseInt(value.trim());
            if (n > 0)
            {
                return n;
            }
        }
        catch (final NumberFormatException ex)
        {
            // fall through to the one-line error
        }
        throw new IllegalArgumentException(option + " " + value + ": expected a positive integer");
    }

    /** The whole run: the registry, then the phases' nodes, then the journals. */
    static Report run(final Options options, final Path dir) throws IOException
    {
        final int cores = Runtime.getRuntime().availableProcessors();
        final Report report = new Report(cores);
        final Path secret = dir.resolve("cluster.secret");
        ClusterSecret.generate(secret);
        final int base = NodeProcesses.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER + 4);
        final String registry = "0=" + NodeProcesses.LOOPBACK + ":" + base;
        System.out.printf(Locale.ROOT, "NodeHandoffLatency: a 1-member registry and 2 node processes on %s, %d cores, " +
            "%d handoffs a phase after %d warm-up (at most %d s), %d ms apart; runs in %s%n", NodeProcesses.LOOPBACK, cores,
            options.handoffs, options.warmup, options.phaseS, options.pauseMs, dir);
        Process member = null;
        try
        {
            // a 30 s session timeout rides out a node starved by its busy guests (the default is 5 s)
            member = NodeProcesses.startLogged(NodeProcesses.builder(0, jvm(options, "-Xmx256m"), BalanceTrafficProcess.class,
                List.of("registry", "--members", registry, "--secret", secret.toString(), "--data",
                dir.resolve("registry").toString(), "--session-timeout-ms", "30000")), dir.resolve("registry.log"));
            final boolean first = options.phases.contains("idle") || options.phases.contains("busy-1");
            if (first)
            {
                final int workers = Math.max(1, cores - 1);
                try (Pair pair = Pair.start(dir, "1", registry, secret, base + RegistryMember.PORTS_PER_MEMBER, workers, member,
                    jvm(options, "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch")))
                {
                    if (options.phases.contains("idle"))
                    {
                        baselines(options, report, registry, secret, pair, member);
                        report.phases.add(measure(options, "idle, " + workers + (workers == 1 ? " worker" : " workers"),
                            pair, workers));
                    }
                    if (options.phases.contains("busy-1") && cores > 1)
                    {
                        pair.burn(2 * workers);
                        String label = "busy, workers = cores - 1 = " + workers;
                        if (options.pinWorkers)
                        {
                            final String cpus = "1-" + (cores - 1);
                            pair.a.pinWorkers(cpus);
                            pair.b.pinWorkers(cpus);
                            label += ", pinned to CPUs " + cpus;
                        }
                        label += pair.placeWorkers(options);
                        report.phases.add(measure(options, label, pair, workers));
                    }
                    pair.quit();
                }
                catch (final RuntimeException ex)
                {
                    throw new IllegalStateException(ex.getMessage() + "; the logs are in " + dir, ex);
                }
            }
            if (options.phases.contains("busy"))
            {
                try (Pair pair = Pair.start(dir, "2", registry, secret, base + RegistryMember.PORTS_PER_MEMBER + 2, cores, member,
                    jvm(options, "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch")))
                {
                    pair.burn(2 * cores);
                    final String label = "busy, workers = cores = " + cores + pair.placeWorkers(options);
                    report.phases.add(measure(options, label, pair, cores));
                    pair.quit();
                }
                catch (final RuntimeException ex)
                {
                    throw new IllegalStateException(ex.getMessage() + "; the logs are in " + dir, ex);
                }
            }
        }
        finally
        {
            if (member != null)
            {
                NodeProcesses.stop(List.of(member));
            }
        }
        for (final Phase phase : report.phases)
        {
            phase.steps(dir);
        }
        return report;
    }

    /**
     * A child's JVM options: as a deployment would run it (C2, G1), for a node its heap fixed and touched up front
     * (no page faults mid-run), then {@code --jvm}'s.
     */
    private static List<String> jvm(final Options options, final String... own)
    {
        final List<String> all = new ArrayList<>(List.of(own));
        all.addAll(options.jvm);
        return all;
    }

    /** The round trip and the CAS, while the first pair of nodes is up and idle; and the nodes' CPU at rest. */
    private static void baselines(final Options options, final Report report, final String registry, final Path secret,
        final Pair pair, final Process member) throws IOException
    {
        final long[] cpuBefore = pair.cpuNs();
        final long registryBefore = cpuNs(member);
        final long quietStart = System.nanoTime();
        NodeProcesses.sleepS(3);
        final long[] cpuAfter = pair.cpuNs();
        final long quietNs = System.nanoTime() - quietStart;
        report.idleCores = ((cpuAfter[0] - cpuBefore[0]) + (cpuAfter[1] - cpuBefore[1])) / 2.0 / quietNs;
        report.registryIdleCores = (cpuNs(member) - registryBefore) / (double)quietNs;
        report.baselineLoad = NodeProcesses.loadAverage();
        report.roundTrip = RegistryCasLatency.pingPong(Math.max(1, options.roundTrips / 5), options.roundTrips);
        RegistryClient client = null;
        try
        {
            client = RegistryClient.connect(new RegistryClient.Context()
                .secret(ClusterSecret.read(secret))
                .members(RegistryMember.ingressEndpoints(registry))
                .connectTimeout(60, TimeUnit.SECONDS)
                .callTimeout(30, TimeUnit.SECONDS)
                .log(line -> System.err.println("NodeHandoffLatency: registry client: " + line)));
            report.cas = RegistryCasLatency.casRoundTrips(client, "cas-bench", CAS_VM, Math.max(1, options.cas / 5), options.cas);
            report.spacedCas = RegistryCasLatency.casRoundTrips(client, "cas-bench", CAS_VM + 1, 50, Math.max(1, options.cas / 5),
                options.pauseMs);
        }
        finally
        {
            CloseHelper.quietClose(client);
        }
        report.baselineLoadAfter = NodeProcesses.loadAverage();
    }

    /** One phase's handoffs, back and forth, one at a time. */
    private static Phase measure(final Options options, final String label, final Pair pair, final int workers)
    {
        final Phase phase = new Phase(label, workers, pair.dataDirs());
        final Node[] at = {pair.a, pair.b};
        int holder = pair.holder;
        phase.loadBefore = NodeProcesses.loadAverage();
        final long[] cpuBefore = pair.cpuNs();
        final long startNs = System.nanoTime();
        final long deadline = startNs + TimeUnit.SECONDS.toNanos(options.phaseS);
        int done = 0;
        while (done < options.warmup + options.handoffs && System.nanoTime() - deadline < 0)
        {
            if (done == options.warmup && phase.windowStartEpochNs == 0)
            {
                phase.windowStartEpochNs = EPOCH.nanoTime();
                phase.windowStartNs = System.nanoTime();
            }
            NodeProcesses.sleepS(options.pauseMs / 1e3);
            final Node source = at[holder];
            final Node target = at[1 - holder];
            source.send("migrate " + pair.vm + " " + target.hostId);
            final String answer = source.expect(HANDOFF_TIMEOUT_NS, "committed " + pair.vm + " ", "aborted " + pair.vm + " ");
            if (answer.startsWith("aborted"))
            {
                // the VM stays at the source; the next try starts there again
                final String reason = (done < options.warmup ? "in the warm-up: " : "") +
                    answer.substring(("aborted " + pair.vm + " ").length());
                phase.abortReasons.merge(reason, 1, Integer::sum);
                phase.aborted += done < options.warmup ? 0 : 1;
                continue;
            }
            final String[] w = answer.split(" ");
            if (done >= options.warmup)
            {
                phase.call.recordValue(Long.parseLong(w[2]));
                phase.intent.recordValue(Long.parseLong(w[3]));
            }
            holder = 1 - holder;
            done++;
        }
        pair.holder = holder;
        phase.windowEndEpochNs = EPOCH.nanoTime();
        final long[] cpuAfter = pair.cpuNs();
        phase.seconds = (System.nanoTime() - startNs) / 1e9;
        phase.nodeCores = ((cpuAfter[0] - cpuBefore[0]) + (cpuAfter[1] - cpuBefore[1])) / 2.0 / (System.nanoTime() - startNs);
        phase.loadAfter = NodeProcesses.loadAverage();
        if (phase.windowStartEpochNs == 0)
        {
            throw new IllegalStateException(label + ": only " + done + " handoffs in " + options.phaseS + " s, not past the " +
                options.warmup + " warm-up ones (--phase-s, --warmup)");
        }
        System.out.printf(Locale.ROOT, "%s: %d handoffs measured in %.1f s, %d aborted; load average %s -> %s%n", label,
            phase.call.getTotalCount(), phase.seconds, phase.aborted, phase.loadBefore, phase.loadAfter);
        return phase;
    }

    /** A node process, driven by lines on its standard input; its answers read by a thread into a queue. */
    static final class Node
    {
        final String name;
        final Process process;
        final Path dataDir;
        final Path log;
        final PrintWriter in;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        int hostId = -1;

        Node(final String name, final Process process, final Path dataDir, final Path log)
        {
            this.name = name;
            this.process = process;
            this.dataDir = dataDir;
            this.log = log;
            this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            final Thread reader = new Thread(() ->
            {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
                {
                    String line;
                    while ((line = out.readLine()) != null)
                    {
                        lines.add(line);
                    }
                }
                catch (final IOException ex)
                {
                    // the process ended: the end-of-input mark follows
                }
                lines.add("\u0000eof");
            }, "node-" + name + "-reader");
            reader.setDaemon(true);
            reader.start();
        }

        void send(final String command)
        {
            in.println(command);
        }

        /** @return the next answer that starts with one of the prefixes (others are skipped; an error line fails). */
        String expect(final long timeoutNs, final String... prefixes)
        {
            final long deadline = System.nanoTime() + timeoutNs;
            while (true)
            {
                final String line;
                try
                {
                    line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted waiting for node " + name);
                }
                if (line == null)
                {
                    throw new IllegalStateException("node " + name + " did not answer '" + String.join("' or '", prefixes) +
                        "' in " + TimeUnit.NANOSECONDS.toSeconds(timeoutNs) + " s; see " + log);
                }
                if (line.startsWith("\u0000eof"))
                {
                    throw new IllegalStateException("node " + name + " exited" + (process.isAlive() ? "" : " (" +
                        waitExit() + ")") + "; see " + log);
                }
                if (line.startsWith("error ") || line.startsWith("failed "))
                {
                    throw new IllegalStateException("node " + name + ": " + line + "; see " + log);
                }
                for (final String prefix : prefixes)
                {
                    if (line.startsWith(prefix))
                    {
                        return line;
                    }
                }
            }
        }

        private int waitExit()
        {
            try
            {
                return process.waitFor();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        /**
         * Linux: pin this node's dispatcher workers (threads named {@code vmsched-dispatcher-*}) to the CPUs given,
         * with {@code taskset}; the node's other threads stay free to run anywhere.
         */
        void pinWorkers(final String cpus)
        {
            eachWorker("pin", "taskset", "-pc", cpus);
        }

        /** Run a command on each dispatcher worker thread of the node, its thread id appended. */
        void eachWorker(final String what, final String... command)
        {
            int done = 0;
            try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task")))
            {
                for (final Path task : tasks.toList())
                {
                    final String comm = Files.readString(task.resolve("comm")).trim();
                    if (comm.startsWith("vmsched-dispatc")) // comm is cut at 15 characters
                    {
                        final List<String> line = new ArrayList<>(List.of(command));
                        line.add(task.getFileName().toString());
                        final Process run = new ProcessBuilder(line)
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                        if (run.waitFor() != 0)
                        {
                            throw new IllegalStateException(String.join(" ", line) + " failed");
                        }
                        done++;
                    }
                }
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException("cannot " + what + " node " + name + "'s workers: " + ex.getMessage(), ex);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted: " + what + " node " + name + "'s workers", ex);
            }
            if (done == 0)
            {
                throw new IllegalStateException("node " + name + " has no dispatcher worker threads to " + what);
            }
        }

        long cpuNs()
        {
            return NodeHandoffLatency.cpuNs(process);
        }
    }

    private static long cpuNs(final Process process)
    {
        return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    /** Two nodes, A holding the VM at first; closing stops both (SIGTERM, then SIGKILL). */
    static final class Pair implements AutoCloseable
    {
        final Node a;
        final Node b;
        /** The empty guest moved back and forth: each pair its own (the registry remembers the last pair's). */
        final long vm;
        int holder; // 0: the VM is at a; 1: at b

        private Pair(final Node a, final Node b, final long vm)
        {
            this.a = a;
            this.b = b;
            this.vm = vm;
        }

        static Pair start(final Path dir, final String tag, final String registry, final Path secret, final int port,
            final int workers, final Process member, final List<String> jvm) throws IOException
        {
            final List<Node> started = new ArrayList<>();
            try
            {
                for (final String side : List.of("a", "b"))
                {
                    final String name = side + tag;
                    final Path data = dir.resolve("node-" + name);
                    final Path log = dir.resolve("node-" + name + ".log");
                    final Process p = NodeProcesses.start(NodeProcesses.builder(0, jvm, NodeHandoffLatencyProcess.class,
                        List.of("node", "--registry", registry, "--name", name, "--bind", NodeProcesses.LOOPBACK + ":" +
                        (port + started.size()), "--secret", secret.toString(), "--data", data.toString(), "--workers",
                        Integer.toString(workers))).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())));
                    started.add(new Node(name, p, data, log));
                }
                for (final Node node : started)
                {
                    if (!member.isAlive())
                    {
                        throw new IllegalStateException("the registry exited (" + member.exitValue() + ")");
                    }
                    final String up = node.expect(LINE_TIMEOUT_NS, "up ");
                    node.hostId = Integer.parseInt(up.split(" ")[1]);
                }
                final Pair pair = new Pair(started.get(0), started.get(1), Long.parseLong(tag));
                pair.a.send("peer " + pair.b.hostId);
                pair.b.send("peer " + pair.a.hostId);
                pair.a.expect(LINE_TIMEOUT_NS, "known ");
                pair.b.expect(LINE_TIMEOUT_NS, "known ");
                pair.a.send("admit " + pair.vm);
                pair.a.expect(LINE_TIMEOUT_NS, "admitted " + pair.vm);
                return pair;
            }
            catch (final RuntimeException ex)
            {
                NodeProcesses.stop(started.stream().map(n -> n.process).toList());
                throw ex;
            }
        }

        /** Both nodes start {@code n} guests that burn all the CPU they get; then 2 s to settle. */
        void burn(final int n)
        {
            a.send("burn " + n);
            b.send("burn " + n);
            a.expect(LINE_TIMEOUT_NS, "burning ");
            b.expect(LINE_TIMEOUT_NS, "burning ");
            NodeProcesses.sleepS(2);
        }

        /**
         * Both nodes' workers as the options ask: reniced ({@code --nice-workers}), then under SCHED_IDLE
         * ({@code --idle-workers}: any other thread that wakes takes their core).
         *
         * @return what the phase's label says of it ("" if nothing).
         */
        String placeWorkers(final Options options)
        {
            String label = "";
            for (final Node node : List.of(a, b))
            {
                if (options.niceWorkers != 0)
                {
                    node.eachWorker("renice", "renice", "-n", Integer.toString(options.niceWorkers), "-p");
                }
                if (options.idleWorkers)
                {
                    node.eachWorker("chrt", "chrt", "-i", "-p", "0");
                }
            }
            if (options.niceWorkers != 0)
            {
                label += ", nice " + options.niceWorkers;
            }
            return options.idleWorkers ? label + ", SCHED_IDLE" : label;
        }

        long[] cpuNs()
        {
            return new long[] {a.cpuNs(), b.cpuNs()};
        }

        List<Path> dataDirs()
        {
            return List.of(a.dataDir, b.dataDir);
        }

        /** Ask both to close (each settles and closes its journal); {@link #close} waits for them. */
        void quit()
        {
            a.send("quit");
            b.send("quit");
        }

        @Override
        public void close()
        {
            a.in.close();
            b.in.close(); // the end of their input: they close and exit
            NodeProcesses.stop(List.of(a.process, b.process));
        }
    }

    /** One phase's figures. */
    static final class Phase
    {
        final String label;
        final int workers;
        final List<Path> dataDirs;
        final Histogram call = new Histogram(3);
        final Histogram intent = new Histogram(3);
        final Map<String, Integer> abortReasons = new LinkedHashMap<>();
        final Map<String, Histogram> steps = new LinkedHashMap<>();
        long windowStartEpochNs;
        long windowStartNs;
        long windowEndEpochNs;
        int aborted;
        double seconds;
        double nodeCores;
        String loadBefore;
        String loadAfter;
        String journals = "";

        Phase(final String label, final int workers, final List<Path> dataDirs)
        {
            this.label = label;
            this.workers = workers;
            this.dataDirs = dataDirs;
        }

        /** The phase's committed handoffs from both journals, split into their steps (µs). */
        void steps(final Path dir)
        {
            final History history = new History();
            try (JournalSet set = JournalSet.open(dataDirs))
            {
                set.forEach(history);
            }
            catch (final IllegalArgumentException | JournalCorruptException ex)
            {
                journals = "journals not read: " + ex.getMessage();
                return;
            }
            history.finish();
            journals = history.summary();
            for (final String step : History.STEPS)
            {
                steps.put(step, new Histogram(3));
            }
            for (final History.Migration m : history.migrations())
            {
                if (m.intentNs < windowStartEpochNs || m.intentNs > windowEndEpochNs || m.committedNs == 0 || m.activatedNs == 0)
                {
                    continue;
                }
                record(History.STEPS[0], m.intentNs, m.suspendedNs);
                record(History.STEPS[1], m.suspendedNs, m.receivedNs);
                record(History.STEPS[2], m.receivedNs, m.activatedNs);
                record(History.STEPS[3], m.activatedNs, m.committedNs);
                record(History.STEPS[4], m.intentNs, m.committedNs);
            }
        }

        private void record(final String step, final long from, final long to)
        {
            if (from != 0 && to != 0)
            {
                steps.get(step).recordValue(Math.max(0, to - from));
            }
        }
    }

    /** The run's figures and their printing. */
    static final class Report
    {
        final int cores;
        final List<Phase> phases = new ArrayList<>();
        Histogram roundTrip;
        Histogram cas;
        /** The same CAS {@code --pause-ms} apart, as the handoffs are: the registry backs off between them. */
        Histogram spacedCas;
        double idleCores = Double.NaN;
        double registryIdleCores = Double.NaN;
        String baselineLoad = "?";
        String baselineLoadAfter = "?";

        Report(final int cores)
        {
            this.cores = cores;
        }

        void print(final Options options)
        {
            System.out.println();
            System.out.printf(Locale.ROOT, "Handoff of an empty guest between two node processes, UDP loopback, 1-member " +
                "registry, %d cores; µs (HdrHistogram)%n%n", cores);
            System.out.println("| what | n | p50 | p90 | p99 | p99.9 | max | load average (start -> end) |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|---|");
            if (roundTrip != null)
            {
                row("Aeron ping-pong round trip, 48 B", roundTrip, baselineLoad + " -> " + baselineLoadAfter);
                row("registry owner CAS, 1 member", cas, baselineLoad + " -> " + baselineLoadAfter);
                row("registry owner CAS, " + options.pauseMs + " ms apart (as the handoffs)", spacedCas, "");
            }
            for (final Phase p : phases)
            {
                row("handoff, " + p.label + ": intent -> commit", p.intent, p.loadBefore + " -> " + p.loadAfter);
                row("handoff, " + p.label + ": migrate call -> commit", p.call, "");
            }
            System.out.println();
            System.out.println("Where the time goes: each phase's handoffs by their journaled steps (the two nodes' clocks are " +
                "the same machine's), p50 / p99 µs:");
            System.out.println();
            System.out.println("| phase | " + String.join(" | ", History.STEPS) + " | node CPU, cores a node | aborted |");
            System.out.println("|---|" + "---:|".repeat(History.STEPS.length) + "---:|---:|");
            for (final Phase p : phases)
            {
                final StringBuilder line = new StringBuilder("| " + p.label + " | ");
                for (final String step : History.STEPS)
                {
                    final Histogram h = p.steps.get(step);
                    line.append(h == null || h.getTotalCount() == 0 ? "-" : String.format(Locale.ROOT, "%.0f / %.0f",
                        h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3)).append(" | ");
                }
                line.append(String.format(Locale.ROOT, "%.2f | %d |", p.nodeCores, p.aborted));
                System.out.println(line);
            }
            System.out.println();
            for (final Phase p : phases)
            {
                System.out.println(p.label + ": " + p.journals + (p.abortReasons.isEmpty() ? "" : "; aborts: " + p.abortReasons));
            }
            if (!Double.isNaN(idleCores))
            {
                System.out.printf(Locale.ROOT, "An idle node's CPU (3 s, no handoff): %.3f cores; the registry's: %.3f%n",
                    idleCores, registryIdleCores);
            }
            System.out.println();
            targets();
        }

        private void targets()
        {
            for (final Phase p : phases)
            {
                if (p.label.startsWith("idle") && roundTrip != null)
                {
                    final double rtt = roundTrip.getValueAtPercentile(50) / 1e3;
                    final double casP50 = cas.getValueAtPercentile(50) / 1e3;
                    final double bound = 3 * rtt + casP50;
                    final double intent = p.intent.getValueAtPercentile(50) / 1e3;
                    final double call = p.call.getValueAtPercentile(50) / 1e3;
                    System.out.printf(Locale.ROOT, "Target, idle p50 <= 3 x round trip p50 (%.0f) + CAS p50 (%.0f) = %.0f µs: " +
                        "intent -> commit %.0f µs (%s), migrate call -> commit %.0f µs (%s)%n", rtt, casP50, bound, intent,
                        verdict(intent <= bound), call, verdict(call <= bound));
                }
                else if (p.label.startsWith("busy"))
                {
                    final double intent = p.intent.getValueAtPercentile(99) / 1e3;
                    final double call = p.call.getValueAtPercentile(99) / 1e3;
                    final boolean bound = p.workers <= cores - 1;
                    System.out.printf(Locale.ROOT, "%s p99 <= 1,000 µs, %s: intent -> commit %.0f µs (%s), migrate call -> " +
                        "commit %.0f µs (%s)%n", bound ? "Target," : "Reported (no target),", p.label, intent,
                        verdict(intent <= 1000), call, verdict(call <= 1000));
                }
            }
        }

        private static String verdict(final boolean met)
        {
            return met ? "met" : "MISSED";
        }

        private static void row(final String what, final Histogram h, final String load)
        {
            final double[] us = LatencyTable.micros(h, 50, 90, 99, 99.9);
            System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s |%n", what, h.getTotalCount(),
                us[0], us[1], us[2], us[3], us[4], load);
        }
    }
}

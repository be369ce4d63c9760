package io.vmsched.bench;

import io.aeron.Aeron;
import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.FrameDescriptor;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.aeron.registry.RegistryMessages;
import io.vmsched.handoff.HostMessages;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Balancing traffic per host and balance period, measured on the nodes themselves: a 1-member registry
 * and N node processes on 127.0.0.1, each node with a few guests of programmed load swinging on a wave,
 * so balancing goes on. The processes are {@link BalanceTrafficProcess} (the same {@code Node} as
 * {@code vmsched node --registry --guests --guest-load --guest-swing}, with a longer wait for the
 * registry at its start), or with {@code --jar} {@code vmsched registry} and {@code vmsched node} themselves.
 * Every node writes its traffic counters ({@code traffic.txt} in its data directory, once a directory
 * period): the frames its transport sent and received by message type with their payload bytes, its
 * media drivers' system counters (the bytes on the wire, Aeron's own frames included), and its registry
 * commands and the registry's replies by type with their bytes. Once every node is up and a settling
 * time has passed, the harness reads every node's counters and the registry's (its Raft log's commit
 * position, its driver's bytes) twice, a measuring window apart, and prints the differences per host per
 * balance period as Markdown tables.
 * <p>
 * {@code java @scheduler-core/target/classes/META-INF/vmsched/jvm.options -cp benchmarks/target/benchmarks.jar
 * io.vmsched.bench.BalanceTraffic [--nodes 4,32] [--guests 4] [--guest-load 0.05] [--guest-swing 0.5]
 * [--balance-period-ms 500] [--settle-s 20] [--measure-s 60] [--heap 64m] [--timer-slack-us 5000]
 * [--jar scheduler-cli/target/vmsched.jar] [--dir DIR]}. Bad arguments: one line on stderr, exit code 2; a node that
 * did not come up or died: exit code 1.
 * <p>
 * An idle node keeps about ten threads that poll every millisecond (two media drivers, their clients, the host's
 * agent, the dispatcher, the registry thread): 0.2 cores a node on this kind of machine, so 32 nodes would need
 * 6 cores. The processes therefore run with a Linux timer slack of 5 ms (set by a shell that then execs the JVM,
 * whose threads inherit it): their sleeps may end up to 5 ms late, so they wake less often (0.06 cores an idle
 * node). The balance period, the handoff timeout (500 ms) and the directory period are far longer; the 4-node
 * figures with and without it agree. {@code --timer-slack-us 0} leaves the OS default (50 µs).
 */
public final class BalanceTraffic
{
    private static final String LOOPBACK = NodeProcesses.LOOPBACK;
    private static final long START_DEADLINE_NS = TimeUnit.SECONDS.toNanos(300);
    /** Node JVMs starting at once (a JVM's start is seconds of CPU: 32 at once starve each other's registry sessions). */
    private static final int STARTING = 2;
    private static final int FRAME_OVERHEAD = FrameDescriptor.HEADER_LENGTH + FrameDescriptor.MAC_LENGTH;
    /** Aeron Cluster's session message header before each ingress message and each log entry. */
    private static final int SESSION_HEADER = 32;
    /** Aeron's data frame header. */
    private static final int DATA_HEADER = 32;
    /** Aeron's status message (a receiver's flow control window to its sender), without options. */
    private static final int STATUS_MESSAGE = 36;

    private static final Map<Integer, String> DATA_TYPES = new LinkedHashMap<>();
    private static final Map<Integer, String> REGISTRY_COMMANDS = new LinkedHashMap<>();
    private static final Map<Integer, String> REGISTRY_REPLIES = new LinkedHashMap<>();

    static
    {
        DATA_TYPES.put(HostMessages.GOSSIP, "GOSSIP");
        DATA_TYPES.put(HostMessages.GOSSIP_REPLY, "GOSSIP_REPLY");
        DATA_TYPES.put(HostMessages.MEAN_SHARE, "MEAN_SHARE");
        DATA_TYPES.put(HostMessages.MEAN_REPLY, "MEAN_REPLY");
        DATA_TYPES.put(HostMessages.PULL, "PULL");
        DATA_TYPES.put(HostMessages.TRANSFER, "TRANSFER");
        DATA_TYPES.put(HostMessages.ACK, "ACK");
        DATA_TYPES.put(HostMessages.NACK, "NACK");
        DATA_TYPES.put(HostMessages.RESOLVE, "RESOLVE");
        REGISTRY_COMMANDS.put(RegistryMessages.REPORT, "REPORT");
        REGISTRY_COMMANDS.put(RegistryMessages.DIRECTORY, "DIRECTORY (pages)");
        REGISTRY_COMMANDS.put(RegistryMessages.MOVE, "MOVE");
        REGISTRY_COMMANDS.put(RegistryMessages.RECLAIM, "RECLAIM");
        REGISTRY_COMMANDS.put(RegistryMessages.ADMIT, "ADMIT");
        REGISTRY_COMMANDS.put(RegistryMessages.QUERY, "QUERY");
        REGISTRY_COMMANDS.put(RegistryMessages.RELEASE, "RELEASE");
        REGISTRY_COMMANDS.put(RegistryMessages.CAS, "CAS");
        REGISTRY_COMMANDS.put(RegistryMessages.REGISTER, "REGISTER");
        REGISTRY_REPLIES.put(RegistryMessages.REPORTED, "REPORTED");
        REGISTRY_REPLIES.put(RegistryMessages.DIRECTORY_PAGE, "DIRECTORY_PAGE");
        REGISTRY_REPLIES.put(RegistryMessages.OWNER, "OWNER");
        REGISTRY_REPLIES.put(RegistryMessages.REGISTERED, "REGISTERED");
        REGISTRY_REPLIES.put(RegistryMessages.NODE_DOWN, "NODE_DOWN");
    }

    private BalanceTraffic()
    {
    }

    /** The run's settings, from the command line. */
    static final class Options
    {
        final List<Integer> nodes = new ArrayList<>(List.of(4, 32));
        int guests = 4;
        double guestLoad = 0.05;
        double guestSwing = 0.5;
        long balancePeriodMs = 500;
        int settleS = 20;
        int measureS = 60;
        String heap = "64m";
        long timerSlackUs = 5_000;
        /** Null: the processes are {@link BalanceTrafficProcess} from this class path; else {@code vmsched} from this jar. */
        Path jar;
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
            if (options.jar != null && !Files.isRegularFile(options.jar))
            {
                throw new IllegalArgumentException("--jar " + options.jar + " is not a file: build it with " +
                    "'mvn -pl scheduler-cli -am package', or give its path");
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("BalanceTraffic: " + ex.getMessage());
            System.exit(2);
            return;
        }
        try
        {
            final Path base = options.dir != null ? options.dir : Files.createTempDirectory("vmsched-balance-traffic-");
            System.out.printf(Locale.ROOT, "BalanceTraffic: %s guests a node of %.3f cores swinging ±%.0f %%, balance period " +
                "%d ms, settle %d s, measure %d s, node heap %s, %d cores; runs in %s%n", options.guests, options.guestLoad,
                100 * options.guestSwing, options.balancePeriodMs, options.settleS, options.measureS, options.heap,
                Runtime.getRuntime().availableProcessors(), base);
            for (final int n : options.nodes)
            {
                final Result result = run(options, n, base.resolve("nodes-" + n));
                result.print(options);
            }
        }
        catch (final IllegalStateException | IOException ex)
        {
            System.err.println("BalanceTraffic: " + ex.getMessage());
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
                case "--nodes":
                    options.nodes.clear();
                    for (final String n : value.split(","))
                    {
                        final int nodes = positive(arg, n);
                        if (nodes < 2 || nodes > 64)
                        {
                            throw new IllegalArgumentException("--nodes " + value + ": each count must be in [2, 64]");
                        }
                        options.nodes.add(nodes);
                    }
                    break;
                case "--guests":
                    options.guests = positive(arg, value);
                    break;
                case "--guest-load":
                    options.guestLoad = fraction(arg, value, 0, 1024);
                    break;
                case "--guest-swing":
                    options.guestSwing = fraction(arg, value, 0, 0.99);
                    break;
                case "--balance-period-ms":
                    options.balancePeriodMs = positive(arg, value);
                    break;
                case "--settle-s":
                    options.settleS = positive(arg, value);
                    break;
                case "--measure-s":
                    options.measureS = positive(arg, value);
                    break;
                case "--heap":
                    if (!value.matches("[0-9]+[mMgG]"))
                    {
                        throw new IllegalArgumentException("--heap " + value + ": expected a size such as 64m");
                    }
                    options.heap = value;
                    break;
                case "--timer-slack-us":
                    options.timerSlackUs = Long.parseLong(value);
                    if (options.timerSlackUs < 0 || options.timerSlackUs > 1_000_000)
                    {
                        throw new IllegalArgumentException("--timer-slack-us " + value + ": expected 0 (the OS default) to 1000000");
                    }
                    break;
                case "--jar":
                    options.jar = Path.of(value);
                    break;
                case "--dir":
                    options.dir = Path.of(value);
                    break;
                default:
                    throw new IllegalArgumentException("unknown option " + arg + " (expected --nodes, --guests, --guest-load, " +
                        "--guest-swing, --balance-period-ms, --settle-s, --measure-s, --heap, --timer-slack-us, --jar, --dir)");
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

    private static double fraction(final String option, final String value, final double min, final double max)
    {
        try
        {
            final double d = Double.parseDouble(value);
            if (d >= min && d <= max)
            {
                return d;
            }
        }
        catch (final NumberFormatException ex)
        {
            // fall through to the one-line error
        }
        throw new IllegalArgumentException(option + " " + value + ": expected a number in [" + min + ", " + max + "]");
    }

    /** One run: start, settle, read the counters twice, stop. */
    static Result run(final Options options, final int n, final Path dir) throws IOException
    {
        Files.createDirectories(dir);
        final Path secret = dir.resolve("cluster.secret");
        ClusterSecret.generate(secret);
        final int base = NodeProcesses.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER + n);
        final String registry = "0=" + LOOPBACK + ":" + base;
        final List<Process> nodes = new ArrayList<>();
        final List<Path> nodeDirs = new ArrayList<>();
        Process member = null;
        try
        {
            final String aeronDir = "/dev/shm/aeron-balance-traffic-" + UUID.randomUUID();
            // its media driver's directory starts with aeron.dir, so the harness finds it and reads its counters;
            // a session timeout of 30 s rides out a node starved of CPU for seconds (the default is 5 s)
            member = start(options.jar, options.timerSlackUs, dir.resolve("registry.log"), List.of("-Xmx128m", "-Daeron.dir=" + aeronDir),
                "registry", "--id", "0", "--members", registry, "--secret", secret.toString(),
                "--data", dir.resolve("registry").toString(), "--session-timeout-ms", "30000");
            final long startNs = System.nanoTime();
            for (int i = 0; i < n; i++)
            {
                final Path data = dir.resolve("node-" + i);
                nodeDirs.add(data);
                nodes.add(start(options.jar, options.timerSlackUs, dir.resolve("node-" + i + ".log"), smallJvm(options.heap), "node",
                    "--registry", registry, "--name", "node-" + i, "--bind", LOOPBACK + ":" + (base + RegistryMember.PORTS_PER_MEMBER + i),
                    "--secret", secret.toString(), "--data", data.toString(), "--guests", Integer.toString(options.guests),
                    "--guest-load", Double.toString(options.guestLoad), "--guest-swing", Double.toString(options.guestSwing),
                    "--balance-period-ms", Long.toString(options.balancePeriodMs), "--registry-wait-s", "120"));
                if (i >= STARTING)
                {
                    awaitUp(nodes.subList(0, i + 1 - STARTING), nodeDirs, dir, member); // a few JVMs start at once, not 32
                }
            }
            awaitUp(nodes, nodeDirs, dir, member);
            final double upS = (System.nanoTime() - startNs) / 1e9;
            System.out.printf(Locale.ROOT, "%d nodes up and their guests admitted after %.1f s; settling %d s%n", n, upS,
                options.settleS);
            NodeProcesses.sleepS(options.settleS);
            alive(nodes, member, dir);
            try (Aeron registryDriver = Aeron.connect(new Aeron.Context().aeronDirectoryName(registryAeronDir(aeronDir))))
            {
                final Map<String, Long> registryBefore = counters(registryDriver);
                final List<Map<String, Long>> before = read(nodeDirs);
                final long[] cpuBefore = cpuNs(nodes, member);
                final String loadBefore = NodeProcesses.loadAverage();
                NodeProcesses.sleepS(options.measureS);
                alive(nodes, member, dir);
                final List<Map<String, Long>> after = read(nodeDirs);
                final long[] cpuAfter = cpuNs(nodes, member);
                final Map<String, Long> registryAfter = counters(registryDriver);
                final String loadAfter = NodeProcesses.loadAverage();
                final StringBuilder dump = new StringBuilder();
                new TreeMap<>(registryAfter).forEach((label, value) -> dump.append(label).append(" = ")
                    .append(registryBefore.getOrDefault(label, 0L)).append(" -> ").append(value).append('\n'));
                Files.writeString(dir.resolve("registry-counters.txt"), dump, StandardCharsets.UTF_8);
                return new Result(n, before, after, cpuBefore, cpuAfter, registryBefore, registryAfter, loadBefore, loadAfter,
                    refusals(dir, n));
            }
        }
        finally
        {
            NodeProcesses.stop(nodes);
            if (member != null)
            {
                NodeProcesses.stop(List.of(member));
            }
        }
    }

    /** The node JVMs are small ones: 32 of them share 2 cores and the machine's memory with the others. */
    private static List<String> smallJvm(final String heap)
    {
        return List.of("-Xmx" + heap, "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
            "-XX:ReservedCodeCacheSize=32m", "-Dvmsched.node.traffic=true");
    }

    /** A registry or node process: {@link BalanceTrafficProcess}, or {@code vmsched} from the jar; its output to the log. */
    private static Process start(final Path jar, final long timerSlackUs, final Path log, final List<String> jvm,
        final String... args) throws IOException
    {
        if (jar == null)
        {
            return NodeProcesses.startLogged(NodeProcesses.builder(timerSlackUs, jvm, BalanceTrafficProcess.class,
                Arrays.asList(args)), log);
        }
        final List<String> command = NodeProcesses.javaCommand(timerSlackUs, jvm);
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(Arrays.asList(args));
        return NodeProcesses.startLogged(new ProcessBuilder(command), log);
    }

    /** Every node printed its start line (its guests admitted) and wrote its counters once. */
    private static void awaitUp(final List<Process> nodes, final List<Path> nodeDirs, final Path dir, final Process member)
        throws IOException
    {
        final long deadline = System.nanoTime() + START_DEADLINE_NS;
        while (true)
        {
            alive(nodes, member, dir);
            int up = 0;
            for (int i = 0; i < nodes.size(); i++)
            {
                final Path log = dir.resolve("node-" + i + ".log");
                if (Files.isRegularFile(nodeDirs.get(i).resolve("traffic.txt")) && Files.isRegularFile(log) &&
                    Files.readString(log, StandardCharsets.UTF_8).contains("listening on"))
                {
                    up++;
                }
            }
            if (up == nodes.size())
            {
                return;
            }
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException(up + " of " + nodes.size() + " nodes up after " +
                    TimeUnit.NANOSECONDS.toSeconds(START_DEADLINE_NS) + " s; see the logs in " + dir);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
        }
    }

    private static void alive(final List<Process> nodes, final Process member, final Path dir)
    {
        if (!member.isAlive())
        {
            throw new IllegalStateException("the registry exited (" + member.exitValue() + "); see " + dir.resolve("registry.log"));
        }
        for (int i = 0; i < nodes.size(); i++)
        {
            if (!nodes.get(i).isAlive())
            {
                throw new IllegalStateException("node-" + i + " exited (" + nodes.get(i).exitValue() + "); see " +
                    dir.resolve("node-" + i + ".log"));
            }
        }
    }

    private static List<Map<String, Long>> read(final List<Path> nodeDirs) throws IOException
    {
        final List<Map<String, Long>> all = new ArrayList<>();
        for (final Path d : nodeDirs)
        {
            final Map<String, Long> counters = new HashMap<>();
            for (final String line : Files.readAllLines(d.resolve("traffic.txt"), StandardCharsets.UTF_8))
            {
                final int space = line.lastIndexOf(' ');
                if (space > 0)
                {
                    counters.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
                }
            }
            all.add(counters);
        }
        return all;
    }

    /** CPU time of each node process, then the registry's, in ns (-1 where the OS does not say). */
    private static long[] cpuNs(final List<Process> nodes, final Process member)
    {
        final long[] ns = new long[nodes.size() + 1];
        for (int i = 0; i <= nodes.size(); i++)
        {
            final Process p = i < nodes.size() ? nodes.get(i) : member;
            ns[i] = p.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
        }
        return ns;
    }

    /** The registry member's media driver directory: its name starts with {@code aeron.dir} as the member was given it. */
    private static String registryAeronDir(final String prefix) throws IOException
    {
        final Path shm = Path.of(prefix).getParent();
        final String name = Path.of(prefix).getFileName().toString();
        try (Stream<Path> dirs = Files.list(shm))
        {
            return dirs.filter(d -> d.getFileName().toString().startsWith(name)).findFirst().map(Path::toString)
                .orElseThrow(() -> new IllegalStateException("the registry's media driver directory " + prefix + "-* is not there"));
        }
    }

    /**
     * The registry's counters: its media driver's system counters and the consensus module's, by label
     * (the commit position is the Raft log's length in bytes).
     */
    private static Map<String, Long> counters(final Aeron aeron)
    {
        final Map<String, Long> counters = new HashMap<>();
        final CountersReader reader = aeron.countersReader();
        reader.forEach((id, typeId, key, label) -> counters.merge(label, reader.getCounterValue(id), Long::sum));
        return counters;
    }

    /** Lines in the nodes' logs that say a frame was refused or a registry command was not answered. */
    private static int refusals(final Path dir, final int n) throws IOException
    {
        int lines = 0;
        for (int i = 0; i < n; i++)
        {
            for (final String line : Files.readAllLines(dir.resolve("node-" + i + ".log"), StandardCharsets.UTF_8))
            {
                lines += line.contains("refused a frame") || line.contains("not answered") ? 1 : 0;
            }
        }
        return lines;
    }

    /** One run's counters, before and after the window, and what is derived from them. */
    static final class Result
    {
        final int n;
        final List<Map<String, Long>> before;
        final List<Map<String, Long>> after;
        final long[] cpuBefore;
        final long[] cpuAfter;
        final Map<String, Long> registryBefore;
        final Map<String, Long> registryAfter;
        final String loadBefore;
        final String loadAfter;
        final int refusalLines;

        Result(final int n, final List<Map<String, Long>> before, final List<Map<String, Long>> after, final long[] cpuBefore,
            final long[] cpuAfter, final Map<String, Long> registryBefore, final Map<String, Long> registryAfter, final String loadBefore, final String loadAfter,
            final int refusalLines)
        {
            this.n = n;
            this.before = before;
            this.after = after;
            this.cpuBefore = cpuBefore;
            this.cpuAfter = cpuAfter;
            this.registryBefore = registryBefore;
            this.registryAfter = registryAfter;
            this.loadBefore = loadBefore;
            this.loadAfter = loadAfter;
            this.refusalLines = refusalLines;
        }

        /** @return node i's balance periods in the window, by its own clock's stamps. */
        double periods(final int i, final long periodMs)
        {
            return (after.get(i).get("time.ms") - before.get(i).get("time.ms")) / (double)periodMs;
        }

        long delta(final int i, final String key)
        {
            return after.get(i).getOrDefault(key, 0L) - before.get(i).getOrDefault(key, 0L);
        }

        /** @return per node, the key's growth per balance period. */
        double[] perPeriod(final String key, final long periodMs)
        {
            final double[] v = new double[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = delta(i, key) / periods(i, periodMs);
            }
            return v;
        }

        static double mean(final double[] v)
        {
            return Arrays.stream(v).average().orElse(0);
        }

        static double max(final double[] v)
        {
            return Arrays.stream(v).max().orElse(0);
        }

        void print(final Options options)
        {
            final long p = options.balancePeriodMs;
            double windowS = 0;
            for (int i = 0; i < n; i++)
            {
                windowS += periods(i, p) * p / 1e3 / n;
            }
            double nodeCpu = 0;
            for (int i = 0; i < n; i++)
            {
                nodeCpu += (cpuAfter[i] - cpuBefore[i]) / 1e9;
            }
            final double registryCpu = (cpuAfter[n] - cpuBefore[n]) / 1e9;
            System.out.printf(Locale.ROOT, "%n### %d nodes: per host per balance period of %d ms (mean over the hosts; " +
                "window %.1f s = %.0f periods)%n", n, p, windowS, windowS * 1e3 / p);
            System.out.printf(Locale.ROOT, "CPU in the window: nodes %.3f cores each on average, registry %.3f cores; " +
                "load average %s -> %s; log lines of refused frames or unanswered commands: %d%n%n",
                nodeCpu / windowS / n, registryCpu / windowS, loadBefore, loadAfter, refusalLines);

            System.out.println("Data plane (frames between nodes, payload bytes; each frame adds " + FRAME_OVERHEAD +
                " bytes of header and MAC):");
            System.out.println();
            System.out.println("| message | sent | max sent by a host | received | payload B sent | B a message |");
            System.out.println("|---|---:|---:|---:|---:|---:|");
            double frames = 0;
            double payload = 0;
            final Map<Integer, String> types = new LinkedHashMap<>(DATA_TYPES);
            types.put(0, "other (type >= 64)");
            for (int t = 1; t < 64; t++)
            {
                if (!types.containsKey(t) && sum("data.sent." + t + ".messages") + sum("data.received." + t + ".messages") > 0)
                {
                    types.put(t, "type " + t);
                }
            }
            for (final Map.Entry<Integer, String> type : types.entrySet())
            {
                final String k = "data.sent." + type.getKey();
                final double[] sent = perPeriod(k + ".messages", p);
                final double[] bytes = perPeriod(k + ".bytes", p);
                final double[] received = perPeriod("data.received." + type.getKey() + ".messages", p);
                if (mean(sent) == 0 && mean(received) == 0 && type.getKey() == 0)
                {
                    continue;
                }
                frames += mean(sent);
                payload += mean(bytes);
                System.out.printf(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %.1f | %s |%n", type.getValue(), mean(sent),
                    max(sent), mean(received), mean(bytes), mean(sent) > 0 ? String.format(Locale.ROOT, "%.0f",
                    mean(bytes) / mean(sent)) : "-");
            }
            final double wireSent = mean(perPeriod("data.driver.Bytes_sent", p));
            final double wireReceived = mean(perPeriod("data.driver.Bytes_received", p));
            System.out.printf(Locale.ROOT, "| **all frames** | %.3f | | | %.1f payload + %.1f header and MAC = %.1f | |%n",
                frames, payload, frames * FRAME_OVERHEAD, payload + frames * FRAME_OVERHEAD);
            System.out.println();
            final double statusMessages = mean(perPeriod("data.driver.Status_Messages_sent", p));
            System.out.printf(Locale.ROOT, "On the wire (the transport's media driver, its senders' bytes): %.1f B sent, " +
                "%.1f B received per host per period; Aeron's own share of it (data frame headers, padding, heartbeats, " +
                "setup) %.1f B; heartbeats sent %.2f; besides, status messages sent by its receivers %.2f (%.0f B at " +
                "%d B each), NAKs %.3f, retransmits %.3f%n", wireSent, wireReceived, wireSent - payload - frames * FRAME_OVERHEAD,
                mean(perPeriod("data.driver.Heartbeats_sent", p)), statusMessages, statusMessages * STATUS_MESSAGE,
                STATUS_MESSAGE, mean(perPeriod("data.driver.NAKs_sent", p)), mean(perPeriod("data.driver.Retransmits_sent", p)));
            System.out.println();

            System.out.println("Control plane (this node's session with the registry; each command is one Raft log entry):");
            System.out.println();
            System.out.println("| command | sent | bytes a command | log bytes an entry (est.) |");
            System.out.println("|---|---:|---:|---:|");
            double commands = 0;
            double commandBytes = 0;
            double logBytes = 0;
            for (final Map.Entry<Integer, String> type : REGISTRY_COMMANDS.entrySet())
            {
                final double[] sent = perPeriod("registry.sent." + type.getKey() + ".messages", p);
                final double[] bytes = perPeriod("registry.sent." + type.getKey() + ".bytes", p);
                if (mean(sent) == 0)
                {
                    continue;
                }
                final double each = mean(bytes) / mean(sent);
                final double entry = align32(DATA_HEADER + SESSION_HEADER + each);
                commands += mean(sent);
                commandBytes += mean(bytes);
                logBytes += mean(sent) * entry;
                System.out.printf(Locale.ROOT, "| %s | %.3f | %.0f | %.0f |%n", type.getValue(), mean(sent), each, entry);
            }
            System.out.printf(Locale.ROOT, "| keep-alives (not in the log) | %.3f | | |%n",
                mean(perPeriod("registry.keepalives", p)));
            System.out.printf(Locale.ROOT, "| **all commands** | %.3f | %.1f B | %.1f B |%n", commands, commandBytes, logBytes);
            System.out.println();
            System.out.println("| from the registry | received | bytes a message | B received |");
            System.out.println("|---|---:|---:|---:|");
            for (final Map.Entry<Integer, String> type : REGISTRY_REPLIES.entrySet())
            {
                final double[] got = perPeriod("registry.received." + type.getKey() + ".messages", p);
                final double[] bytes = perPeriod("registry.received." + type.getKey() + ".bytes", p);
                if (mean(got) == 0)
                {
                    continue;
                }
                System.out.printf(Locale.ROOT, "| %s | %.3f | %.0f | %.1f |%n", type.getValue(), mean(got),
                    mean(bytes) / mean(got), mean(bytes));
            }
            System.out.println();
            final double windowPeriods = windowS * 1e3 / p;
            System.out.printf(Locale.ROOT, "Registry session on the wire (the node's registry client's media driver): %.1f B " +
                "sent, %.1f B received per host per period. Cluster-wide: %.2f log entries per period (%.1f B est.); " +
                "measured at the registry: its Raft log grew %.1f B per period (commit position), its media driver sent " +
                "%.1f B and received %.1f B per period.%n",
                mean(perPeriod("registry.driver.Bytes_sent", p)), mean(perPeriod("registry.driver.Bytes_received", p)),
                commands * n, logBytes * n, registryDelta("commit-pos") / windowPeriods,
                registryDelta("Bytes sent") / windowPeriods, registryDelta("Bytes received") / windowPeriods);
            final double[] vms = new double[n];
            for (int i = 0; i < n; i++)
            {
                vms[i] = after.get(i).getOrDefault("vms", 0L);
            }
            System.out.printf(Locale.ROOT, "VMs per node at the end: mean %.1f, min %.0f, max %.0f%n", mean(vms),
                Arrays.stream(vms).min().orElse(0), max(vms));
        }

        /** @return the growth of the registry's counter whose label starts with (or, failing that, contains) the text. */
        private double registryDelta(final String label)
        {
            for (final boolean exact : new boolean[] {true, false})
            {
                for (final Map.Entry<String, Long> e : registryAfter.entrySet())
                {
                    if (exact ? e.getKey().equals(label) : e.getKey().contains(label))
                    {
                        return e.getValue() - registryBefore.getOrDefault(e.getKey(), 0L);
                    }
                }
            }
            return Double.NaN;
        }

        private long sum(final String key)
        {
            long s = 0;
            for (int i = 0; i < n; i++)
            {
                s += delta(i, key);
            }
            return s;
        }

        private static double align32(final double length)
        {
            return Math.ceil(length / 32) * 32;
        }
    }
}

package io.vmsched.cli;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.HostJournalState;
import io.vmsched.journal.JournalCheck;
import io.vmsched.journal.RecordType;
import io.vmsched.qemu.QemuProcesses;
import io.vmsched.qemu.QmpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Live migration of real QEMU VMs between node processes (issue 21): a {@code vmsched registry} member and two
 * {@code vmsched node --registry} processes on the loopback interface, tiny QEMU VMs adopted by node-0 with {@code
 * --qemu} and a programmed load ({@code --qemu-load}), moved by the balancer and by drains. Checked as an operator
 * would: the registry's owner of each VM is the node whose journal holds it, every journal verifies ({@code vmsched
 * journal verify} over both data directories), and exactly one QEMU process per VM is left, {@code running} (QMP
 * {@code query-status}, asked once the nodes let go of their connections: QEMU serves one QMP client at a time), on
 * the owner's side; the source's copies are gone. Then nodes are SIGKILLed while live migrations are in flight
 * (the migrations slowed by a bandwidth cap every copy inherits), restarted, and the same holds after recovery.
 * <p>
 * Skipped, with the reason, where {@code qemu-system-x86_64} is missing. Every process the test starts is stopped:
 * the nodes and the registry ({@link Children}), the QEMU VMs and every copy the nodes' drivers started under their
 * data directories ({@link QemuProcesses#killUnder}).
 */
@Timeout(1200)
class NodeQemuMigrationTest
{
    private static final String LOOPBACK = "127.0.0.1";
    private static final int VMS = 3;
    /**
     * A live migration of a tiny VM sends about 1 MB (its firmware's pages; the rest are zero pages): at 256 KiB/s it
     * lasts a few seconds, long enough to be cut. Slower risks never converging: the firmware, finding nothing to
     * boot, retries every 60 s and dirties its pages again.
     */
    private static final long SLOW_BANDWIDTH = 256 << 10;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run keeps its nodes' logs and journals to read
    Path dir;

    private final Children children = new Children(15_000);
    private final List<RegistryClient> clients = new ArrayList<>();
    private final List<Process> qemus = new ArrayList<>();
    private Path binary;
    private Path secret;

    /** A node process and how to start it again. */
    private final class NodeProcess
    {
        final String name;
        final String[] args;
        Process process;

        NodeProcess(final String name, final String registry, final List<String> extra)
        {
            this.name = name;
            final List<String> a = new ArrayList<>(List.of("node", "--registry", registry, "--name", name,
                "--bind", LOOPBACK + ":" + Children.freeUdpPorts(1), "--secret", secret.toString(),
                "--data", data().toString(), "--balance-period-ms", "200", "--qemu-load", "0.3"));
            a.addAll(extra);
            this.args = a.toArray(new String[0]);
        }

        Path data()
        {
            return dir.resolve(name);
        }

        Path journal(final int host)
        {
            return data().resolve("journal").resolve(Integer.toString(host));
        }

        void start()
        {
            process = children.start(dir.resolve(name + ".log"), args);
        }

        /** @return how many times it has said it started (its log's start lines). */
        long starts()
        {
            return log().stream().filter(l -> l.contains(": host ") && l.contains("listening on")).count();
        }

        List<String> log()
        {
            try
            {
                return Files.readAllLines(dir.resolve(name + ".log"), StandardCharsets.UTF_8);
            }
            catch (final IOException ex)
            {
                return List.of();
            }
        }
    }

    /** A QEMU process of a VM, found by the QMP socket on its command line. */
    private record Copy(String vm, long pid, Path socket)
    {
    }

    @BeforeEach
    void needQemu()
    {
        binary = QemuProcesses.binary();
        Assumptions.assumeTrue(binary != null, QemuProcesses.missing());
    }

    @AfterEach
    void stopAll()
    {
        clients.forEach(RegistryClient::close);
        children.close(); // the nodes first: none starts a copy any more
        for (final Process qemu : qemus)
        {
            qemu.destroyForcibly();
        }
        QemuProcesses.killUnder(dir); // the nodes' copies, in their data directories' qemu/, are no one's children
    }

    private String registry()
    {
        secret = dir.resolve("cluster.secret");
        ClusterSecret.generate(secret);
        final String registry = "0=" + LOOPBACK + ":" + Children.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        children.start(dir.resolve("registry-0.log"), "registry", "--id", "0", "--members", registry, "--secret",
            secret.toString(), "--data", dir.resolve("registry-0").toString(), "--session-timeout-ms", "2000");
        return registry;
    }

    private RegistryClient observer(final String registry) throws IOException
    {
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(RegistryMember.ingressEndpoints(registry)).secret(ClusterSecret.read(secret))
            .connectTimeout(60, TimeUnit.SECONDS).callTimeout(30, TimeUnit.SECONDS).log(line -> { }));
        clients.add(client);
        return client;
    }

    /**
     * Start the tiny VMs {@code vm0 … vm(VMS-1)}, each with its QMP socket in the test's directory, in a session of
     * its own (as {@link QemuProcesses#startTiny} does), with {@code extra} options that every copy inherits (they
     * are part of the spec).
     *
     * @return the {@code --qemu NAME=SOCKET} flags that adopt them.
     */
    private List<String> startVms(final List<String> extra) throws Exception
    {
        final List<String> flags = new ArrayList<>();
        for (int i = 0; i < VMS; i++)
        {
            final Path socket = dir.resolve("vm" + i + ".qmp");
            final List<String> command = new ArrayList<>();
            if (Files.isExecutable(Path.of("/usr/bin/setsid")))
            {
                command.add("/usr/bin/setsid"); // a session of its own: no signal of the test's terminal reaches it
            }
            command.addAll(List.of(binary.toString(), "-M", "q35", "-m", "64", "-nodefaults", "-nographic", "-display",
                "none", "-qmp", "unix:" + socket + ",server=on,wait=off")); // no comma in a temporary directory's path
            command.addAll(extra);
            final Path log = dir.resolve("vm" + i + ".log");
            final Process qemu = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            qemus.add(qemu);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(socket) || !QemuProcesses.accepts(socket))
            {
                assertTrue(qemu.isAlive(), () -> "QEMU exited: " + read(log));
                assertTrue(System.nanoTime() - deadline < 0, "QEMU's socket " + socket + " not there in 60 s");
                LockSupport.parkNanos(20_000_000L);
            }
            flags.add("--qemu");
            flags.add("vm" + i + "=" + socket);
        }
        return flags;
    }

    private static String read(final Path file)
    {
        try
        {
            return Files.readString(file);
        }
        catch (final IOException ex)
        {
            return "(" + ex.getMessage() + ")";
        }
    }

    /**
     * @return the VM a QEMU process serving {@code socket} is a copy of: the socket's name, or for a spare handed out
     *         to a VM (a node's driver links {@code NAME.qmp} to the spare's {@code .spare-TAG-N.qmp}) the link's name;
     *         a spare no link names is nobody's copy and keeps its own name.
     */
    private static String vmOf(final Path socket)
    {
        final String file = socket.getFileName().toString();
        if (file.startsWith(".spare-") && null != socket.getParent())
        {
            try (var links = Files.newDirectoryStream(socket.getParent(), "*.qmp"))
            {
                for (final Path link : links)
                {
                    if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).toString().equals(file))
                    {
                        return link.getFileName().toString().replace(".qmp", "");
                    }
                }
            }
            catch (final IOException ex)
            {
                // the directory went away: the spare's own name
            }
        }
        return file.replace(".qmp", "");
    }

    /** @return every QEMU process under the test's directory (the VMs and the nodes' copies), by VM name. */
    private Map<String, List<Copy>> copies()
    {
        final Map<String, List<Copy>> byVm = new TreeMap<>();
        for (final ProcessHandle process : QemuProcesses.under(dir))
        {
            final List<String> args;
            try
            {
                args = List.of(new String(Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline")),
                    StandardCharsets.UTF_8).split("\0"));
            }
            catch (final IOException ex)
            {
                continue; // exited meanwhile
            }
            for (int i = 0; i + 1 < args.size(); i++)
            {
                if (args.get(i).equals("-qmp") && args.get(i + 1).startsWith("unix:"))
                {
                    final String value = args.get(i + 1).substring("unix:".length());
                    final int comma = value.indexOf(',');
                    final Path socket = Path.of(comma < 0 ? value : value.substring(0, comma));
                    final String vm = vmOf(socket);
                    byVm.computeIfAbsent(vm, k -> new ArrayList<>()).add(new Copy(vm, process.pid(), socket));
                    break;
                }
            }
        }
        return byVm;
    }

    private static Map<String, RegistryClient.NodeInfo> directory(final RegistryClient client)
    {
        final Map<String, RegistryClient.NodeInfo> byName = new LinkedHashMap<>();
        for (final RegistryClient.NodeInfo node : client.directory())
        {
            byName.put(node.name(), node);
        }
        return byName;
    }

    /** @return the VMs' ids by name: node-0's i-th {@code --qemu} (host h) is {@code (h + 1) × 10^9 + 5 × 10^8 + i}. */
    private static Map<String, Long> vmIds(final RegistryClient observer)
    {
        final int host = directory(observer).get("node-0").nodeId() - 1;
        final Map<String, Long> ids = new TreeMap<>();
        for (int i = 0; i < VMS; i++)
        {
            ids.put("vm" + i, (host + 1) * ClusterNode.GUEST_IDS + ClusterNode.QEMU_IDS + i);
        }
        return ids;
    }

    /** @return the node by its id in the registry's directory. */
    private static NodeProcess byId(final RegistryClient observer, final List<NodeProcess> nodes, final int nodeId)
    {
        final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
        return nodes.stream().filter(n -> directory.get(n.name) != null && directory.get(n.name).nodeId() == nodeId)
            .findFirst().orElse(null);
    }

    /**
     * @return null if the cluster is at rest and agrees: both nodes up, every VM owned by one of them per the
     *         registry, the VM counts they report adding up, each VM one QEMU process, on its owner's side (the
     *         original, only ever on node-0, or a copy in the owner's run directory), and no handoff under way in
     *         either journal; else what does not hold yet.
     */
    private String disagreement(final RegistryClient observer, final List<NodeProcess> nodes, final boolean spread)
    {
        final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
        int reported = 0;
        for (final NodeProcess node : nodes)
        {
            final RegistryClient.NodeInfo info = directory.get(node.name);
            if (info == null || !info.up() || !info.reported())
            {
                return node.name + " is not up: " + info;
            }
            if (spread && info.vmCount() == 0)
            {
                return node.name + " has no VM";
            }
            reported += info.vmCount();
        }
        if (reported != VMS)
        {
            return "the nodes report " + reported + " VMs";
        }
        final Map<String, List<Copy>> copies = copies();
        for (final Map.Entry<String, Long> vm : vmIds(observer).entrySet())
        {
            final RegistryClient.Ownership entry = observer.query(vm.getValue());
            if (entry.status() != RegistryStatus.OK)
            {
                return vm.getKey() + ": the registry says " + entry;
            }
            final NodeProcess owner = byId(observer, nodes, entry.owner());
            final List<Copy> running = copies.getOrDefault(vm.getKey(), List.of());
            if (owner == null || running.size() != 1)
            {
                return vm.getKey() + " owned by node " + entry.owner() + ", QEMU processes " + running;
            }
            if (!onOwnersSide(running.get(0), owner))
            {
                return vm.getKey() + " owned by " + owner.name + ", but its one QEMU process is " + running.get(0);
            }
        }
        // no handoff under way either (its copy may not be started yet): a node that stops leaves one in flight to
        // its next start's recovery, when it has not settled within a few handoff timeouts
        for (final NodeProcess node : nodes)
        {
            final int host = directory.get(node.name).nodeId() - 1;
            final HostJournalState state;
            try (ChronicleJournal read = ChronicleJournal.openReadOnly(node.journal(host), host))
            {
                state = HostJournalState.replay(read, false);
            }
            if (!state.pendingOut().isEmpty() || !state.pendingIn().isEmpty())
            {
                return node.name + " has migrations under way: " + state.pendingOut().size() + " out, " +
                    state.pendingIn().size() + " in";
            }
        }
        return null;
    }

    private boolean onOwnersSide(final Copy copy, final NodeProcess owner)
    {
        return copy.socket.startsWith(owner.data().resolve(NodeCommand.QEMU_RUN_DIR)) ||
            owner.name.equals("node-0") && copy.socket.equals(dir.resolve(copy.vm + ".qmp"));
    }

    /** Wait until {@link #disagreement} finds nothing twice in a row, a second apart (a migration may start between). */
    private void awaitAtRest(final String what, final long seconds, final RegistryClient observer,
        final List<NodeProcess> nodes, final boolean spread)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        String last = "not asked";
        int quiet = 0;
        while (quiet < 2)
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + seconds + " s waiting for " + what + ": " + last + "; logs in " + dir + ":\n" +
                    logs());
            }
            try
            {
                last = disagreement(observer, nodes, spread);
            }
            catch (final io.vmsched.aeron.registry.RegistryException ex)
            {
                last = "the observer: " + ex.getMessage(); // asked again
            }
            quiet = last == null ? quiet + 1 : 0;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(quiet == 0 ? 200 : 1000));
        }
    }

    private void await(final String what, final long seconds, final BooleanSupplier done)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + seconds + " s waiting for " + what + "; logs in " + dir + ":\n" + logs());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    private String logs()
    {
        final StringBuilder all = new StringBuilder();
        try (var files = Files.list(dir))
        {
            for (final Path log : files.filter(f -> f.toString().endsWith(".log") && !f.getFileName().toString()
                .startsWith("vm")).sorted().toList())
            {
                final List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                all.append("== ").append(log.getFileName()).append('\n');
                lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(l -> all.append(l).append('\n'));
            }
        }
        catch (final IOException ex)
        {
            all.append(ex);
        }
        all.append("QEMU processes: ").append(copies());
        return all.toString();
    }

    /**
     * Stop every node cleanly; then each journal verifies with nothing in doubt, each VM is in exactly one journal,
     * the registry's owner's, {@code vmsched journal verify} passes over both data directories, and each VM has one
     * QEMU process left, {@code running}, on its owner's side.
     */
    private void stopAndCheck(final List<NodeProcess> nodes, final RegistryClient observer) throws IOException
    {
        final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
        final Map<String, Long> ids = vmIds(observer);
        for (final NodeProcess node : nodes)
        {
            final int status = children.stop(node.process); // 143: a JVM's exit on SIGTERM once its hooks ran
            assertTrue(status == 143 || status == 0, node.name + " exits on SIGTERM, status " + status + ":\n" + logs());
            final List<String> log = node.log();
            assertTrue(log.get(log.size() - 1).contains("stopped cleanly"), node.name + " stops cleanly:\n" + logs());
        }
        final Map<Long, NodeProcess> where = new HashMap<>();
        for (final NodeProcess node : nodes)
        {
            final int host = directory.get(node.name).nodeId() - 1;
            final Path journal = node.journal(host);
            assertTrue(JournalCheck.verify(journal) > 0, node.name + "'s journal verifies");
            final HostJournalState state;
            try (ChronicleJournal read = ChronicleJournal.openReadOnly(journal, host))
            {
                state = HostJournalState.replay(read, false);
            }
            assertTrue(state.pendingOut().isEmpty(), node.name + ": migrations out in doubt " + state.pendingOut().size());
            assertTrue(state.pendingIn().isEmpty(), node.name + ": migrations in in doubt " + state.pendingIn().size());
            for (final long vm : state.owned().keySet())
            {
                final NodeProcess before = where.put(vm, node);
                assertNull(before, "vm " + vm + " owned by " + (before == null ? "" : before.name) + " and " + node.name);
                final RegistryClient.Ownership entry = observer.query(vm);
                assertEquals(RegistryStatus.OK, entry.status());
                assertEquals(directory.get(node.name).nodeId(), entry.owner(), "the registry names " + node.name +
                    " for vm " + vm);
            }
        }
        assertEquals(new java.util.TreeSet<>(ids.values()), new java.util.TreeSet<>(where.keySet()),
            "every VM on exactly one node");
        // the journal tools read the nodes' directories together: every handoff checks on both sides
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final List<String> args = new ArrayList<>(List.of("journal", "verify"));
        nodes.forEach(node -> args.add(node.data().toString()));
        assertEquals(0, VmschedCommand.execute(new PrintWriter(out), new PrintWriter(err), args.toArray(new String[0])),
            out + "\n" + err);
        assertTrue(out.toString().contains(" 0 lost, 0 duplicated, 0 in doubt"), out.toString());

        // the nodes let go of their QMP connections: each QEMU process answers, and exactly one per VM runs
        final Map<String, List<Copy>> copies = copies();
        for (final Map.Entry<String, Long> vm : ids.entrySet())
        {
            final List<Copy> left = copies.getOrDefault(vm.getKey(), List.of());
            assertEquals(1, left.size(), vm.getKey() + ": one QEMU process, the source's copies gone: " + left);
            final Copy copy = left.get(0);
            assertTrue(onOwnersSide(copy, where.get(vm.getValue())), vm.getKey() + " is " + where.get(vm.getValue()).name +
                "'s, its QEMU process " + copy);
            try (QmpClient qmp = QmpClient.connect(copy.socket, Duration.ofSeconds(10)))
            {
                assertEquals("running", qmp.execute("query-status").path("status").asText(), vm.getKey() + " at " + copy);
            }
        }
    }

    /** @return the live migrations committed, by the COMMITTED records of every node's journal. */
    private static long committed(final RegistryClient observer, final List<NodeProcess> nodes)
    {
        final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
        long committed = 0;
        for (final NodeProcess node : nodes)
        {
            final int host = directory.get(node.name).nodeId() - 1;
            final long[] count = new long[1];
            JournalCheck.verify(node.journal(host),
                (index, record) -> count[0] += record.type() == RecordType.COMMITTED ? 1 : 0);
            committed += count[0];
        }
        return committed;
    }

    private int run(final StringWriter out, final String... args)
    {
        final StringWriter err = new StringWriter();
        final int status = VmschedCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        out.append(err.toString());
        return status;
    }

    @Test
    void qemuVmsAdoptedByOneNodeSpreadByLiveMigrationToAnotherNodeProcess() throws Exception
    {
        final String registry = registry();
        final List<String> flags = startVms(List.of());
        final List<NodeProcess> nodes = List.of(new NodeProcess("node-0", registry, flags),
            new NodeProcess("node-1", registry, List.of()));
        nodes.forEach(NodeProcess::start);
        final RegistryClient observer = observer(registry);
        awaitAtRest("the VMs spread over both nodes, one QEMU process each", 180, observer, nodes, true);
        assertTrue(committed(observer, nodes) >= 1, "live migrations committed");
        stopAndCheck(nodes, observer);
    }

    /**
     * Nodes SIGKILLed while live migrations between them are in flight (the target, or the source, at a random
     * moment of a migration slowed to seconds), restarted on their data directories: after recovery each VM has one
     * QEMU process, running, on its owner's side, none lost, and the journals verify. {@code
     * -Dvmsched.qemu.nodes.trials=N} (default 3) kills, {@code -Dvmsched.qemu.nodes.seed=S} repeats a run.
     */
    @Test
    void nodesKilledWhileLiveMigrationsAreInFlightRecoverWithOneRunningCopyPerVm() throws Exception
    {
        final String registry = registry();
        // every copy inherits the cap: -global is part of the spec a copy is started from
        final List<String> flags = startVms(List.of("-global", "migration.x-max-bandwidth=" + SLOW_BANDWIDTH));
        final List<NodeProcess> nodes = List.of(new NodeProcess("node-0", registry, flags),
            new NodeProcess("node-1", registry, List.of()));
        nodes.forEach(NodeProcess::start);
        final RegistryClient observer = observer(registry);
        final long seed = Long.getLong("vmsched.qemu.nodes.seed", System.nanoTime());
        final Random random = new Random(seed);
        final int trials = Integer.getInteger("vmsched.qemu.nodes.trials", 3);
        System.out.println("NodeQemuMigrationTest: seed " + seed + ", " + trials + " trials");
        for (int trial = 0; trial < trials; trial++)
        {
            final int t = trial;
            final NodeProcess from;
            if (trial == 0)
            {
                from = nodes.get(0); // the balancer moves VMs off it at once
                await("node-0 up with its VMs", 120, () -> directory(observer).containsKey("node-0") &&
                    directory(observer).get("node-0").vmCount() == VMS);
            }
            else
            {
                // the node with more VMs is drained: its VMs leave by live migrations
                final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
                from = directory.get("node-0").vmCount() >= directory.get("node-1").vmCount() ? nodes.get(0) : nodes.get(1);
                final StringWriter out = new StringWriter();
                assertEquals(0, run(out, "drain", from.name, "--registry", registry, "--secret", secret.toString()),
                    out.toString());
            }
            final NodeProcess to = from == nodes.get(0) ? nodes.get(1) : nodes.get(0);
            final long inFlightAt = System.nanoTime();
            await("trial " + t + ": a live migration from " + from.name + " to " + to.name, 120, () -> inFlight(to));
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(3000)));
            final NodeProcess victim = random.nextBoolean() ? to : from;
            final Map<String, List<Copy>> before = copies();
            final long starts = victim.starts();
            victim.process.destroyForcibly(); // SIGKILL, wherever its live migrations are
            assertTrue(victim.process.waitFor(30, TimeUnit.SECONDS), "killed");
            System.out.printf("trial %d: %s killed %d ms after a copy appeared on %s (the %s); QEMU processes then %s%n",
                t, victim.name, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - inFlightAt), to.name,
                victim == to ? "target" : "source", before);
            victim.start();
            await("trial " + t + ": " + victim.name + " restarted and recovered", 180, () -> victim.starts() == starts + 1);
            if (trial > 0)
            {
                final StringWriter out = new StringWriter();
                assertEquals(0, run(out, "undrain", from.name, "--registry", registry, "--secret", secret.toString()),
                    out.toString());
            }
            final long recovering = System.nanoTime();
            awaitAtRest("trial " + t + ": every VM one QEMU process on its owner's side", 300, observer, nodes, false);
            System.out.printf("trial %d: at rest %d ms after the restart: %s%n", t,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - recovering), copies());
        }
        final StringWriter stats = new StringWriter();
        run(stats, "journal", "stats", nodes.get(0).data().toString(), nodes.get(1).data().toString());
        System.out.println(stats); // the handoffs' steps and the aborts' reasons, for the record
        stopAndCheck(nodes, observer);
    }

    /** @return whether a VM has a second QEMU process, an incoming copy in {@code target}'s run directory. */
    private boolean inFlight(final NodeProcess target)
    {
        for (final List<Copy> copies : copies().values())
        {
            if (copies.size() == 2 && copies.stream().anyMatch(c -> c.socket.startsWith(target.data()
                .resolve(NodeCommand.QEMU_RUN_DIR))))
            {
                return true;
            }
        }
        return false;
    }
}

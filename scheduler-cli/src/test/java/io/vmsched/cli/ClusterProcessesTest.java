package io.vmsched.cli;

import io.vmsched.aeron.ClusterSecret;
import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryMember;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.HostJournalState;
import io.vmsched.journal.JournalCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A cluster across processes on the loopback interface, as an operator runs it: {@code vmsched registry}
 * members and {@code vmsched node --registry} processes, each its own JVM. Skewed guests spread by
 * handoffs between the processes; the registry's leader is killed and balancing goes on; nodes are
 * SIGKILLed in the middle of handoffs and SIGSTOPped past their session timeout, restarted, and in the end
 * every VM is on exactly one node, with nothing in doubt in any journal, and the registry names that node.
 * Every process the test starts is stopped (a child outlives no test: {@link Children#close}).
 */
@Timeout(600)
class ClusterProcessesTest
{
    private static final String LOOPBACK = "127.0.0.1";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run keeps its nodes' logs and journals to read
    Path dir;

    private final Children children = new Children(15_000);
    private final List<RegistryClient> clients = new ArrayList<>();
    private Path secret;

    /** A node process and how to start it again. */
    private final class NodeProcess
    {
        final String name;
        final String[] args;
        Process process;

        NodeProcess(final String name, final String registry, final int guests, final String... extra)
        {
            this.name = name;
            final List<String> a = new ArrayList<>(List.of("node", "--registry", registry, "--name", name,
                "--bind", LOOPBACK + ":" + Children.freeUdpPorts(1), "--secret", secret.toString(),
                "--data", dir.resolve(name).toString(), "--guests", Integer.toString(guests), "--guest-load", "0.05",
                "--balance-period-ms", "200"));
            a.addAll(List.of(extra));
            this.args = a.toArray(new String[0]);
        }

        void start()
        {
            process = children.start(dir.resolve(name + ".log"), args);
        }

        /** @return how many times it has said it started (its log's start lines). */
        long starts()
        {
            try
            {
                return Files.readAllLines(dir.resolve(name + ".log"), StandardCharsets.UTF_8).stream()
                    .filter(l -> l.contains(": host ") && l.contains("listening on")).count();
            }
            catch (final IOException ex)
            {
                return 0;
            }
        }

        Path journal(final int host)
        {
            return dir.resolve(name).resolve("journal").resolve(Integer.toString(host));
        }
    }

    @AfterEach
    void stopAll()
    {
        clients.forEach(RegistryClient::close);
        children.close();
    }

    private String registry(final int members)
    {
        secret = dir.resolve("cluster.secret");
        ClusterSecret.generate(secret);
        final StringBuilder list = new StringBuilder();
        for (int m = 0; m < members; m++)
        {
            list.append(m == 0 ? "" : ",").append(m).append('=').append(LOOPBACK).append(':')
                .append(Children.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER));
        }
        return list.toString();
    }

    private Process member(final String registry, final int id)
    {
        return children.start(dir.resolve("registry-" + id + ".log"), "registry", "--id", Integer.toString(id),
            "--members", registry, "--secret", secret.toString(), "--data", dir.resolve("registry-" + id).toString(),
            "--session-timeout-ms", "2000");
    }

    private RegistryClient observer(final String registry) throws IOException
    {
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(RegistryMember.ingressEndpoints(registry)).secret(ClusterSecret.read(secret))
            .connectTimeout(60, TimeUnit.SECONDS).callTimeout(30, TimeUnit.SECONDS).log(line -> { }));
        clients.add(client);
        return client;
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

    private void await(final String what, final long seconds, final BooleanSupplier done)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + seconds + " s waiting for " + what + "; logs in " + dir + ":\n" + logs());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    private String logs()
    {
        final StringBuilder all = new StringBuilder();
        try (var files = Files.list(dir))
        {
            for (final Path log : files.filter(f -> f.toString().endsWith(".log")).sorted().toList())
            {
                final List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                all.append("== ").append(log.getFileName()).append('\n');
                lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> all.append(l).append('\n'));
            }
        }
        catch (final IOException ex)
        {
            all.append(ex);
        }
        return all.toString();
    }

    /** Every node up, having reported, and {@code vms} VMs reported in all. */
    private static boolean settled(final RegistryClient observer, final List<NodeProcess> nodes, final int vms, final int atLeastEach)
    {
        final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
        int total = 0;
        for (final NodeProcess node : nodes)
        {
            final RegistryClient.NodeInfo info = directory.get(node.name);
            if (info == null || !info.up() || !info.reported() || info.vmCount() < atLeastEach)
            {
                return false;
            }
            total += info.vmCount();
        }
        return total == vms;
    }

    /** Stop every node cleanly; then each journal verifies, nothing is in doubt, and each VM is on one node, the registry's. */
    private void stopAndCheck(final List<NodeProcess> nodes, final RegistryClient observer, final int vms) throws IOException
    {
        final Map<String, RegistryClient.NodeInfo> directory = directory(observer);
        for (final NodeProcess node : nodes)
        {
            final int status = children.stop(node.process); // 143: a JVM's exit on SIGTERM once its hooks ran
            assertTrue(status == 143 || status == 0, node.name + " exits on SIGTERM, status " + status + ":\n" + logs());
            final List<String> log = Files.readAllLines(dir.resolve(node.name + ".log"), StandardCharsets.UTF_8);
            assertTrue(log.get(log.size() - 1).contains("stopped cleanly"), node.name + " stops cleanly:\n" + logs());
        }
        final Map<Long, String> where = new HashMap<>();
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
                final String before = where.put(vm, node.name);
                assertNull(before, "vm " + vm + " owned by " + before + " and " + node.name);
                final RegistryClient.Ownership entry = observer.query(vm);
                assertEquals(RegistryStatus.OK, entry.status());
                assertEquals(directory.get(node.name).nodeId(), entry.owner(), "the registry names " + node.name + " for vm " + vm);
            }
        }
        assertEquals(vms, where.size(), "every VM on exactly one node: " + where);
        // the journal tools read the nodes' directories together: every handoff checks on both sides
        final java.io.StringWriter out = new java.io.StringWriter();
        final java.io.StringWriter err = new java.io.StringWriter();
        final List<String> args = new ArrayList<>(List.of("journal", "verify"));
        nodes.forEach(node -> args.add(dir.resolve(node.name).toString()));
        assertEquals(0, VmschedCommand.execute(new java.io.PrintWriter(out), new java.io.PrintWriter(err),
            args.toArray(new String[0])), out + "\n" + err);
    }

    @Test
    void threeRegistryMembersAndFourNodesBalanceAndGoOnWhenTheLeaderIsKilled() throws IOException
    {
        final String registry = registry(3);
        final List<Process> members = new ArrayList<>();
        for (int m = 0; m < 3; m++)
        {
            members.add(member(registry, m));
        }
        final List<NodeProcess> nodes = new ArrayList<>();
        for (int n = 0; n < 4; n++)
        {
            nodes.add(new NodeProcess("node-" + n, registry, n < 2 ? 12 : 0));
        }
        nodes.forEach(NodeProcess::start);
        final RegistryClient observer = observer(registry);
        await("24 guests spread over 4 node processes", 120, () -> settled(observer, nodes, 24, 4));

        // the operator's view: vmsched stat --registry lists every node, up, with its load and VMs
        final java.io.StringWriter stat = new java.io.StringWriter();
        assertEquals(0, VmschedCommand.execute(new java.io.PrintWriter(stat), new java.io.PrintWriter(System.err),
            "stat", "--registry", registry, "--secret", secret.toString(), "--once"));
        for (final NodeProcess node : nodes)
        {
            assertTrue(stat.toString().lines().anyMatch(l -> l.contains(node.name) && l.contains(" up ")), stat.toString());
        }

        final int leader = observer.leaderMemberId();
        assertTrue(leader >= 0 && leader < 3, "a leader: " + leader);
        members.get(leader).destroyForcibly(); // SIGKILL
        final NodeProcess late = new NodeProcess("node-4", registry, 0);
        late.start();
        nodes.add(late);
        await("a node started after the leader's death gets VMs (moves committed by the new leader)", 120, () ->
        {
            try
            {
                return settled(observer, nodes, 24, 3);
            }
            catch (final io.vmsched.aeron.registry.RegistryException ex)
            {
                // the election may outlast one connect attempt of the observer: an operator's tool asks again
                System.out.println("observer: " + ex.getMessage() + " (asking again)");
                return false;
            }
        });
        assertNotEquals(leader, observer.leaderMemberId(), "a new leader");
        stopAndCheck(nodes, observer, 24);
    }

    @Test
    void nodesKilledOrStoppedInTheMiddleOfHandoffsRecoverWithNothingLostOrDoubled() throws IOException
    {
        final String registry = registry(1);
        member(registry, 0);
        final int vms = 18;
        final List<NodeProcess> nodes = List.of(
            new NodeProcess("node-0", registry, vms, "--guest-swing", "0.9", "--swing-period-ms", "3000"),
            new NodeProcess("node-1", registry, 0, "--guest-swing", "0.9", "--swing-period-ms", "3000"),
            new NodeProcess("node-2", registry, 0, "--guest-swing", "0.9", "--swing-period-ms", "3000"));
        nodes.forEach(NodeProcess::start);
        final RegistryClient observer = observer(registry);
        await("the guests spread", 120, () -> settled(observer, nodes, vms, 2));

        final Random random = new Random(Long.getLong("vmsched.crashSeed", System.nanoTime()));
        final int trials = Integer.getInteger("vmsched.crashTrials", 10);
        for (int trial = 0; trial < trials; trial++)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200 + random.nextInt(1000))); // handoffs go on all the time
            final NodeProcess victim = nodes.get(random.nextInt(nodes.size()));
            final long starts = victim.starts();
            victim.process.destroyForcibly(); // SIGKILL, wherever its handoffs are
            assertTrue(waitFor(victim.process), "killed");
            victim.start();
            final int t = trial;
            await("trial " + t + ": " + victim.name + " restarted and recovered", 120, () -> victim.starts() == starts + 1);
        }

        // SIGSTOP one node past its session timeout: declared down; back, it goes on with what it still owns
        final NodeProcess stopped = nodes.get(random.nextInt(nodes.size()));
        signal("STOP", stopped.process);
        await(stopped.name + " declared down", 30, () -> !directory(observer).get(stopped.name).up());
        signal("CONT", stopped.process);
        await(stopped.name + " up again", 120, () -> directory(observer).get(stopped.name).up());
        stopAndCheck(nodes, observer, vms);
    }

    private static boolean waitFor(final Process process)
    {
        try
        {
            return process.waitFor(30, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void signal(final String signal, final Process process) throws IOException
    {
        try
        {
            assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aNodesMistakesAreOneLineEach() throws IOException
    {
        final String registry = registry(1);
        final Path wrong = dir.resolve("wrong.secret");
        ClusterSecret.generate(wrong);
        try (RegistryMember member = RegistryMember.launch(new RegistryMember.Context().memberId(0).members(registry)
            .dataDir(dir.resolve("registry").toFile()).secret(ClusterSecret.read(secret)).log(line -> { })))
        {
            final int port = Children.freeUdpPorts(1);
            // a wrong secret: refused by the registry at once, not a timeout
            final String refused = nodeFails(1, "--registry", registry, "--secret", wrong.toString(), "--name", "a",
                "--bind", LOOPBACK + ":" + port, "--data", dir.resolve("a").toString());
            assertTrue(refused.contains("credentials"), refused);
            // a registry nobody runs: a countdown, then exit 1
            final String members = "0=" + LOOPBACK + ":" + Children.freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
            final String unreachable = nodeFails(1, "--registry", members, "--secret", secret.toString(), "--name", "b",
                "--bind", LOOPBACK + ":" + port, "--data", dir.resolve("b").toString(), "--registry-wait-s", "2");
            assertTrue(unreachable.contains("gave up after 2 s") && unreachable.contains("cannot reach the registry"), unreachable);
            // a secret others may read
            final Path open = dir.resolve("open.secret");
            Files.write(open, new byte[32]);
            Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            final String readable = nodeFails(2, "--registry", registry, "--secret", open.toString(), "--name", "c",
                "--bind", LOOPBACK + ":" + port, "--data", dir.resolve("c").toString());
            assertTrue(readable.contains("chmod 600"), readable);
            // a load out of range for the QEMU VMs: refused before anything is read
            final String load = nodeFails(2, "--registry", registry, "--secret", secret.toString(), "--name", "e",
                "--bind", LOOPBACK + ":" + port, "--data", dir.resolve("e").toString(), "--qemu-load", "2000");
            assertTrue(load.contains("--qemu-load must be in [0, 1024] reference cores, got 2000.0"), load);
            // --registry without --name
            final String noName = nodeFails(2, "--registry", registry, "--secret", secret.toString(),
                "--bind", LOOPBACK + ":" + port, "--data", dir.resolve("d").toString());
            assertTrue(noName.contains("--name"), noName);
        }
    }

    /** Run {@code vmsched node ARGS} in this JVM; it must fail with {@code status}, its error one line. */
    private static String nodeFails(final int status, final String... args)
    {
        final java.io.StringWriter err = new java.io.StringWriter();
        final String[] all = new String[args.length + 1];
        all[0] = "node";
        System.arraycopy(args, 0, all, 1, args.length);
        assertEquals(status, VmschedCommand.execute(new java.io.PrintWriter(new java.io.StringWriter()),
            new java.io.PrintWriter(err), all), err.toString());
        final List<String> lines = err.toString().lines().toList();
        assertEquals(1, lines.size(), "one line: " + err);
        return lines.get(0);
    }

    /**
     * Services and rules across processes, as an operator keeps them: a constraints file applied through the
     * registry with {@code vmsched constraints}; a hard anti-affinity broken as it is given is repaired by the
     * node running both VMs (a move the registry accepts), and then holds while the nodes balance; the status is
     * the registry's ({@code vmsched status --registry}); a bad file or a rule naming an unknown VM changes nothing.
     */
    @Test
    void constraintsAppliedThroughTheRegistryHoldAcrossNodeProcesses() throws IOException
    {
        final String registry = registry(1);
        member(registry, 0);
        final List<NodeProcess> nodes = List.of(new NodeProcess("node-0", registry, 4, "--labels", "ssd"),
            new NodeProcess("node-1", registry, 0), new NodeProcess("node-2", registry, 0));
        nodes.forEach(NodeProcess::start);
        final RegistryClient observer = observer(registry);
        await("node-0 in the directory", 120, () -> directory(observer).containsKey("node-0"));
        // node-0's guests are g+1 .. g+4, g by its host id (node id - 1): the nodes register in any order
        final long g = directory(observer).get("node-0").nodeId() * ClusterNode.GUEST_IDS;
        await("node-0's 4 guests in the registry", 120, () ->
        {
            for (long vm = g + 1; vm <= g + 4; vm++)
            {
                if (RegistryStatus.OK != observer.query(vm).status())
                {
                    return false;
                }
            }
            return true;
        });

        final Path rules = dir.resolve("rules.txt");
        Files.writeString(rules, "service web size=2 min=2 vms=" + (g + 1) + "," + (g + 2) + "\n" +
            "anti-affinity web-spread hard service=web\non-label fast soft label=ssd vms=" + (g + 3) + "\n");
        assertEquals(0, run("constraints", "--registry", registry, "--secret", secret.toString(), "--apply",
            rules.toString()), cliErr.toString());
        assertTrue(cliOut.toString().contains("anti-affinity web-spread hard service=web"), cliOut.toString());

        // the two members are soon on two nodes, and the rule holds from then on while the nodes balance
        await("web-spread to hold and web to be healthy", 120, () ->
        {
            final String json = status(registry);
            return json.contains("\"name\":\"web\",\"size\":2,\"min\":2,\"status\":\"healthy\"") &&
                json.contains("\"name\":\"web-spread\",\"rule\":\"anti-affinity web-spread hard service=web\",\"hard\":true,\"holds\":true");
        });
        for (int i = 0; i < 10; i++)
        {
            assertNotEquals(observer.query(g + 1).owner(), observer.query(g + 2).owner(), "web's members apart");
            java.util.concurrent.locks.LockSupport.parkNanos(300_000_000L);
        }
        assertEquals(0, run("status", "--registry", registry, "--secret", secret.toString()), cliErr.toString());
        assertTrue(cliOut.toString().contains("service web"), cliOut.toString());

        // mistakes: one line each, exit 2, nothing applied
        final List<String> before = observer.placement().statements();
        Files.writeString(rules, "service db size=x\n");
        assertEquals(2, run("constraints", "--registry", registry, "--secret", secret.toString(), "--apply", rules.toString()));
        assertTrue(cliErr.toString().contains(rules + ":1:"), cliErr.toString());
        Files.writeString(rules, "service db size=1\nanti-affinity ghost hard vms=7,8\n");
        assertEquals(2, run("constraints", "--registry", registry, "--secret", secret.toString(), "--apply", rules.toString()));
        assertTrue(cliErr.toString().contains("vm 7") && cliErr.toString().contains("nothing was applied"), cliErr.toString());
        assertEquals(1, cliErr.toString().strip().lines().count(), cliErr.toString());
        assertEquals(before, observer.placement().statements());

        // the operator drains node-0 (the registry holds the drain): its VMs leave, web's members still apart
        assertEquals(0, run("drain", "node-0", "--registry", registry, "--secret", secret.toString(), "--wait",
            "--wait-s", "120"), cliErr.toString());
        assertTrue(cliOut.toString().contains("node node-0 is drained"), cliOut.toString());
        final int drained = directory(observer).get("node-0").nodeId();
        for (long vm = g + 1; vm <= g + 4; vm++)
        {
            assertNotEquals(drained, observer.query(vm).owner(), "vm " + vm + " left node-0");
        }
        assertNotEquals(observer.query(g + 1).owner(), observer.query(g + 2).owner(), "web's members apart");
        assertEquals(2, run("drain", "node-9", "--registry", registry, "--secret", secret.toString()));
        assertTrue(cliErr.toString().contains("the registry knows no node 'node-9'"), cliErr.toString());
    }

    private final java.io.StringWriter cliOut = new java.io.StringWriter();
    private final java.io.StringWriter cliErr = new java.io.StringWriter();

    private int run(final String... args)
    {
        cliOut.getBuffer().setLength(0);
        cliErr.getBuffer().setLength(0);
        return VmschedCommand.execute(new java.io.PrintWriter(cliOut, true), new java.io.PrintWriter(cliErr, true), args);
    }

    private String status(final String registry)
    {
        assertEquals(0, run("status", "--registry", registry, "--secret", secret.toString(), "--json"), cliErr.toString());
        return cliOut.toString();
    }
}

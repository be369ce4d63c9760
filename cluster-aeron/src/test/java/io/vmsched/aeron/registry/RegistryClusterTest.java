package io.vmsched.aeron.registry;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.vmsched.aeron.ClusterSecret;
import io.vmsched.load.HostCapacity;
import org.agrona.CloseHelper;
import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

import static io.vmsched.aeron.registry.RegistryStatus.MISMATCH;
import static io.vmsched.aeron.registry.RegistryStatus.OK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A 1-member registry on loopback: clients register, admit, move VMs by CAS; a stale CAS is refused;
 * a closed and a silent session mark their node down; the member restarts from its snapshot and the
 * log after it with the owner table intact. MOVE and RECLAIM (the fence, their race, lost replies),
 * load reports and the paged directory, and the door: only clients holding the cluster's secret get in.
 */
@Timeout(120)
class RegistryClusterTest
{
    private static final HostCapacity CAPACITY = new HostCapacity(2, 1, 1e8, 4e9);
    private static final String LOOPBACK = "127.0.0.1";

    @TempDir
    Path dataDir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final byte[] secret = randomSecret();

    @AfterEach
    void closeAll()
    {
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(toClose.get(i));
        }
    }

    private RegistryMember member(final int basePort)
    {
        return member(basePort, 2);
    }

    /** A member whose clients may be idle for up to {@code sessionTimeoutS} (a test that does not poll all of them). */
    private RegistryMember member(final int basePort, final int sessionTimeoutS)
    {
        final RegistryMember member = RegistryMember.launch(new RegistryMember.Context()
            .memberId(0)
            .members("0=" + LOOPBACK + ":" + basePort)
            .dataDir(dataDir.toFile())
            .sessionTimeout(sessionTimeoutS, TimeUnit.SECONDS)
            .secret(secret)
            .log(line -> print("member", line)));
        toClose.add(member);
        return member;
    }

    private RegistryClient client(final RegistryMember member, final List<Integer> downs)
    {
        return client(member, downs, null);
    }

    private RegistryClient client(final RegistryMember member, final List<Integer> downs, final String aeronDirectoryName)
    {
        return client(member, downs, aeronDirectoryName, false);
    }

    private RegistryClient client(final RegistryMember member, final List<Integer> downs, final String aeronDirectoryName,
        final boolean driverOnCaller)
    {
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(member.ingressEndpoints())
            .secret(secret)
            .aeronDirectoryName(aeronDirectoryName)
            .driverOnCaller(driverOnCaller)
            .connectTimeout(30, TimeUnit.SECONDS)
            .callTimeout(10, TimeUnit.SECONDS)
            .keepAliveInterval(300, TimeUnit.MILLISECONDS)
            .nodeDownListener(downs::add)
            .log(line -> print("client", line)));
        toClose.add(client);
        return client;
    }

    private void print(final String who, final String line)
    {
        log.add(line);
        System.out.println("[" + who + "] " + line);
    }

    @Test
    void registerAdmitCasQueryAndRestartFromSnapshotAndLog()
    {
        final int base = freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        RegistryMember member = member(base);
        final List<Integer> downs = new CopyOnWriteArrayList<>();
        final RegistryClient a = client(member, new ArrayList<>());
        final RegistryClient b = client(member, new ArrayList<>());
        final RegistryClient watcher = client(member, downs);

        final int nodeA = a.register("node-a", "127.0.0.1:41001", CAPACITY, "rack=1");
        final int nodeB = b.register("node-b", "127.0.0.1:41002", CAPACITY, "");
        assertEquals(1, nodeA);
        assertEquals(2, nodeB);
        final RegistryException taken = assertThrows(RegistryException.class,
            () -> watcher.register("node-a", "127.0.0.1:41003", CAPACITY, ""));
        assertEquals(RegistryStatus.NAME_TAKEN, taken.status());
        assertFalse(taken.getMessage().contains("\n"));
        assertTrue(taken.getMessage().contains(member.ingressEndpoints()), taken.getMessage());

        // admission, a CAS that moves the VM, a stale CAS (the source's late reclaim) refused
        assertOwnership(a.admit(100), OK, nodeA, 1, 0);
        assertEquals(RegistryStatus.EXISTS, b.admit(100).status());
        assertOwnership(b.compareAndSet(100, nodeA, 1, 555), OK, nodeB, 2, 555);
        assertOwnership(a.compareAndSet(100, nodeA, 1, 555), MISMATCH, nodeB, 2, 555);
        assertOwnership(watcher.query(100), OK, nodeB, 2, 555);
        assertOwnership(a.query(100), OK, nodeB, 2, 555);
        assertEquals(RegistryStatus.ABSENT, a.query(101).status());
        assertOwnership(a.admit(200), OK, nodeA, 1, 0);

        // a malformed command is refused with MALFORMED, and changes nothing
        final ExpandableArrayBuffer raw = new ExpandableArrayBuffer(64);
        final int casLength = new RegistryMessages.Cas().wrap(raw, 0).correlationId(9_999).set(200, nodeA, 1, nodeB, 1);
        assertEquals(RegistryStatus.MALFORMED, b.callRaw(raw, casLength - 4, 9_999));
        raw.putShort(0, (short)77, RegistryMessages.ORDER);
        assertEquals(RegistryStatus.MALFORMED, b.callRaw(raw, casLength, 9_999));
        assertOwnership(b.query(200), OK, nodeA, 1, 0);

        // a fence and a load report, before the snapshot: both must come back from it
        assertOwnership(a.admit(400), OK, nodeA, 1, 0);
        assertOwnership(a.reclaim(400, 9), OK, nodeA, 2, 9, 9);
        a.report(0.5, 3);

        assertTrue(member.takeSnapshot(30_000), "snapshot taken");
        // after the snapshot: in the log only
        assertOwnership(b.compareAndSet(200, nodeA, 1, 777), OK, nodeB, 2, 777);

        // a closed session marks its node down, and the others hear of it; its VMs stay its own
        assertOwnership(a.admit(300), OK, nodeA, 1, 0);
        a.close();
        await("NODE_DOWN for node a", 15_000, () -> downs.contains(nodeA), b, watcher);
        assertOwnership(watcher.query(300), OK, nodeA, 1, 0);

        // a silent session times out (2 s here): its node is marked down too
        final RegistryClient silent = client(member, new ArrayList<>());
        final int nodeC = silent.register("node-c", "127.0.0.1:41004", CAPACITY, "");
        await("NODE_DOWN for the silent node", 20_000, () -> downs.contains(nodeC), b, watcher);

        b.close();
        watcher.close();
        member.close();
        assertTrue(log.stream().noneMatch(l -> l.contains("registry service:")), "no service errors: " + log);

        // the member restarts on its data: snapshot, then the log after it
        member = member(base);
        final RegistryClient again = client(member, new ArrayList<>());
        assertTrue(member.service().loadedSnapshot(), "started from the snapshot");
        assertOwnership(again.query(100), OK, nodeB, 2, 555);
        assertOwnership(again.query(200), OK, nodeB, 2, 777);
        assertOwnership(again.query(300), OK, nodeA, 1, 0);
        assertOwnership(again.query(400), OK, nodeA, 2, 9, 9);
        final RegistryClient.NodeInfo nodeInfoA = again.directory().get(nodeA - 1);
        assertEquals("node-a", nodeInfoA.name());
        assertFalse(nodeInfoA.up());
        assertTrue(nodeInfoA.reported());
        assertEquals(0.5, nodeInfoA.load());
        assertEquals(3, nodeInfoA.vmCount());
        // the down node's name comes back with its id; the stale CAS is still refused
        assertEquals(nodeA, again.register("node-a", "127.0.0.1:41005", CAPACITY, ""));
        assertOwnership(again.compareAndSet(100, nodeA, 1, 556), MISMATCH, nodeB, 2, 555);
        assertOwnership(again.compareAndSet(100, nodeB, 2, 557), OK, nodeA, 3, 557);
        // and so is a MOVE the snapshot's fence shuts out
        final RegistryClient c = client(member, new ArrayList<>());
        c.register("node-c2", "127.0.0.1:41006", CAPACITY, "");
        assertOwnership(c.move(400, nodeA, 9), MISMATCH, nodeA, 2, 9, 9);
        assertOwnership(c.move(400, nodeA, 10), OK, c.nodeId(), 3, 10, 0);
    }

    @Test
    void moveAndReclaimOfOneMigrationNeverBothApplyAndALostReplyIsResolvedByQuery() throws Exception
    {
        final RegistryMember member = member(freeUdpPorts(RegistryMember.PORTS_PER_MEMBER), 30);
        final RegistryClient source = client(member, new ArrayList<>());
        final RegistryClient target = client(member, new ArrayList<>());
        final int s = source.register("source", "127.0.0.1:41001", CAPACITY, "");
        final int t = target.register("target", "127.0.0.1:41002", CAPACITY, "");

        // the fence: a reclaimed migration (or an earlier one) cannot be moved; the source's next one can
        assertOwnership(source.admit(1), OK, s, 1, 0, 0);
        assertOwnership(source.reclaim(1, 5), OK, s, 2, 5, 5);
        assertOwnership(target.move(1, s, 5), MISMATCH, s, 2, 5, 5);
        assertOwnership(target.move(1, s, 4), MISMATCH, s, 2, 5, 5);
        assertOwnership(target.move(1, s, 6), OK, t, 3, 6, 0);
        // the source's late reclaim of 6: MISMATCH with (target, *, 6), which it reads as 'committed'
        assertOwnership(source.reclaim(1, 6), MISMATCH, t, 3, 6, 0);
        assertEquals(RegistryStatus.ABSENT, target.move(2, s, 1).status());
        assertEquals(RegistryStatus.MALFORMED, source.reclaim(1, 0).status());

        // the race: a target's MOVE and its source's RECLAIM of one migration, sent at once from two threads
        final int rounds = 30;
        for (long vm = 100; vm < 100 + rounds; vm++)
        {
            assertOwnership(source.admit(vm), OK, s, 1, 0, 0);
        }
        final RegistryClient.Ownership[] moves = new RegistryClient.Ownership[rounds];
        final RegistryClient.Ownership[] reclaims = new RegistryClient.Ownership[rounds];
        final CyclicBarrier together = new CyclicBarrier(2);
        final AtomicReference<Throwable> failed = new AtomicReference<>();
        final Thread targetThread = new Thread(
            () -> race(together, rounds, i -> moves[i] = target.move(100 + i, s, 1 + i), failed), "target");
        final Thread sourceThread = new Thread(
            () -> race(together, rounds, i -> reclaims[i] = source.reclaim(100 + i, 1 + i), failed), "source");
        targetThread.start();
        sourceThread.start();
        targetThread.join(60_000);
        sourceThread.join(60_000);
        assertFalse(targetThread.isAlive() || sourceThread.isAlive(), "the race ended within 60 s");
        assertNull(failed.get(), () -> "a side failed: " + failed.get());
        int moved = 0;
        for (int i = 0; i < rounds; i++)
        {
            final long vm = 100 + i;
            final long m = 1 + i;
            final String what = "vm " + vm + ": " + moves[i] + " / " + reclaims[i];
            assertTrue(OK == moves[i].status() ^ OK == reclaims[i].status(), "exactly one wins: " + what);
            final RegistryClient.Ownership now = target.query(vm);
            if (OK == moves[i].status())
            {
                moved++;
                assertOwnership(now, OK, t, 2, m, 0);
                // the source learns from its MISMATCH that the target won
                assertOwnership(reclaims[i], MISMATCH, t, 2, m, 0);
            }
            else
            {
                assertOwnership(now, OK, s, 2, m, m);
                assertOwnership(moves[i], MISMATCH, s, 2, m, m);
            }
        }
        print("test", moved + " of " + rounds + " races won by the MOVE");

        // a lost reply: the client QUERYs, finds its own MOVE (or RECLAIM) applied, and it was applied once
        assertOwnership(source.admit(200), OK, s, 1, 0, 0);
        final long unknownBefore = target.unknownOutcomes();
        target.dropReplies(1);
        assertOwnership(target.move(200, s, 7), OK, t, 2, 7, 0);
        assertEquals(unknownBefore + 1, target.unknownOutcomes());
        source.dropReplies(1);
        assertOwnership(source.reclaim(1, 8), MISMATCH, t, 3, 6, 0); // lost reply of a refusal: still a refusal
        target.dropReplies(1);
        assertOwnership(target.reclaim(200, 3), OK, t, 3, 3, 3);
        assertOwnership(source.query(200), OK, t, 3, 3, 3);
        source.dropReplies(1);
        assertOwnership(source.move(200, t, 3), MISMATCH, t, 3, 3, 3); // fenced, and the QUERY says so
        assertOwnership(source.move(200, t, 4), OK, s, 4, 4, 0);
        assertTrue(log.stream().noneMatch(l -> l.contains("registry service:")), "no service errors: " + log);
    }

    private static void race(
        final CyclicBarrier together, final int rounds, final IntConsumer command, final AtomicReference<Throwable> failed)
    {
        try
        {
            for (int i = 0; i < rounds; i++)
            {
                together.await(30, TimeUnit.SECONDS); // both sides send round i at the same moment
                command.accept(i);
            }
        }
        catch (final Throwable ex)
        {
            failed.compareAndSet(null, ex);
            together.reset(); // the other side stops waiting for this one
        }
    }

    @Test
    void aClientThatRunsItsOwnDriverIsAnsweredAndItsCloseReachesTheRegistry()
    {
        // 30 s: a close that never left the client would be noticed only at the session timeout
        final RegistryMember member = member(freeUdpPorts(RegistryMember.PORTS_PER_MEMBER), 30);
        final List<Integer> downs = new java.util.concurrent.CopyOnWriteArrayList<>();
        final RegistryClient watcher = client(member, downs);
        watcher.register("watcher", "127.0.0.1:41010", CAPACITY, "");
        final RegistryClient caller = client(member, new ArrayList<>(), null, true); // as a node's: the driver on its thread
        final int node = caller.register("node-a", "127.0.0.1:41011", CAPACITY, "");
        assertOwnership(caller.admit(500), OK, node, 1, 0);
        assertOwnership(caller.compareAndSet(500, node, 1, 7), OK, node, 2, 7);
        assertOwnership(watcher.query(500), OK, node, 2, 7);
        final long closing = System.nanoTime();
        caller.close();
        await("NODE_DOWN for the closed node, well before its session timeout", 10_000, () -> downs.contains(node),
            watcher);
        System.out.println("NODE_DOWN " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing) + " ms after the close");
    }

    @Test
    void loadReportsAndADirectoryOfSeveralPages()
    {
        final RegistryMember member = member(freeUdpPorts(RegistryMember.PORTS_PER_MEMBER), 30);
        // one media driver for every client here: 15 nodes, not 15 drivers on a small machine
        final MediaDriver driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
            .threadingMode(ThreadingMode.SHARED)
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .termBufferSparseFile(true)
            .publicationTermBufferLength(64 * 1024)
            .ipcTermBufferLength(64 * 1024)
            .printConfigurationOnStart(false));
        toClose.add(driver);
        final List<Integer> downs = new CopyOnWriteArrayList<>();
        final RegistryClient reader = client(member, downs, driver.aeronDirectoryName());
        assertEquals(List.of(), reader.directory());
        final RegistryException notYet = assertThrows(RegistryException.class, () -> reader.report(1, 1));
        assertEquals(RegistryStatus.NOT_REGISTERED, notYet.status());
        assertFalse(notYet.getMessage().contains("\n"));

        // labels of 1,000 bytes: 7 nodes to a page, so 15 nodes take 3 pages
        final int count = 15;
        final List<RegistryClient> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            final RegistryClient node = client(member, new ArrayList<>(), driver.aeronDirectoryName());
            assertEquals(i + 1, node.register("node-" + i, "127.0.0.1:" + (42_000 + i), CAPACITY, i + ":" + "l".repeat(998)));
            nodes.add(node);
        }
        final long before = System.currentTimeMillis();
        for (int i = 0; i < count; i += 2)
        {
            nodes.get(i).report(i * 0.25, i);
        }
        assertEquals(RegistryStatus.MALFORMED, assertThrows(RegistryException.class, () -> nodes.get(1).report(-1, 0)).status());
        assertEquals(RegistryStatus.MALFORMED, assertThrows(RegistryException.class, () -> nodes.get(1).report(Double.NaN, 0)).status());

        List<RegistryClient.NodeInfo> directory = reader.directory();
        assertEquals(count, directory.size());
        for (int i = 0; i < count; i++)
        {
            final RegistryClient.NodeInfo info = directory.get(i);
            assertEquals(i + 1, info.nodeId(), info.toString());
            assertEquals("node-" + i, info.name());
            assertEquals("127.0.0.1:" + (42_000 + i), info.endpoint());
            assertEquals(i + ":" + "l".repeat(998), info.labels());
            assertEquals(CAPACITY.cores(), info.capacity().cores());
            assertEquals(CAPACITY.memoryBytes(), info.capacity().memoryBytes());
            assertTrue(info.up());
            assertEquals(i % 2 == 0, info.reported(), info.toString());
            assertEquals(i % 2 == 0 ? i * 0.25 : 0, info.load());
            assertEquals(i % 2 == 0 ? i : 0, info.vmCount());
            if (info.reported())
            {
                // the cluster's clock (this machine's, on loopback): the time the report came
                assertTrue(info.reportTime() >= before - 1_000 && info.reportTime() <= System.currentTimeMillis() + 1_000,
                    info.toString());
            }
            else
            {
                assertEquals(RegistryState.NO_REPORT, info.reportTime());
            }
        }

        // a later report replaces the last one; a node that goes down keeps its last report
        final long firstTime = directory.get(0).reportTime();
        nodes.get(0).report(3.5, 12);
        nodes.get(2).close();
        await("NODE_DOWN for node 3", 15_000, () -> downs.contains(3), nodes.get(0), reader);
        directory = reader.directory();
        assertEquals(3.5, directory.get(0).load());
        assertEquals(12, directory.get(0).vmCount());
        assertTrue(directory.get(0).reportTime() >= firstTime);
        assertFalse(directory.get(2).up());
        assertEquals(0.5, directory.get(2).load());
        assertTrue(log.stream().noneMatch(l -> l.contains("registry service:")), "no service errors: " + log);
    }

    @Test
    void onlyClientsHoldingTheClusterSecretGetIn(@TempDir final Path secrets) throws IOException
    {
        // the secret as a node would have it: a file of mode 600 read by ClusterSecret
        final Path file = secrets.resolve("cluster.secret");
        Files.write(file, secret);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertArrayEquals(secret, ClusterSecret.read(file));

        final RegistryMember member = member(freeUdpPorts(RegistryMember.PORTS_PER_MEMBER), 30);
        final RegistryClient right = client(member, new ArrayList<>());
        final int node = right.register("node-a", "127.0.0.1:41001", CAPACITY, "");
        assertOwnership(right.admit(1), OK, node, 1, 0);

        // a wrong secret: refused, at once (not after the 60 s connect timeout), in one line
        final byte[] wrongSecret = randomSecret();
        final long start = System.nanoTime();
        final RegistryException wrong = assertThrows(RegistryException.class, () -> RegistryClient.connect(
            new RegistryClient.Context().members(member.ingressEndpoints()).secret(wrongSecret)
                .connectTimeout(60, TimeUnit.SECONDS).log(line -> print("wrong", line))).close());
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(RegistryStatus.UNAUTHENTICATED, wrong.status());
        assertFalse(wrong.getMessage().contains("\n"), wrong.getMessage());
        assertTrue(wrong.getMessage().startsWith("the registry at " + member.ingressEndpoints() +
            " refused this client's credentials"), wrong.getMessage());
        assertTrue(wrong.getMessage().endsWith("its cluster secret is not the registry's"), wrong.getMessage());
        assertTrue(tookMs < 20_000, "refused in " + tookMs + " ms, well under the connect timeout");

        // no secret at all: refused too
        final RegistryException none = assertThrows(RegistryException.class, () -> RegistryClient.connect(
            new RegistryClient.Context().members(member.ingressEndpoints()).insecureForTests()
                .connectTimeout(60, TimeUnit.SECONDS).log(line -> print("none", line))).close());
        assertEquals(RegistryStatus.UNAUTHENTICATED, none.status());
        assertTrue(none.getMessage().endsWith("it has no cluster secret"), none.getMessage());
        print("test", "refused: " + wrong.getMessage() + " / " + none.getMessage() + " (the first in " + tookMs + " ms)");
        assertTrue(log.stream().anyMatch(l -> l.startsWith("registry member 0: refused client session")), log.toString());

        // a client or a member without a secret is not even started, unless a test says so
        final IllegalArgumentException noClientSecret = assertThrows(IllegalArgumentException.class,
            () -> RegistryClient.connect(new RegistryClient.Context().members(member.ingressEndpoints())));
        assertTrue(noClientSecret.getMessage().startsWith("registry client: no cluster secret given"), noClientSecret.getMessage());
        final IllegalArgumentException noMemberSecret = assertThrows(IllegalArgumentException.class,
            () -> RegistryMember.launch(new RegistryMember.Context().memberId(0).members("0=127.0.0.1:1").dataDir(secrets.toFile())));
        assertTrue(noMemberSecret.getMessage().startsWith("registry member 0: no cluster secret given"), noMemberSecret.getMessage());

        // the member admitted its own client all along
        assertOwnership(right.query(1), OK, node, 1, 0);
    }

    @Test
    void anInsecureRegistryForTestsLetsAClientWithoutASecretIn()
    {
        final int base = freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        final RegistryMember member = RegistryMember.launch(new RegistryMember.Context()
            .memberId(0).members("0=" + LOOPBACK + ":" + base).dataDir(dataDir.toFile()).insecureForTests()
            .log(line -> print("member", line)));
        toClose.add(member);
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(member.ingressEndpoints()).insecureForTests().connectTimeout(30, TimeUnit.SECONDS)
            .log(line -> print("client", line)));
        toClose.add(client);
        assertEquals(1, client.register("node-a", "127.0.0.1:41001", CAPACITY, ""));
    }

    @Test
    void anUnreachableRegistryIsOneLineNamingIt()
    {
        final int base = freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        final String members = "0=" + LOOPBACK + ":" + base;
        final RegistryException ex = assertThrows(RegistryException.class, () -> RegistryClient.connect(
            new RegistryClient.Context().members(members).secret(secret).connectTimeout(1, TimeUnit.SECONDS)
                .log(l -> { })).close());
        assertFalse(ex.getMessage().contains("\n"));
        assertTrue(ex.getMessage().startsWith("cannot reach the registry at " + members), ex.getMessage());
    }

    private static void assertOwnership(
        final RegistryClient.Ownership ownership, final RegistryStatus status, final int owner, final long epoch,
        final long migrationId)
    {
        assertEquals(status, ownership.status(), ownership.toString());
        assertEquals(owner, ownership.owner(), ownership.toString());
        assertEquals(epoch, ownership.epoch(), ownership.toString());
        assertEquals(migrationId, ownership.migrationId(), ownership.toString());
    }

    private static void assertOwnership(
        final RegistryClient.Ownership ownership, final RegistryStatus status, final int owner, final long epoch,
        final long migrationId, final long fence)
    {
        assertOwnership(ownership, status, owner, epoch, migrationId);
        assertEquals(fence, ownership.fence(), ownership.toString());
    }

    /** @return 32 random bytes, as {@code head -c 32 /dev/urandom} would give. */
    static byte[] randomSecret()
    {
        final byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        return secret;
    }

    private static void await(
        final String what, final long timeoutMs, final BooleanSupplier done, final RegistryClient... keepAlive)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!done.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out after " + timeoutMs + " ms waiting for " + what);
            }
            for (final RegistryClient client : keepAlive)
            {
                client.poll();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L); // between polls of the condition
        }
    }

    /** @return the first of {@code count} consecutive UDP ports on loopback that were free a moment ago. */
    static int freeUdpPorts(final int count)
    {
        return io.vmsched.aeron.LoopbackPorts.freeUdpPorts(count);
    }
}

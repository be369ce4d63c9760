package io.vmsched.aeron.registry;

import io.vmsched.load.HostCapacity;
import org.agrona.CloseHelper;
import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.vmsched.aeron.registry.RegistryStatus.MISMATCH;
import static io.vmsched.aeron.registry.RegistryStatus.OK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A 1-member registry on loopback: clients register, admit, move VMs by CAS; a stale CAS is refused;
 * a closed and a silent session mark their node down; the member restarts from its snapshot and the
 * log after it with the owner table intact.
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
        final RegistryMember member = RegistryMember.launch(new RegistryMember.Context()
            .memberId(0)
            .members("0=" + LOOPBACK + ":" + basePort)
            .dataDir(dataDir.toFile())
            .sessionTimeout(2, TimeUnit.SECONDS)
            .log(line -> print("member", line)));
        toClose.add(member);
        return member;
    }

    private RegistryClient client(final RegistryMember member, final List<Integer> downs)
    {
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(member.ingressEndpoints())
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
        // the down node's name comes back with its id; the stale CAS is still refused
        assertEquals(nodeA, again.register("node-a", "127.0.0.1:41005", CAPACITY, ""));
        assertOwnership(again.compareAndSet(100, nodeA, 1, 556), MISMATCH, nodeB, 2, 555);
        assertOwnership(again.compareAndSet(100, nodeB, 2, 557), OK, nodeA, 3, 557);
    }

    @Test
    void anUnreachableRegistryIsOneLineNamingIt()
    {
        final int base = freeUdpPorts(RegistryMember.PORTS_PER_MEMBER);
        final String members = "0=" + LOOPBACK + ":" + base;
        final RegistryException ex = assertThrows(RegistryException.class, () -> RegistryClient.connect(
            new RegistryClient.Context().members(members).connectTimeout(1, TimeUnit.SECONDS).log(l -> { })).close());
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
        for (int attempt = 0; attempt < 200; attempt++)
        {
            final int base = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            boolean free = true;
            for (int i = 0; i < count && free; i++)
            {
                try (DatagramSocket socket = new DatagramSocket(
                    new InetSocketAddress(InetAddress.getByName(LOOPBACK), base + i)))
                {
                    socket.getLocalPort();
                }
                catch (final IOException ex)
                {
                    free = false;
                }
            }
            if (free)
            {
                return base;
            }
        }
        throw new IllegalStateException("no " + count + " consecutive free UDP ports on " + LOOPBACK);
    }
}

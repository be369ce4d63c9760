package io.vmsched.aeron.registry;

import io.vmsched.load.HostCapacity;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.vmsched.aeron.registry.RegistryStatus.MISMATCH;
import static io.vmsched.aeron.registry.RegistryStatus.OK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A 3-member registry on loopback (one JVM, each member its own ports, driver and directories): a
 * leader is elected; the leader is killed (its driver first: it falls silent as a crashed process
 * would), the two others elect a new one, the clients follow it, the owner table is intact, and a CAS
 * whose reply was lost across the failover is applied once and reported as applied.
 */
@Timeout(180)
class RegistryThreeMemberTest
{
    private static final HostCapacity CAPACITY = new HostCapacity(2, 1, 1e8, 4e9);
    private static final int MEMBERS = 3;
    private static final long ELECTION_WAIT_MS = 60_000;

    @TempDir
    Path dataDir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final RegistryMember[] members = new RegistryMember[MEMBERS];
    private final byte[] secret = RegistryClusterTest.randomSecret();

    @AfterEach
    void closeAll()
    {
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(toClose.get(i));
        }
    }

    private void launchMembers()
    {
        final int base = RegistryClusterTest.freeUdpPorts(MEMBERS * RegistryMember.PORTS_PER_MEMBER);
        final StringBuilder list = new StringBuilder();
        for (int id = 0; id < MEMBERS; id++)
        {
            list.append(id == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(base + id * RegistryMember.PORTS_PER_MEMBER);
        }
        for (int id = 0; id < MEMBERS; id++)
        {
            final String who = "member " + id;
            members[id] = RegistryMember.launch(new RegistryMember.Context()
                .memberId(id)
                .members(list.toString())
                .dataDir(dataDir.resolve("member-" + id).toFile())
                .sessionTimeout(5, TimeUnit.SECONDS)
                .leaderHeartbeatTimeout(2, TimeUnit.SECONDS) // a killed leader is noticed in 2 s, not 10
                .electionTimeout(1, TimeUnit.SECONDS)
                .secret(secret)
                .log(line -> print(who, line)));
            toClose.add(members[id]);
        }
    }

    /** Nodes the registry announced down, as any client heard it. */
    private final java.util.Set<Integer> downs = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private RegistryClient client(final String name)
    {
        final RegistryClient client = RegistryClient.connect(new RegistryClient.Context()
            .members(members[0].ingressEndpoints())
            .secret(secret)
            .connectTimeout(60, TimeUnit.SECONDS)
            .callTimeout(60, TimeUnit.SECONDS)
            .replyTimeout(1, TimeUnit.SECONDS)
            .keepAliveInterval(300, TimeUnit.MILLISECONDS)
            .log(line -> print(name, line))
            .nodeDownListener(downs::add));
        toClose.add(client);
        return client;
    }

    private void print(final String who, final String line)
    {
        log.add(line);
        System.out.println("[" + who + "] " + line);
    }

    @Test
    void electsALeaderAndClientsFollowANewOneAfterTheLeaderIsKilled()
    {
        launchMembers();
        final RegistryMember first = awaitLeader(null);
        final RegistryClient a = client("client a");
        final RegistryClient b = client("client b");
        final int nodeA = a.register("node-a", "127.0.0.1:41001", CAPACITY, "");
        final int nodeB = b.register("node-b", "127.0.0.1:41002", CAPACITY, "");

        assertOwnership(a.admit(100), OK, nodeA, 1, 0);
        assertOwnership(a.admit(101), OK, nodeA, 1, 0);
        assertOwnership(b.compareAndSet(100, nodeA, 1, 11), OK, nodeB, 2, 11);
        assertOwnership(a.compareAndSet(100, nodeA, 1, 12), MISMATCH, nodeB, 2, 11);

        first.kill();
        final RegistryMember second = awaitLeader(first, a, b);
        assertNotSame(first, second);

        // the next CAS goes to the new leader (the session follows it, or a new one is opened)
        assertOwnership(b.compareAndSet(100, nodeB, 2, 13), OK, nodeB, 3, 13);
        // the owner table is intact on the new leader: the stale CAS is still refused
        assertOwnership(a.compareAndSet(100, nodeA, 1, 12), MISMATCH, nodeB, 3, 13);
        assertOwnership(a.query(101), OK, nodeA, 1, 0);
        assertOwnership(b.compareAndSet(101, nodeA, 1, 14), OK, nodeB, 2, 14);
        assertOwnership(a.query(100), OK, nodeB, 3, 13);
        assertOwnership(b.query(101), OK, nodeB, 2, 14);
        // both kept their node ids (one session each, followed or opened again)
        assertEquals(nodeA, a.nodeId());
        assertEquals(nodeB, b.nodeId());
        assertTrue(a.leaderChanges() + a.newSessions() > 0 || a.unknownOutcomes() > 0, "client a followed the failover");
        print("test", "client a: " + a.leaderChanges() + " leader changes, " + a.newSessions() + " new sessions; client b: " +
            b.leaderChanges() + " leader changes, " + b.newSessions() + " new sessions, " + b.unknownOutcomes() + " unknown outcomes");

        // a session the registry closed (silent past the 5 s session timeout): the next call opens a new
        // one and registers the node again; it gets its id back, and its VMs with it
        final long sessionsBefore = a.newSessions();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!downs.contains(nodeA)) // until the registry announces a's node down (its session timed out)
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("the registry did not announce node " + nodeA + " down within 60 s of its silence");
            }
            b.poll();
            pause();
        }
        assertOwnership(a.query(100), OK, nodeB, 3, 13);
        assertEquals(sessionsBefore + 1, a.newSessions());
        assertEquals(nodeA, a.nodeId());
        assertOwnership(a.compareAndSet(101, nodeB, 2, 15), OK, nodeA, 3, 15);
        assertOwnership(b.compareAndSet(101, nodeB, 2, 16), MISMATCH, nodeA, 3, 15);
        assertOwnership(b.query(101), OK, nodeA, 3, 15);
    }

    @Test
    void aCasWhoseReplyIsLostIsResolvedByQueryAndAppliedOnceEvenAcrossAFailover()
    {
        launchMembers();
        final RegistryMember first = awaitLeader(null);
        final RegistryClient a = client("client a");
        final RegistryClient b = client("client b");
        final int nodeA = a.register("node-a", "127.0.0.1:41001", CAPACITY, "");
        final int nodeB = b.register("node-b", "127.0.0.1:41002", CAPACITY, "");
        assertOwnership(a.admit(200), OK, nodeA, 1, 0);
        assertOwnership(a.admit(201), OK, nodeA, 1, 0);

        // the reply is lost, the leader alive: the client QUERYs and finds its own CAS applied
        b.dropReplies(1);
        assertOwnership(b.compareAndSet(201, nodeA, 1, 31), OK, nodeB, 2, 31);
        assertTrue(b.unknownOutcomes() >= 1, "the lost reply was noticed");
        assertOwnership(a.query(201), OK, nodeB, 2, 31);

        // the reply is lost and the leader killed before the client learns anything: the QUERY goes to
        // the new leader, whose log has the CAS (it was committed, so a majority holds it)
        final boolean[] killed = {false};
        b.onUnknownOutcome(() ->
        {
            if (!killed[0])
            {
                killed[0] = true;
                first.kill();
            }
        });
        b.dropReplies(1);
        assertOwnership(b.compareAndSet(200, nodeA, 1, 21), OK, nodeB, 2, 21);
        assertTrue(killed[0]);
        final RegistryMember second = awaitLeader(first, a, b);
        assertNotSame(first, second);
        print("test", "client b: " + b.leaderChanges() + " leader changes, " + b.newSessions() + " new sessions, " +
            b.unknownOutcomes() + " unknown outcomes");

        // applied once: epoch 2, not 3; a plain repetition now is refused as stale, with the entry it wrote
        assertOwnership(a.query(200), OK, nodeB, 2, 21);
        assertOwnership(b.compareAndSet(200, nodeA, 1, 21), MISMATCH, nodeB, 2, 21);
        assertOwnership(a.compareAndSet(200, nodeA, 1, 22), MISMATCH, nodeB, 2, 21);
        // and the table goes on from there on the new leader
        assertOwnership(a.compareAndSet(200, nodeB, 2, 23), OK, nodeA, 3, 23);
        assertOwnership(b.query(201), OK, nodeB, 2, 31);
    }

    private RegistryMember awaitLeader(final RegistryMember not, final RegistryClient... keepAlive)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ELECTION_WAIT_MS);
        while (true)
        {
            for (final RegistryMember member : members)
            {
                if (member != not && member.isLeader())
                {
                    return member;
                }
            }
            if (System.nanoTime() - deadline > 0)
            {
                fail("no leader elected within " + ELECTION_WAIT_MS + " ms");
            }
            for (final RegistryClient client : keepAlive)
            {
                client.poll(); // keep-alives, and the NEW_LEADER event
            }
            pause();
        }
    }

    /** Between polls of a condition: not a wait for anything (every wait above has its deadline). */
    private static void pause()
    {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
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
}

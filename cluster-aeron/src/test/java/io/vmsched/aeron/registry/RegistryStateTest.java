package io.vmsched.aeron.registry;

import io.vmsched.load.HostCapacity;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.vmsched.aeron.registry.RegistryStatus.ABSENT;
import static io.vmsched.aeron.registry.RegistryStatus.EXISTS;
import static io.vmsched.aeron.registry.RegistryStatus.MALFORMED;
import static io.vmsched.aeron.registry.RegistryStatus.MISMATCH;
import static io.vmsched.aeron.registry.RegistryStatus.NAME_TAKEN;
import static io.vmsched.aeron.registry.RegistryStatus.NOT_CALLER;
import static io.vmsched.aeron.registry.RegistryStatus.NOT_REGISTERED;
import static io.vmsched.aeron.registry.RegistryStatus.OK;
import static io.vmsched.aeron.registry.RegistryStatus.SESSION_HAS_NODE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegistryStateTest
{
    private static final HostCapacity CAPACITY = new HostCapacity(4, 1, 1e9, 8e9);
    private static final long S1 = 11;
    private static final long S2 = 12;
    private static final long S3 = 13;

    private final RegistryState state = new RegistryState();

    private int register(final long session, final String name)
    {
        assertEquals(OK, state.register(session, name, "127.0.0.1:4000" + session % 10, CAPACITY, "rack=a"));
        return state.nodeIdOfSession(session);
    }

    @Test
    void namesGetIdsInOrderAndALiveNameIsRefused()
    {
        assertEquals(1, register(S1, "a"));
        assertEquals(2, register(S2, "b"));
        assertEquals(NAME_TAKEN, state.register(S3, "a", "127.0.0.1:5000", CAPACITY, ""));
        assertEquals(RegistryState.NO_NODE, state.nodeIdOfSession(S3));
        assertEquals(SESSION_HAS_NODE, state.register(S1, "c", "127.0.0.1:5000", CAPACITY, ""));
        // a retried REGISTER of the same session is OK and keeps the id
        assertEquals(OK, state.register(S1, "a", "127.0.0.1:5001", CAPACITY, "x"));
        assertEquals(1, state.nodeIdOfSession(S1));
        assertEquals("127.0.0.1:5001", state.node(1).endpoint());
    }

    @Test
    void casSemantics()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        final int c = register(S3, "c");
        assertEquals(OK, state.admit(S1, 7, a));
        assertEquals(a, state.ownerOf(7));
        assertEquals(1, state.epochOf(7));
        assertEquals(EXISTS, state.admit(S2, 7, b));
        assertEquals(a, state.ownerOf(7));

        // two CAS expecting the same (owner, epoch): only the first applied succeeds
        assertEquals(OK, state.compareAndSet(S2, 7, a, 1, b, 100));
        assertEquals(MISMATCH, state.compareAndSet(S3, 7, a, 1, c, 101));
        assertEquals(MISMATCH, state.compareAndSet(S1, 7, a, 1, a, 100)); // the source's late reclaim
        assertEquals(b, state.ownerOf(7));
        assertEquals(2, state.epochOf(7));
        assertEquals(100, state.migrationIdOf(7));

        // the right owner with the wrong epoch, and the right epoch with the wrong owner
        assertEquals(MISMATCH, state.compareAndSet(S3, 7, b, 1, c, 102));
        assertEquals(MISMATCH, state.compareAndSet(S3, 7, c, 2, c, 102));
        assertEquals(OK, state.compareAndSet(S3, 7, b, 2, c, 102));
        assertEquals(ABSENT, state.compareAndSet(S3, 8, b, 1, c, 103));
        assertEquals(OK, state.query(7));
        assertEquals(ABSENT, state.query(8));
    }

    @Test
    void epochsOnlyGrow()
    {
        final int[] nodes = {register(S1, "a"), register(S2, "b"), register(S3, "c")};
        final long[] sessions = {S1, S2, S3};
        final Random random = new Random(42);
        for (long vm = 1; vm <= 20; vm++)
        {
            assertEquals(OK, state.admit(S1, vm, nodes[0]));
        }
        final long[] lastEpoch = new long[21];
        for (int i = 0; i < 5_000; i++)
        {
            final long vm = 1 + random.nextInt(20);
            final int caller = random.nextInt(3);
            final int expectOwner = nodes[random.nextInt(3)];
            final long expectEpoch = Math.max(1, state.epochOf(vm) - random.nextInt(2));
            final long before = state.epochOf(vm);
            final int ownerBefore = state.ownerOf(vm);
            final RegistryStatus status = state.compareAndSet(sessions[caller], vm, expectOwner, expectEpoch, nodes[caller], i);
            final boolean expected = ownerBefore == expectOwner && before == expectEpoch;
            assertEquals(expected ? OK : MISMATCH, status);
            assertEquals(expected ? before + 1 : before, state.epochOf(vm));
            assertTrue(state.epochOf(vm) >= lastEpoch[(int)vm]);
            lastEpoch[(int)vm] = state.epochOf(vm);
        }
    }

    @Test
    void aReclaimFencesOffItsMigrationAndEarlierOnesButNotALaterOne()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        final int c = register(S3, "c");
        assertEquals(OK, state.admit(S1, 1, a));
        assertEntry(1, a, 1, 0, 0);

        // the source gives migration 5 up: its target's MOVE of 5, or of an earlier one, fails
        assertEquals(OK, state.reclaim(S1, 1, 5));
        assertEntry(1, a, 2, 5, 5);
        assertEquals(MISMATCH, state.move(S2, 1, a, 5));
        assertEquals(MISMATCH, state.move(S2, 1, a, 4));
        assertEntry(1, a, 2, 5, 5);
        // a reclaim of an earlier migration keeps the fence where it is
        assertEquals(OK, state.reclaim(S1, 1, 3));
        assertEntry(1, a, 3, 3, 5);

        // the source's next migration (a larger id) commits: the target owns it, a fresh tenure, fence 0
        assertEquals(OK, state.move(S2, 1, a, 6));
        assertEntry(1, b, 4, 6, 0);
        // the source's late reclaim of 6 finds the target's entry: 'committed'
        assertEquals(MISMATCH, state.reclaim(S1, 1, 6));
        assertEntry(1, b, 4, 6, 0);
        // a move from a node that no longer owns it fails, whatever its migration id
        assertEquals(MISMATCH, state.move(S3, 1, a, 100));
        // the new owner's own ids start their own sequence: a small one moves it on
        assertEquals(OK, state.move(S3, 1, b, 1));
        assertEntry(1, c, 5, 1, 0);

        // a CAS to another owner starts a tenure too (fence 0); one that keeps the owner keeps the fence
        assertEquals(OK, state.reclaim(S3, 1, 9));
        assertEquals(OK, state.compareAndSet(S3, 1, c, 6, c, 10));
        assertEntry(1, c, 7, 10, 9);
        assertEquals(OK, state.compareAndSet(S1, 1, c, 7, a, 11));
        assertEntry(1, a, 8, 11, 0);
    }

    @Test
    void aStaleMoveFromAnEarlierTenureOfTheSourceIsRefusedByTheTenureFence()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        final int c = register(S3, "c");
        assertEquals(OK, state.admit(S1, 1, a));
        // a's migration 5 to c: c's MOVE is delayed; a reclaims 5
        assertEquals(OK, state.reclaim(S1, 1, 5));
        // a's migration 6 to b commits; b's tenure starts above b's own ids so far (say 40)
        assertEquals(OK, state.move(S2, 1, a, 6, 40));
        assertEntry(1, b, 3, 6, 40);
        // back to a by b's migration 41: a's tenure starts above every id a used (6)
        assertEquals(OK, state.move(S1, 1, b, 41, 6));
        assertEntry(1, a, 4, 41, 6);
        // c's MOVE of migration 5 arrives at last: a owns the VM again, but 5 is of a's earlier tenure
        assertEquals(MISMATCH, state.move(S3, 1, a, 5, 0));
        assertEquals(MISMATCH, state.move(S3, 1, a, 6, 0));
        assertEntry(1, a, 4, 41, 6);
        // a's next migration (7) moves it
        assertEquals(OK, state.move(S3, 1, a, 7, 0));
        assertEntry(1, c, 5, 7, 0);
        assertEquals(MALFORMED, state.move(S1, 1, c, 8, -1));
    }

    @Test
    void theDirectoryVersionChangesWithTheDirectoryOnlyAndSurvivesASnapshot()
    {
        final int v0 = state.directoryVersion();
        final int a = register(S1, "a");
        final int v1 = state.directoryVersion();
        assertNotEquals(v0, v1, "a node joined");
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(OK, state.report(S1, 0.5, 1, 10));
        assertEquals(v1, state.directoryVersion(), "an admission or a report is not a change of the directory");
        assertEquals(a, state.sessionClosed(S1));
        final int v2 = state.directoryVersion();
        assertNotEquals(v1, v2, "a node went down");
        register(S2, "a");
        assertNotEquals(v2, state.directoryVersion(), "it came back");
        final org.agrona.ExpandableArrayBuffer buffer = new org.agrona.ExpandableArrayBuffer();
        final int length = state.snapshot(buffer, 0);
        final RegistryState restored = new RegistryState();
        restored.restore(buffer, 0, length);
        assertEquals(state.directoryVersion(), restored.directoryVersion());
    }

    @Test
    void aReleaseRemovesTheOwnersEntryOnly()
    {
        final int a = register(S1, "a");
        register(S2, "b");
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(MISMATCH, state.release(S2, 1));
        assertEquals(NOT_REGISTERED, state.release(S3, 1));
        assertEquals(a, state.ownerOf(1));
        assertEquals(OK, state.release(S1, 1));
        assertEquals(ABSENT, state.query(1));
        assertEquals(ABSENT, state.release(S1, 1));
        assertEquals(OK, state.admit(S2, 1, state.nodeIdOfSession(S2)));
    }

    @Test
    void moveAndReclaimRefuseWhatTheyMustAndChangeNothing()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(ABSENT, state.move(S2, 2, a, 1));
        assertEquals(ABSENT, state.reclaim(S1, 2, 1));
        assertEquals(NOT_REGISTERED, state.move(S3, 1, a, 1));
        assertEquals(NOT_REGISTERED, state.reclaim(S3, 1, 1));
        assertEquals(MALFORMED, state.move(S2, 1, a, 0));
        assertEquals(MALFORMED, state.move(S2, 1, a, -1));
        assertEquals(MALFORMED, state.move(S2, 1, 0, 1));
        assertEquals(MALFORMED, state.move(S1, 1, a, 1)); // from itself: it would clear its own fence
        assertEquals(MALFORMED, state.reclaim(S1, 1, 0));
        assertEquals(MISMATCH, state.reclaim(S2, 1, 1)); // not the owner
        assertEntry(1, a, 1, 0, 0);

        // a target completes the migration of a source that went down after its TRANSFER
        assertEquals(a, state.sessionClosed(S1));
        assertEquals(OK, state.move(S2, 1, a, 1));
        assertEntry(1, b, 2, 1, 0);
    }

    @Test
    void aMoveAndAReclaimOfOneMigrationNeverBothApply()
    {
        final int source = register(S1, "source");
        final int target = register(S2, "target");
        final Random random = new Random(7);
        for (long vm = 1; vm <= 2_000; vm++)
        {
            assertEquals(OK, state.admit(S1, vm, source));
            // an earlier reclaim may have fenced some ids off already
            final long fenceBefore = random.nextBoolean() ? 0 : 1 + random.nextInt(10);
            if (fenceBefore > 0)
            {
                assertEquals(OK, state.reclaim(S1, vm, fenceBefore));
            }
            final long epochBefore = state.epochOf(vm);
            final long m = 1 + random.nextInt(12);
            final boolean moveFirst = random.nextBoolean();
            final RegistryStatus move;
            final RegistryStatus reclaim;
            if (moveFirst)
            {
                move = state.move(S2, vm, source, m);
                reclaim = state.reclaim(S1, vm, m);
            }
            else
            {
                reclaim = state.reclaim(S1, vm, m);
                move = state.move(S2, vm, source, m);
            }
            final String what = "vm " + vm + ", fence " + fenceBefore + ", migration " + m + (moveFirst ? ", move first" : ", reclaim first");
            assertFalse(OK == move && OK == reclaim, what);
            assertEquals(epochBefore + 1, state.epochOf(vm), what); // exactly one of them applied
            assertEquals(m, state.migrationIdOf(vm), what);
            if (OK == move)
            {
                // the source reads its MISMATCH as 'the target won': (target, *, m)
                assertEquals(MISMATCH, reclaim, what);
                assertEquals(target, state.ownerOf(vm), what);
                assertEquals(0, state.fenceOf(vm), what);
                assertTrue(moveFirst && m > fenceBefore, what);
            }
            else
            {
                assertEquals(OK, reclaim, what);
                assertEquals(source, state.ownerOf(vm), what);
                assertEquals(Math.max(m, fenceBefore), state.fenceOf(vm), what);
                assertTrue(!moveFirst || m <= fenceBefore, what);
            }
        }
    }

    @Test
    void reportsAreKeptWithTheirClusterTimeAndSurviveANodeGoingDown()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        assertEquals(RegistryState.NO_REPORT, state.node(a).reportTime());
        assertEquals(OK, state.report(S1, 0.75, 3, 1_000));
        assertEquals(OK, state.report(S1, 1.5, 4, 2_000));
        assertEquals(1.5, state.node(a).load());
        assertEquals(4, state.node(a).vmCount());
        assertEquals(2_000, state.node(a).reportTime());
        assertEquals(RegistryState.NO_REPORT, state.node(b).reportTime());

        assertEquals(NOT_REGISTERED, state.report(S3, 1, 1, 3_000));
        assertEquals(MALFORMED, state.report(S1, -0.1, 1, 3_000));
        assertEquals(MALFORMED, state.report(S1, Double.NaN, 1, 3_000));
        assertEquals(MALFORMED, state.report(S1, Double.POSITIVE_INFINITY, 1, 3_000));
        assertEquals(MALFORMED, state.report(S1, 1, -1, 3_000));
        assertEquals(2_000, state.node(a).reportTime());

        state.sessionClosed(S1);
        assertFalse(state.node(a).up());
        assertEquals(1.5, state.node(a).load());
        assertEquals(OK, state.register(S3, "a", "127.0.0.1:6000", CAPACITY, ""));
        assertEquals(4, state.node(a).vmCount());
    }

    @Test
    void directoryPagesListEveryNodeOnceInIdOrder()
    {
        // long labels: a few nodes per page, so the directory takes many pages
        final int nodes = 300;
        for (int i = 0; i < nodes; i++)
        {
            assertEquals(OK, state.register(1_000 + i, "node-" + i, "10.0.0." + (i % 250) + ":7000",
                CAPACITY, "l".repeat(i % 7 == 0 ? RegistryState.MAX_LABELS_LENGTH : 40)));
            if (i % 3 == 0)
            {
                assertEquals(OK, state.report(1_000 + i, i / 10.0, i, 5_000 + i));
            }
        }
        state.sessionClosed(1_000 + 17);
        final RegistryMessages.DirectoryPage page = new RegistryMessages.DirectoryPage();
        final RegistryMessages.DirectoryNode node = new RegistryMessages.DirectoryNode();
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
        int afterId = 0;
        int pages = 0;
        int expectedId = 1;
        do
        {
            final int length = RegistryService.writeDirectoryPage(state, page, buffer, 42, afterId);
            pages++;
            assertTrue(length <= RegistryMessages.DirectoryPage.MAX_LENGTH, "page of " + length + " bytes");
            page.wrapRead(buffer, 0);
            assertTrue(page.lengthMatches(length));
            assertFalse(page.lengthMatches(length - 1));
            assertEquals(42, page.correlationId());
            assertEquals(RegistryMessages.DIRECTORY_PAGE, RegistryMessages.type(buffer, 0));
            assertEquals(afterId, page.afterId());
            assertTrue(page.nodeCount() >= 1);
            int at = page.firstNode();
            for (int i = 0; i < page.nodeCount(); i++)
            {
                node.wrap(buffer, at);
                final int index = expectedId - 1;
                assertEquals(expectedId, node.nodeId());
                assertEquals("node-" + index, node.name());
                assertEquals("10.0.0." + (index % 250) + ":7000", node.endpoint());
                assertEquals(state.node(expectedId).labels(), node.labels());
                assertEquals(CAPACITY.memoryBytes(), node.memoryBytes());
                assertEquals(index != 17, node.up());
                assertEquals(index % 3 == 0 ? 5_000 + index : RegistryState.NO_REPORT, node.reportTime());
                assertEquals(index % 3 == 0 ? index / 10.0 : 0, node.load());
                assertEquals(index % 3 == 0 ? index : 0, node.vmCount());
                at += node.length();
                expectedId++;
            }
            afterId = page.nextAfterId();
            if (0 != afterId)
            {
                assertEquals(expectedId - 1, afterId);
            }
        }
        while (0 != afterId);
        assertEquals(nodes + 1, expectedId);
        assertTrue(pages > 10, pages + " pages");

        // an empty directory is one empty last page; so is a page after the last node
        final RegistryState empty = new RegistryState();
        final int length = RegistryService.writeDirectoryPage(empty, page, buffer, 1, 0);
        page.wrapRead(buffer, 0);
        assertEquals(RegistryMessages.DirectoryPage.BLOCK_LENGTH, length);
        assertEquals(0, page.nodeCount());
        assertEquals(0, page.nextAfterId());
        RegistryService.writeDirectoryPage(state, page, buffer, 1, nodes);
        assertEquals(0, page.wrapRead(buffer, 0).nodeCount());
    }

    @Test
    void aDownNodeKeepsItsVmsAndItsIdComesBackWithItsName()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(OK, state.admit(S1, 2, a));
        assertEquals(a, state.sessionClosed(S1));
        assertFalse(state.node(a).up());
        assertEquals(RegistryState.NO_NODE, state.sessionClosed(S1));
        assertEquals(a, state.ownerOf(1));
        assertEquals(a, state.ownerOf(2));
        assertEquals(NOT_REGISTERED, state.admit(S1, 3, a));

        // a target may still complete a migration whose source went down after its TRANSFER
        assertEquals(OK, state.compareAndSet(S2, 2, a, 1, b, 9));
        // the name comes back on a new session with its id and the VM it still holds
        assertEquals(OK, state.register(S3, "a", "127.0.0.1:6000", CAPACITY, ""));
        assertEquals(a, state.nodeIdOfSession(S3));
        assertTrue(state.node(a).up());
        assertEquals(a, state.ownerOf(1));
        assertEquals(1, state.epochOf(1));
    }

    @Test
    void badCommandsAreRefusedAndChangeNothing()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        assertEquals(MALFORMED, state.register(S3, "", "127.0.0.1:1", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "has space", "127.0.0.1:1", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "x".repeat(256), "127.0.0.1:1", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "c", "127.0.0.1", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "c", "127.0.0.1:0", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "c", "127.0.0.1:65536", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "c", ":80", CAPACITY, ""));
        assertEquals(MALFORMED, state.register(S3, "c", "127.0.0.1:80", null, ""));
        assertEquals(MALFORMED, state.register(S3, "c", "127.0.0.1:80", CAPACITY, "l".repeat(1025)));
        assertEquals(RegistryState.NO_NODE, state.nodeIdOfSession(S3));

        assertEquals(NOT_REGISTERED, state.admit(S3, 1, a));
        assertEquals(NOT_CALLER, state.admit(S1, 1, b));
        assertEquals(0, state.vmCount());
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(NOT_CALLER, state.compareAndSet(S1, 1, a, 1, b, 5));
        assertEquals(NOT_REGISTERED, state.compareAndSet(S3, 1, a, 1, a, 5));
        assertEquals(MALFORMED, state.compareAndSet(S2, 1, a, 0, b, 5));
        assertEquals(MALFORMED, state.compareAndSet(S2, 1, a, -1, b, 5));
        assertEquals(MALFORMED, state.compareAndSet(S2, 1, 0, 1, b, 5));
        assertEquals(a, state.ownerOf(1));
        assertEquals(1, state.epochOf(1));
    }

    @Test
    void snapshotRoundTrip()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        register(S3, "c\u00e9"); // a non-ASCII name
        for (long vm = 1; vm <= 500; vm++)
        {
            assertEquals(OK, state.admit(S1, vm * 7919, a));
        }
        assertEquals(OK, state.compareAndSet(S2, 7919, a, 1, b, 77));
        assertEquals(OK, state.reclaim(S1, 2 * 7919, 41));
        assertEquals(OK, state.report(S1, 2.25, 499, 123_456));
        state.sessionClosed(S3);

        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
        final int length = state.snapshot(buffer, 3);
        final RegistryState restored = new RegistryState();
        restored.restore(buffer, 3, length);

        final ExpandableArrayBuffer again = new ExpandableArrayBuffer(64);
        final int length2 = restored.snapshot(again, 0);
        assertEquals(length, length2);
        final byte[] first = new byte[length];
        final byte[] second = new byte[length2];
        buffer.getBytes(3, first);
        again.getBytes(0, second);
        assertArrayEquals(first, second);

        assertEquals(500, restored.vmCount());
        assertEquals(b, restored.ownerOf(7919));
        assertEquals(2, restored.epochOf(7919));
        assertEquals(77, restored.migrationIdOf(7919));
        assertEquals(0, restored.fenceOf(7919));
        assertEquals(41, restored.fenceOf(2 * 7919));
        assertEquals(2, restored.epochOf(2 * 7919));
        assertEquals(MISMATCH, restored.move(S2, 2 * 7919, a, 41)); // the fence holds after a restore
        assertEquals(2.25, restored.node(a).load());
        assertEquals(499, restored.node(a).vmCount());
        assertEquals(123_456, restored.node(a).reportTime());
        assertEquals(RegistryState.NO_REPORT, restored.node(b).reportTime());
        assertEquals(a, restored.ownerOf(2 * 7919));
        assertEquals(b, restored.nodeIdOfSession(S2));
        assertFalse(restored.node("c\u00e9").up());
        assertEquals("rack=a", restored.node(a).labels());
        assertEquals(8e9, restored.node(a).capacity().memoryBytes());
        // the next node id survives too: a new name does not reuse an old id
        assertEquals(OK, restored.register(99, "d", "127.0.0.1:1", CAPACITY, ""));
        assertEquals(4, restored.nodeIdOfSession(99));
        // and the live session still holds its name
        assertEquals(NAME_TAKEN, restored.register(98, "a", "127.0.0.1:1", CAPACITY, ""));
    }

    @Test
    void damagedSnapshotsAreRefusedInOneLineAndChangeNothing()
    {
        final int a = register(S1, "a");
        assertEquals(OK, state.admit(S1, 5, a));
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
        final int length = state.snapshot(buffer, 0);

        final RegistryState target = new RegistryState();
        final int t = register(target, S2, "t");
        assertEquals(OK, target.admit(S2, 6, t));

        for (int cut = 0; cut < length; cut++)
        {
            final int at = cut;
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> target.restore(buffer, 0, at));
            assertFalse(ex.getMessage().contains("\n"));
            assertTrue(ex.getMessage().startsWith("registry snapshot: "), ex.getMessage());
        }
        final UnsafeBuffer badMagic = new UnsafeBuffer(new byte[length]);
        badMagic.putBytes(0, buffer, 0, length);
        badMagic.putInt(0, 0);
        assertThrows(IllegalArgumentException.class, () -> target.restore(badMagic, 0, length));
        final UnsafeBuffer badOwner = new UnsafeBuffer(new byte[length]);
        badOwner.putBytes(0, buffer, 0, length);
        final int entriesEnd = length - 8; // the trailer of an empty placement: version, statement count
        badOwner.putInt(entriesEnd - RegistryState.SNAPSHOT_ENTRY_LENGTH + 8, 42, RegistryState.ORDER);
        assertThrows(IllegalArgumentException.class, () -> target.restore(badOwner, 0, length));
        final UnsafeBuffer badFence = new UnsafeBuffer(new byte[length]);
        badFence.putBytes(0, buffer, 0, length);
        badFence.putLong(entriesEnd - RegistryState.SNAPSHOT_ENTRY_LENGTH + 28, -1, RegistryState.ORDER);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> target.restore(badFence, 0, length))
            .getMessage().contains("negative fence"));
        final UnsafeBuffer badLoad = new UnsafeBuffer(new byte[length]);
        badLoad.putBytes(0, buffer, 0, length);
        badLoad.putDouble(RegistryState.SNAPSHOT_HEADER_LENGTH + 46, Double.NaN, RegistryState.ORDER);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> target.restore(badLoad, 0, length))
            .getMessage().contains("bad load report"));
        // a snapshot of the first version (no fences, no reports) is refused, not guessed at
        final UnsafeBuffer oldVersion = new UnsafeBuffer(new byte[length]);
        oldVersion.putBytes(0, buffer, 0, length);
        oldVersion.putInt(4, 1, RegistryState.ORDER);
        assertEquals("registry snapshot: unknown version 1 at byte 4",
            assertThrows(IllegalArgumentException.class, () -> target.restore(oldVersion, 0, length)).getMessage());

        assertEquals(t, target.ownerOf(6));
        assertEquals(RegistryState.NO_NODE, target.ownerOf(5));
    }

    private void assertEntry(final long vm, final int owner, final long epoch, final long migrationId, final long fence)
    {
        final String entry = "vm " + vm + " -> (" + state.ownerOf(vm) + ", " + state.epochOf(vm) + ", " +
            state.migrationIdOf(vm) + ", fence " + state.fenceOf(vm) + ")";
        assertEquals(owner, state.ownerOf(vm), entry);
        assertEquals(epoch, state.epochOf(vm), entry);
        assertEquals(migrationId, state.migrationIdOf(vm), entry);
        assertEquals(fence, state.fenceOf(vm), entry);
    }

    private static int register(final RegistryState s, final long session, final String name)
    {
        assertEquals(OK, s.register(session, name, "127.0.0.1:4000", CAPACITY, ""));
        return s.nodeIdOfSession(session);
    }

    @Test
    void hardRulesAreCheckedAtTheCommitPointAndAPlacementChangeIsAllOrNothing()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        assertEquals(OK, state.register(S3, "c", "127.0.0.1:40003", CAPACITY, "ssd,rack=b"));
        final int c = state.nodeIdOfSession(S3);
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(OK, state.admit(S2, 2, b));
        final StringBuilder reason = new StringBuilder();
        // a change whose second statement names an unknown VM applies nothing
        assertEquals(RegistryStatus.REFUSED, state.place(java.util.List.of("service web size=3",
            "anti-affinity apart hard vms=1,2,99"), reason));
        assertTrue(reason.toString().contains("99"), reason.toString());
        assertEquals(0, state.placementVersion());
        assertTrue(state.placementStatements().isEmpty());
        // a label no node carries is refused; rack=b is not a label a rule can name, ssd is
        reason.setLength(0);
        assertEquals(RegistryStatus.REFUSED, state.place(java.util.List.of("on-label fast hard label=nvme vms=1"), reason));
        assertEquals(OK, state.place(java.util.List.of("service web size=3 min=2", "join web vms=1,2,3",
            "anti-affinity apart hard service=web", "on-label fast soft label=ssd vms=1"), reason), reason.toString());
        assertEquals(1, state.placementVersion());

        // vm 3 (in web, not admitted yet) may not be admitted beside 1 on a; it may on c
        assertEquals(RegistryStatus.RULE, state.admit(S1, 3, a));
        assertEquals("apart", state.placement().constraints().rule(state.refusingRule()).name());
        assertEquals(RegistryState.NO_NODE, state.ownerOf(3));
        assertEquals(null, state.placement().serviceOf(3), "a VM refused entry leaves the service it joined to enter");
        assertEquals(2, state.placementVersion());
        assertEquals(OK, state.admit(S3, 3, c));
        // a move onto a node holding another member is refused and changes nothing; a soft rule never refuses
        assertEquals(RegistryStatus.RULE, state.move(S2, 1, a, 100, 0));
        assertEquals(a, state.ownerOf(1));
        assertEquals(1, state.epochOf(1));
        assertEquals(RegistryStatus.RULE, state.compareAndSet(S1, 2, b, 1, a, 7));
        assertEquals(b, state.ownerOf(2));
        assertEquals(OK, state.register(S3 + 1, "d", "127.0.0.1:40004", CAPACITY, ""));
        final int d = state.nodeIdOfSession(S3 + 1);
        assertEquals(OK, state.move(S3 + 1, 1, a, 100, 0), "off the ssd node breaks only a soft rule");
        // the rule removed, the move is allowed
        assertEquals(OK, state.place(java.util.List.of("delete-rule apart"), reason));
        assertEquals(OK, state.move(S1, 2, b, 200, 0));
        assertEquals(a, state.ownerOf(2));

        // the placement survives a snapshot, version and all
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
        final int length = state.snapshot(buffer, 0);
        final RegistryState restored = new RegistryState();
        restored.restore(buffer, 0, length);
        assertEquals(state.placementStatements(), restored.placementStatements());
        assertEquals(state.placementVersion(), restored.placementVersion());
        assertEquals(OK, restored.place(java.util.List.of("anti-affinity apart hard vms=1,2"), reason));
        assertEquals(RegistryStatus.RULE, restored.move(S3 + 1, 2, a, 300, 0),
            "the restored registry enforces a rule over VMs it restored (vm 1 runs on d)");
        assertEquals(d, restored.ownerOf(1));
    }

    @Test
    void theServicesAreJudgedAtEachChangeAndARestoredStateDoesNotTellThemAgain()
    {
        final int a = register(S1, "a");
        final int b = register(S2, "b");
        assertTrue(state.serviceChanges(1).isEmpty(), "no service, nothing to tell");
        assertEquals(OK, state.admit(S1, 1, a));
        assertEquals(OK, state.admit(S2, 2, b));
        assertEquals(OK, state.place(java.util.List.of("service web size=2 min=2", "join web vms=1,2"), new StringBuilder()));
        final java.util.List<io.vmsched.placement.ServiceStatus> first = state.serviceChanges(100);
        assertEquals(1, first.size(), first.toString());
        assertEquals(io.vmsched.placement.ServiceHealth.HEALTHY, first.get(0).health());
        assertEquals(null, first.get(0).previous(), "a new service's first status");
        assertEquals(100, first.get(0).epochMs(), "the command's cluster time, the same on every member");
        assertTrue(state.serviceChanges(101).isEmpty(), "nothing changed: nothing told");

        final org.agrona.ExpandableArrayBuffer buffer = new org.agrona.ExpandableArrayBuffer();
        final int length = state.snapshot(buffer, 0);
        final RegistryState restored = new RegistryState();
        restored.restore(buffer, 0, length);
        assertTrue(restored.serviceChanges(102).isEmpty(), "a restored member judged them again silently");

        for (final RegistryState s : java.util.List.of(state, restored))
        {
            assertEquals(b, s.sessionClosed(S2));
            final java.util.List<io.vmsched.placement.ServiceStatus> down = s.serviceChanges(200);
            assertEquals(1, down.size(), down.toString());
            assertEquals(io.vmsched.placement.ServiceHealth.FAILED, down.get(0).health());
            assertEquals(io.vmsched.placement.ServiceHealth.HEALTHY, down.get(0).previous());
            assertEquals("1 VMs running, fewer than its minimum 2", down.get(0).cause());
        }
        assertEquals(OK, state.place(java.util.List.of("delete-service web"), new StringBuilder()));
        assertTrue(state.serviceChanges(300).isEmpty(), "a deleted service is forgotten, not told");
    }
}

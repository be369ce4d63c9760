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
        badOwner.putInt(length - RegistryState.SNAPSHOT_ENTRY_LENGTH + 8, 42, RegistryState.ORDER);
        assertThrows(IllegalArgumentException.class, () -> target.restore(badOwner, 0, length));

        assertEquals(t, target.ownerOf(6));
        assertEquals(RegistryState.NO_NODE, target.ownerOf(5));
    }

    private static int register(final RegistryState s, final long session, final String name)
    {
        assertEquals(OK, s.register(session, name, "127.0.0.1:4000", CAPACITY, ""));
        return s.nodeIdOfSession(session);
    }
}

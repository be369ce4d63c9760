package io.vmsched.tools;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Tail} on journals being written: it delivers what was there and what is appended after it
 * started, returns when stopped from another thread, at its record limit, or at its deadline. Every
 * wait here is on a condition with a deadline, never a fixed sleep.
 */
class TailTest
{
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(20);

    /** What the follower saw, copied: a record is valid only during the call. */
    private record Seen(int host, long vmId)
    {
    }

    private static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + WAIT_NS;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what);
            LockSupport.parkNanos(1_000_000L);
        }
    }

    @Test
    void followsRecordsAppendedAfterItStartedAndStopsWhenAsked(@TempDir final Path dir) throws Exception
    {
        final ExecutorService follower = Executors.newSingleThreadExecutor();
        try (ChronicleJournal host0 = ChronicleJournal.open(dir.resolve("0"), 0);
            ChronicleJournal host1 = ChronicleJournal.open(dir.resolve("1"), 1))
        {
            host0.append(RecordType.HOST_STARTED, 0, -1, -1, 0, 0, 0);
            host1.append(RecordType.HOST_STARTED, 0, -1, -1, 0, 0, 0);
            try (Tail tail = Tail.open(dir))
            {
                assertArrayEquals(new int[] { 0, 1 }, tail.hosts());
                final List<Seen> seen = new CopyOnWriteArrayList<>();
                final Future<Long> followed = follower.submit(() ->
                    tail.follow((host, index, record) -> seen.add(new Seen(host, record.vmId())), 0));
                await("the records written before", () -> seen.size() == 2);

                for (long vm = 1; vm <= 5; vm++)
                {
                    (vm % 2 == 0 ? host0 : host1).append(RecordType.REMOVED, 0, vm, -1, 0, 0, 0);
                }
                await("the records appended after it started", () -> seen.size() == 7);
                assertEquals(List.of(1L, 3L, 5L), seen.stream().filter(s -> s.host() == 1 && s.vmId() > 0)
                    .map(Seen::vmId).toList(), "host 1's records in its order");
                assertEquals(List.of(2L, 4L), seen.stream().filter(s -> s.host() == 0 && s.vmId() > 0)
                    .map(Seen::vmId).toList(), "host 0's records in its order");

                assertFalse(followed.isDone(), "no limit and no deadline: still following");
                tail.stop();
                assertEquals(7L, followed.get(WAIT_NS, TimeUnit.NANOSECONDS), "returns once stopped");
                assertTrue(tail.stopped());
                assertEquals(0L, tail.follow((host, index, record) -> fail("stopped for good"), 0));
            }
        }
        finally
        {
            follower.shutdownNow();
            assertTrue(follower.awaitTermination(WAIT_NS, TimeUnit.NANOSECONDS));
        }
    }

    @Test
    void returnsAtItsRecordLimitAndAtItsDeadline(@TempDir final Path dir)
    {
        try (ChronicleJournal host0 = ChronicleJournal.open(dir.resolve("0"), 0))
        {
            for (long vm = 0; vm < 4; vm++)
            {
                host0.append(RecordType.REMOVED, 0, vm, -1, 0, 0, 0);
            }
            try (Tail tail = Tail.open(dir))
            {
                final List<Long> vms = new CopyOnWriteArrayList<>();
                assertEquals(3L, tail.follow((host, index, record) -> vms.add(record.vmId()), 3));
                assertEquals(List.of(0L, 1L, 2L), vms);

                // one record left, then a quiet journal: the deadline ends it
                final long timeoutNs = TimeUnit.MILLISECONDS.toNanos(300);
                final long start = System.nanoTime();
                final int[] idle = { 0 };
                assertEquals(1L, tail.follow(new Tail.Handler()
                {
                    @Override
                    public void onRecord(final int host, final long index, final io.vmsched.journal.JournalRecord record)
                    {
                        vms.add(record.vmId());
                    }

                    @Override
                    public void onIdle()
                    {
                        idle[0]++;
                    }
                }, 0, start + timeoutNs));
                final long took = System.nanoTime() - start;
                assertEquals(List.of(0L, 1L, 2L, 3L), vms);
                assertTrue(took >= timeoutNs, "not before its deadline: " + took + " ns");
                assertTrue(took < WAIT_NS, "at its deadline, not much later: " + took + " ns");
                assertTrue(idle[0] >= 1, "told when it caught up");
            }
        }
    }
}

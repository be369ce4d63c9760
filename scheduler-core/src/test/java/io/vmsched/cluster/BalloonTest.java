package io.vmsched.cluster;

import io.vmsched.balloon.Balloon;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.dispatch.Await;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;
import io.vmsched.guest.IdleGuest;
import io.vmsched.guest.MemoryHolderGuest;
import io.vmsched.journal.BalloonRecord;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class BalloonTest
{
    private static final long MIB = 1 << 20;
    private static final int UNCHANGED = BalloonRequest.UNCHANGED;

    /** Slices run per VM, counted by the test guests (a host makes its own guests from their snapshots). */
    static final Map<Long, AtomicLong> SLICES = new ConcurrentHashMap<>();
    /** Holds the slow balloon until the test lets it go. */
    static volatile CountDownLatch release = new CountDownLatch(0);

    /** A guest whose balloon throws, or blocks until {@link #release}, by its mode. */
    public static final class Misbehaving implements Guest
    {
        private String mode = "throw";

        public Misbehaving()
        {
        }

        Misbehaving(final String mode)
        {
            this.mode = mode;
        }

        @Override
        public void runSlice(final SliceContext context)
        {
            SLICES.computeIfAbsent(context.vmId(), k -> new AtomicLong()).incrementAndGet();
            context.idle();
        }

        @Override
        public Balloon balloon()
        {
            return request ->
            {
                if ("throw".equals(mode))
                {
                    throw new IllegalStateException("the guest's reservation module is broken");
                }
                try
                {
                    release.await(30, TimeUnit.SECONDS);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                }
                return new BalloonResult(request.requestId(), request.vmId(), Outcome.MET, request.memoryBytes(), -1, "");
            };
        }

        @Override
        public byte[] snapshot()
        {
            return mode.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public void restore(final byte[] state)
        {
            mode = new String(state, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static ClusterConfig config(final Path dir, final List<BalloonResult> told)
    {
        final ClusterConfig config = ClusterTest.config(1, dir);
        config.host.workers = 2;
        config.host.memoryBytes = 1L << 30;
        config.host.balloonTimeoutNs = 10_000_000_000L; // a busy machine's slices come late: no test waits on this
        config.listener = new ClusterListener()
        {
            @Override
            public void onBalloon(final BalloonResult result)
            {
                told.add(result);
            }
        };
        return config;
    }

    private static BalloonResult ask(final Cluster cluster, final long vmId, final long memory, final int processors)
        throws Exception
    {
        return cluster.balloon(vmId, memory, processors).get(20, TimeUnit.SECONDS);
    }

    private static long slices(final long vmId)
    {
        final AtomicLong n = SLICES.get(vmId);
        return n == null ? 0 : n.get();
    }

    @Test
    void inflatingMeetsTheTargetAndTheHostSeesTheMemoryGoThenDeflatingStopsAtWhatTheGuestWants(
        @TempDir final Path dir) throws Exception
    {
        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        try (Cluster cluster = Cluster.start(config(dir, told)))
        {
            cluster.admit(0, 1, 1, new MemoryHolderGuest(8 * MIB, 8 * MIB, 4 * MIB));
            final HostRuntime host = cluster.host(0);
            // the host's figure is smoothed (an EWMA of its samples): near the mark, not on it
            Await.until("the host counts the guest's 16 MiB", 20, () -> host.usedMemoryBytes() >= 15.5 * MIB);

            final BalloonResult met = ask(cluster, 1, 10 * MIB, UNCHANGED);
            assertEquals(Outcome.MET, met.outcome(), met::toString);
            assertEquals(10 * MIB, met.memoryBytes());
            assertEquals(1, met.processors(), "the weight is left as it was");
            Await.until("the host counts 10 MiB", 20, () -> host.usedMemoryBytes() <= 10.5 * MIB);
            assertEquals(10 * MIB, host.schedule().memBytes(host.schedule().slotOf(1)), "the slot's figure");

            final BalloonResult back = ask(cluster, 1, 20 * MIB, UNCHANGED);
            assertEquals(Outcome.SHORT, back.outcome(), back::toString);
            assertEquals(16 * MIB, back.memoryBytes(), "it takes back what it was made with, no more");
            assertEquals("it wants no more than " + 16 * MIB + " bytes", back.reason());
            Await.until("the listener told of both", 10, () -> told.size() == 2);
            assertEquals(met, told.get(0));
        }
    }

    @Test
    void aTargetBelowTheFloorEndsShortWithItsReason(@TempDir final Path dir) throws Exception
    {
        try (Cluster cluster = Cluster.start(config(dir, new ArrayList<>())))
        {
            cluster.admit(0, 1, 1, new MemoryHolderGuest(8 * MIB, 2 * MIB, 3 * MIB));
            final BalloonResult result = ask(cluster, 1, MIB, UNCHANGED);
            assertEquals(Outcome.SHORT, result.outcome());
            assertEquals(3 * MIB, result.memoryBytes());
            assertEquals("it keeps a floor of " + 3 * MIB + " bytes of its working set", result.reason());
            final BalloonResult again = ask(cluster, 1, MIB, UNCHANGED);
            assertEquals(Outcome.REFUSED, again.outcome(), "at its floor it gives nothing: " + again);
        }
    }

    @Test
    void aGuestWithoutBalloonIsAnsweredNoBalloonAtOnce(@TempDir final Path dir) throws Exception
    {
        final ClusterConfig config = config(dir, new ArrayList<>());
        config.host.balloonTimeoutNs = 60_000_000_000L; // at once: no wait for a deadline
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 1, 1, new IdleGuest());
            final BalloonResult result = ask(cluster, 1, MIB, UNCHANGED);
            assertEquals(Outcome.NO_BALLOON, result.outcome());
            assertEquals("vm 1's guest has no balloon (Guest.balloon() is null)", result.reason());
        }
    }

    @Test
    void aBalloonThatThrowsFailsWithItsMessageAndTheGuestKeepsRunning(@TempDir final Path dir) throws Exception
    {
        final ClusterConfig config = config(dir, new ArrayList<>());
        config.guests.register(Misbehaving.class.getName(), Misbehaving::new);
        SLICES.clear();
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 7, 1, new Misbehaving("throw"));
            Await.until("vm 7 runs", 10, () -> slices(7) > 0);
            final BalloonResult result = ask(cluster, 7, MIB, UNCHANGED);
            assertEquals(Outcome.FAILED, result.outcome());
            assertEquals("the guest's balloon threw IllegalStateException: the guest's reservation module is broken",
                result.reason());
            final long after = slices(7);
            Await.until("vm 7 still runs", 10, () -> slices(7) > after + 10);
        }
    }

    @Test
    void aBalloonThatDoesNotAnswerInTimeTimesOutAndTheGuestKeepsRunning(@TempDir final Path dir) throws Exception
    {
        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        final ClusterConfig config = config(dir, told);
        config.host.balloonTimeoutNs = 300_000_000L; // the deadline this test waits out
        config.guests.register(Misbehaving.class.getName(), Misbehaving::new);
        SLICES.clear();
        release = new CountDownLatch(1);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 8, 1, new Misbehaving("block"));
            Await.until("vm 8 runs", 10, () -> slices(8) > 0);
            final BalloonResult result = ask(cluster, 8, MIB, UNCHANGED);
            assertEquals(Outcome.TIMED_OUT, result.outcome());
            assertEquals("vm 8 did not answer within 300 ms (no slice ran its balloon, or it ran past the deadline)",
                result.reason());
            release.countDown(); // it answers late: what it did is journaled all the same
            Await.until("the late answer is told", 20, () -> told.stream().anyMatch(r -> r.outcome() == Outcome.MET));
            assertEquals("answered after its deadline", told.get(told.size() - 1).reason());
            final long after = slices(8);
            Await.until("vm 8 still runs", 10, () -> slices(8) > after + 10);
        }
        finally
        {
            release.countDown();
        }
        assertEquals(List.of("1 TIMED_OUT -1 vm 8 did not answer within 300 ms (no slice ran its balloon, or it ran " +
            "past the deadline)", "1 MET 1048576 answered after its deadline"), ExternalBalloonTest.results(
            config.journalDir(0)));

        // recovery brings it back at the size of its late answer
        final List<BalloonResult> recovered = new CopyOnWriteArrayList<>();
        try (Cluster cluster = Cluster.start(config(dir, recovered)))
        {
            Await.until("recovery asked the balloon again", 20, () -> !recovered.isEmpty());
            assertEquals(MIB, recovered.get(0).memoryBytes(), recovered::toString);
            assertEquals(Outcome.MET, ask(cluster, 8, 2 * MIB, UNCHANGED).outcome(), "answered in time");
        }
    }

    @Test
    void badTargetsAreRefusedWithAOneLineReasonAndJournaled(@TempDir final Path dir) throws Exception
    {
        final ClusterConfig config = config(dir, new ArrayList<>());
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 1, 1, new MemoryHolderGuest(4 * MIB, 0, 0));
            final Map<String, String> cases = new java.util.LinkedHashMap<>();
            cases.put("-5 -1", "vm 1: a balloon's memory target must be at least 0 bytes, got -5");
            cases.put("-1 0", "vm 1: a balloon's processor target must be a weight of at least 1, got 0");
            cases.put("-1 -1", "vm 1: a balloon request must ask for memory or processors");
            cases.put((2L << 30) + " -1", "vm 1: a memory target of 2147483648 bytes exceeds host 0's memory of " +
                "1073741824 bytes");
            cases.put("-1 100000", "vm 1: a processor target (weight) of 100000 exceeds the largest weight, " +
                Math.min(io.vmsched.schedule.Schedule.MAX_WEIGHT, io.vmsched.schedule.Schedule.MAX_SLICE_NANOS /
                    cluster.host(0).schedule().quantumNanos()));
            for (final Map.Entry<String, String> c : cases.entrySet())
            {
                final String[] targets = c.getKey().split(" ");
                final BalloonResult result = ask(cluster, 1, Long.parseLong(targets[0]), Integer.parseInt(targets[1]));
                assertEquals(Outcome.REFUSED, result.outcome(), c.getKey());
                assertEquals(c.getValue(), result.reason());
            }
            assertEquals(4 * MIB, ask(cluster, 1, 4 * MIB, UNCHANGED).memoryBytes(), "the guest is as it was");
            assertThrows(IllegalArgumentException.class, () -> cluster.balloon(99, MIB, UNCHANGED), "no such vm");
        }
        final List<String> results = new ArrayList<>();
        try (ChronicleJournal journal = ChronicleJournal.openReadOnly(config.journalDir(0), 0))
        {
            final BalloonRecord balloon = new BalloonRecord();
            journal.replay((index, record) ->
            {
                if (record.type() == RecordType.BALLOON_RESULT)
                {
                    results.add(balloon.wrap(record).outcome() + " " + balloon.reason());
                }
            });
        }
        assertEquals(6, results.size(), results::toString);
        assertEquals("REFUSED vm 1: a balloon's memory target must be at least 0 bytes, got -5", results.get(0));
    }

    @Test
    void aProcessorsTargetBecomesTheWeight(@TempDir final Path dir) throws Exception
    {
        try (Cluster cluster = Cluster.start(config(dir, new ArrayList<>())))
        {
            cluster.admit(0, 1, 2, new MemoryHolderGuest(MIB, 0, 0));
            final BalloonResult result = ask(cluster, 1, UNCHANGED, 5);
            assertEquals(Outcome.MET, result.outcome());
            assertEquals(5, result.processors());
            final io.vmsched.schedule.Schedule schedule = cluster.host(0).schedule();
            assertEquals(5, schedule.weight(schedule.slotOf(1)));
            assertEquals(5, ask(cluster, 1, MIB / 2, UNCHANGED).processors(), "a memory request keeps the weight");
        }
    }

    @Test
    void aRestartedHostBringsTheGuestBackAtItsBalloonedSize(@TempDir final Path dir) throws Exception
    {
        final ClusterConfig config = config(dir, new ArrayList<>());
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.admit(0, 1, 1, new MemoryHolderGuest(12 * MIB, 4 * MIB, 2 * MIB));
            assertEquals(Outcome.MET, ask(cluster, 1, 6 * MIB, 3).outcome());
            assertEquals(Outcome.REFUSED, ask(cluster, 1, -7, UNCHANGED).outcome(), "one that moved nothing comes last");
        }
        final List<RecordType> types = ClusterTest.types(config.journalDir(0), 0);
        assertEquals(2, types.stream().filter(t -> t == RecordType.BALLOON_REQUESTED).count(), types::toString);
        assertEquals(2, types.stream().filter(t -> t == RecordType.BALLOON_RESULT).count(), types::toString);

        final List<BalloonResult> told = new CopyOnWriteArrayList<>();
        try (Cluster cluster = Cluster.start(config(dir, told)))
        {
            assertEquals(1, cluster.recoveredVms());
            final io.vmsched.schedule.Schedule schedule = cluster.host(0).schedule();
            assertEquals(3, schedule.weight(schedule.slotOf(1)), "its ballooned weight");
            Await.until("recovery asked the balloon again", 20, () -> !told.isEmpty());
            assertEquals(Outcome.MET, told.get(0).outcome(), told::toString);
            assertEquals(6 * MIB, told.get(0).memoryBytes());
            assertEquals(3, told.get(0).requestId(), "request ids go on above the journal's");
            Await.until("the host counts 6 MiB", 20, () -> Math.abs(cluster.host(0).usedMemoryBytes() - 6 * MIB) < MIB / 2);
            final io.vmsched.schedule.Schedule s = cluster.host(0).schedule();
            assertEquals(6 * MIB, s.memBytes(s.slotOf(1)), "the slot's figure, as the guest reports it");
        }
    }
}

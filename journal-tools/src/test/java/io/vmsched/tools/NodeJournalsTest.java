package io.vmsched.tools;

import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The journals of a cluster of node processes, one data directory per node, whose machines' clocks
 * disagree by seconds: read together, in each handoff's message order; copied together into one
 * directory, read alike; a host given twice refused; a node not given reported, not taken for a loss;
 * the two sides of a handoff that disagree found by verify.
 */
class NodeJournalsTest
{
    private static final int[] HOSTS = { 3, 7, 12 };
    /** Host 7's clock is 5 s behind true time, host 12's 30 s ahead (of the reader's too). */
    private static final long[] OFFSETS = { 0, -5_000_000_000L, 30_000_000_000L };
    private static final long A = JournalRecord.migrationId(3, 1);
    private static final long B = JournalRecord.migrationId(7, 1);
    private static final long REFUSED = JournalRecord.migrationId(12, 1);
    private static final long NOT_QUEUED = JournalRecord.migrationId(12, 2);
    private static final long IN_DOUBT = JournalRecord.migrationId(7, 2);

    /**
     * Three nodes, ids not from 0: vm 1 moves 3 → 7 (committed), vm 2 moves 7 → 12 (committed), vm 3's
     * move 12 → 3 is refused by its target, its move 12 → 7 never leaves (the target never hears of it),
     * vm 1's move 7 → 3 is activated at 3 and left in doubt at 7 (a crash).
     */
    private static SkewedNodes cluster(final Path base)
    {
        try (SkewedNodes nodes = new SkewedNodes(base, HOSTS, OFFSETS))
        {
            nodes.admit(3, 1).admit(7, 2).admit(12, 3).load(3).load(7).load(12);
            nodes.moves(1, 3, 1, 7);
            nodes.moves(2, 7, 1, 12);
            nodes.step(12, RecordType.MIGRATION_INTENT, REFUSED, 3, 3).step(12, RecordType.SUSPENDED, REFUSED, 3, 3)
                .step(3, RecordType.ABORTED, REFUSED, 3, 12).step(12, RecordType.ABORTED, REFUSED, 3, 3);
            nodes.step(12, RecordType.MIGRATION_INTENT, NOT_QUEUED, 3, 7).step(12, RecordType.SUSPENDED, NOT_QUEUED, 3, 7)
                .step(12, RecordType.ABORTED, NOT_QUEUED, 3, 7);
            nodes.step(7, RecordType.MIGRATION_INTENT, IN_DOUBT, 1, 3).step(7, RecordType.SUSPENDED, IN_DOUBT, 1, 3)
                .step(3, RecordType.RECEIVED, IN_DOUBT, 1, 7).step(3, RecordType.ACTIVATED, IN_DOUBT, 1, 7);
            nodes.load(3).load(7).load(12);
            return nodes;
        }
    }

    private static List<Path> nodes(final SkewedNodes nodes, final int... hosts)
    {
        final List<Path> dirs = new ArrayList<>();
        for (final int host : hosts)
        {
            dirs.add(nodes.node(host));
        }
        return dirs;
    }

    /** @return the records of a read, as {@link SkewedNodes#describe} words them, with their timestamps. */
    private static List<String> read(final List<Path> dirs, final List<Long> timestamps)
    {
        final List<String> records = new ArrayList<>();
        try (JournalSet set = JournalSet.open(dirs))
        {
            set.forEach((seq, host, index, record) ->
            {
                records.add(SkewedNodes.describe(host, record));
                timestamps.add(record.timestampNs());
                return true;
            });
        }
        return records;
    }

    static History verify(final List<Path> dirs)
    {
        final History history = new History();
        try (JournalSet set = JournalSet.open(dirs))
        {
            set.forEach(history);
        }
        return history.finish();
    }

    /** @return the records of {@code records} that contain {@code word}, in order. */
    private static List<String> only(final List<String> records, final String word)
    {
        return records.stream().filter(r -> r.contains(word)).toList();
    }

    @Test
    void eachHandoffIsReadInItsMessageOrderWhateverTheNodesClocksSay(@TempDir final Path base)
    {
        final SkewedNodes nodes = cluster(base);
        final List<Long> timestamps = new ArrayList<>();
        final List<String> merged = read(nodes(nodes, HOSTS), timestamps);

        assertEquals(nodes.written().size(), merged.size(), "every record once, host 12's too, though its clock " +
            "runs 30 s ahead of the reader's: " + merged);
        for (final long migration : new long[]{ A, B, REFUSED, NOT_QUEUED, IN_DOUBT })
        {
            final String id = " " + History.hex(migration) + " ";
            assertEquals(only(nodes.written(), id), only(merged, id), "migration " + id + " in its message order");
        }
        for (final int host : HOSTS)
        {
            assertEquals(only(nodes.written(), "host " + host + " "), only(merged, "host " + host + " "),
                "host " + host + "'s records in its journal's order");
        }
        // the clocks would have misordered them: by timestamp, host 7 receives vm 1 before host 3 means to send it
        final List<String> byTime = new ArrayList<>(merged);
        final Map<String, Long> stamp = new java.util.HashMap<>();
        for (int i = 0; i < merged.size(); i++)
        {
            stamp.put(merged.get(i), timestamps.get(i));
        }
        byTime.sort(Comparator.comparingLong(stamp::get));
        final String id = " " + History.hex(A) + " ";
        assertNotEquals(only(nodes.written(), id), only(byTime, id), "the skew is large enough to matter");

        final History history = verify(nodes(nodes, HOSTS));
        assertNull(history.violation(), history.violation());
        assertEquals(List.of(), history.findings());
        assertEquals(Map.of(1L, 3, 2L, 12, 3L, 12), history.owners());
        assertEquals(3, history.migrationsCommitted(), history.summary());
        assertEquals(2, history.migrationsAborted(), history.summary());
        assertEquals(1, history.inDoubt(), history.summary());
    }

    @Test
    void journalsCopiedTogetherReadAsTheNodesDirectories(@TempDir final Path base) throws IOException
    {
        final SkewedNodes nodes = cluster(base.resolve("nodes"));
        final Path together = base.resolve("together");
        for (final int host : HOSTS)
        {
            copy(nodes.journalDir(host), together.resolve("journal").resolve(Integer.toString(host)));
        }
        final List<String> apart = read(nodes(nodes, HOSTS), new ArrayList<>());
        assertEquals(apart, read(List.of(together), new ArrayList<>()), "one data directory holding three hosts' journals");
        final Path two = base.resolve("two");
        copy(nodes.journalDir(7), two.resolve("journal").resolve("7"));
        copy(nodes.journalDir(12), two.resolve("journal").resolve("12"));
        assertEquals(apart, read(List.of(two, nodes.node(3)), new ArrayList<>()), "and a mix of both");
        try (JournalSet set = JournalSet.open(List.of(two, nodes.node(3))))
        {
            assertArrayEquals(HOSTS, set.hosts());
        }
    }

    @Test
    void aHostsJournalGivenTwiceIsRefusedInOneLine(@TempDir final Path base) throws IOException
    {
        final SkewedNodes nodes = cluster(base.resolve("nodes"));
        final Path copy = base.resolve("copy");
        copy(nodes.journalDir(7), copy.resolve("journal").resolve("7"));
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> JournalSet.open(List.of(nodes.node(3), nodes.node(7), copy)));
        assertEquals("host 7's journal is given twice, as " + nodes.journalDir(7) + " and " +
            copy.resolve("journal").resolve("7") + ": give each host's journal once", refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JournalSet.open(List.of(nodes.node(3), nodes.node(3))));
    }

    @Test
    void aHandoffWithANodeNotGivenIsAFindingNeverALoss(@TempDir final Path base)
    {
        final SkewedNodes nodes = cluster(base);
        final History history = verify(nodes(nodes, 3, 12)); // host 7 left out
        assertNull(history.violation(), "vm 2 committed by host 7 is not lost: " + history.violation());
        assertEquals(java.util.Set.of(
            "migration " + History.hex(A) + " of vm 1 names host 7, whose journal was not given",
            "migration " + History.hex(B) + " of vm 2 names host 7, whose journal was not given",
            "migration " + History.hex(NOT_QUEUED) + " of vm 3 names host 7, whose journal was not given",
            "migration " + History.hex(IN_DOUBT) + " of vm 1 names host 7, whose journal was not given"),
            java.util.Set.copyOf(history.findings()), "one line per handoff, in the order met");
        assertEquals(4, history.findings().size());
        assertEquals(Map.of(1L, 3, 2L, 12, 3L, 12), history.owners(), "what the given journals own");

        final History alone = verify(nodes(nodes, 7));
        assertNull(alone.violation(), alone.violation());
        assertEquals(3, alone.findings().size(), "host 7 never heard of vm 3's transfer that was never queued: " +
            alone.findings());
    }

    @Test
    void verifyFindsTheTwoSidesOfAHandoffDisagreeingAcrossNodes(@TempDir final Path base)
    {
        final long m = JournalRecord.migrationId(3, 1);
        // the target activated it, the source aborted it: both run it
        final Path both = base.resolve("both");
        try (SkewedNodes nodes = new SkewedNodes(both, new int[]{ 3, 7 }, new long[]{ 0, -5_000_000_000L }))
        {
            nodes.admit(3, 1).step(3, RecordType.MIGRATION_INTENT, m, 1, 7).step(3, RecordType.SUSPENDED, m, 1, 7)
                .step(7, RecordType.RECEIVED, m, 1, 3).step(7, RecordType.ACTIVATED, m, 1, 3)
                .step(3, RecordType.ABORTED, m, 1, 7);
            final History history = verify(List.of(nodes.node(3), nodes.node(7)));
            assertNotNull(history.violation(), history.summary());
            assertTrue(history.violation().contains("host 3 aborted migration " + History.hex(m) + " of vm 1 after host 7 " +
                "activated it"), history.violation());
            assertEquals(1, history.duplicated());
        }
        // the target refused it, the source committed it: no one runs it
        final Path none = base.resolve("none");
        try (SkewedNodes nodes = new SkewedNodes(none, new int[]{ 3, 7 }, new long[]{ 0, 5_000_000_000L }))
        {
            nodes.admit(3, 1).step(3, RecordType.MIGRATION_INTENT, m, 1, 7).step(3, RecordType.SUSPENDED, m, 1, 7)
                .step(7, RecordType.ABORTED, m, 1, 3).step(3, RecordType.COMMITTED, m, 1, 7);
            final History history = verify(List.of(nodes.node(3), nodes.node(7)));
            assertNotNull(history.violation(), history.summary());
            assertTrue(history.violation().contains("committed migration " + History.hex(m) + " of vm 1 that host 7 " +
                "never activated"), history.violation());
            assertEquals(1, history.lost());
        }
        // the target refused it, then activated it anyway
        final Path late = base.resolve("late");
        try (SkewedNodes nodes = new SkewedNodes(late, new int[]{ 3, 7 }, new long[]{ 0, 0 }))
        {
            nodes.admit(3, 1).step(3, RecordType.MIGRATION_INTENT, m, 1, 7).step(3, RecordType.SUSPENDED, m, 1, 7)
                .step(7, RecordType.ABORTED, m, 1, 3).step(7, RecordType.RECEIVED, m, 1, 3)
                .step(7, RecordType.ACTIVATED, m, 1, 3);
            final History history = verify(List.of(nodes.node(3), nodes.node(7)));
            assertNotNull(history.violation(), history.summary());
            assertTrue(history.violation().contains("vm 1 activated at host 7 after it aborted migration " +
                History.hex(m)), history.violation());
        }
    }

    @Test
    void aJournalThatLookedFinishedIsReadFurtherForWhatAHandoffNeeds(@TempDir final Path base)
    {
        final long m = JournalRecord.migrationId(7, 1);
        try (SkewedNodes nodes = new SkewedNodes(base, new int[]{ 3, 7 }, new long[]{ 0, 2_000_000_000L }))
        {
            nodes.admit(7, 1).step(7, RecordType.MIGRATION_INTENT, m, 1, 3).step(7, RecordType.SUSPENDED, m, 1, 3)
                .step(3, RecordType.RECEIVED, m, 1, 7).load(7);
            final List<String> merged = new ArrayList<>();
            final History history = new History();
            try (JournalSet set = JournalSet.open(List.of(nodes.node(3), nodes.node(7))))
            {
                set.forEach(new JournalSet.Handler()
                {
                    @Override
                    public void onHosts(final int[] hosts)
                    {
                        history.onHosts(hosts);
                    }

                    @Override
                    public boolean onRecord(final long seq, final int host, final long index, final JournalRecord record)
                    {
                        merged.add(SkewedNodes.describe(host, record));
                        if (record.type() == RecordType.LOAD_SNAPSHOT && host == 7)
                        {
                            // host 3's journal has been read to its end by now; then it activates and host 7 commits
                            nodes.step(3, RecordType.ACTIVATED, m, 1, 7).load(3).step(7, RecordType.COMMITTED, m, 1, 3);
                        }
                        return history.onRecord(seq, host, index, record);
                    }
                });
            }
            assertNull(history.finish().violation(), "the ACTIVATED the COMMITTED follows is read: " + merged);
            assertEquals(nodes.written(), merged.stream().sorted(java.util.Comparator.comparingInt(nodes.written()::indexOf))
                .toList(), "every record once: " + merged);
            assertTrue(merged.indexOf(nodes.written().get(5)) < merged.indexOf(nodes.written().get(7)),
                "ACTIVATED before COMMITTED: " + merged);
        }
    }

    @Test
    void circularWaitsFromJournalsAgainstTheProtocolStillDeliverEveryRecordOnce(@TempDir final Path base)
    {
        // host 3's abort of m1 waits for host 7's, which host 7 journaled after receiving m2, which waits
        // for host 3's intent of m2, journaled after host 3's abort of m1
        final long m1 = JournalRecord.migrationId(3, 1);
        final long m2 = JournalRecord.migrationId(3, 2);
        try (SkewedNodes nodes = new SkewedNodes(base, new int[]{ 3, 7 }, new long[]{ 0, 0 }))
        {
            nodes.admit(3, 1).step(3, RecordType.MIGRATION_INTENT, m1, 1, 7).step(3, RecordType.ABORTED, m1, 1, 7)
                .step(3, RecordType.MIGRATION_INTENT, m2, 1, 7).step(7, RecordType.RECEIVED, m2, 1, 3)
                .step(7, RecordType.ABORTED, m1, 1, 3);
            final List<String> merged = read(List.of(nodes.node(3), nodes.node(7)), new ArrayList<>());
            assertEquals(nodes.written().size(), merged.size(), merged.toString());
            assertEquals(only(nodes.written(), "host 3 "), only(merged, "host 3 "));
            assertEquals(only(nodes.written(), "host 7 "), only(merged, "host 7 "));
        }
    }

    @Test
    void aCycleFromACommitTheSourceLearnedFromTheRegistryBreaksAtTheTransfer(@TempDir final Path base)
    {
        // host 3 learns from the registry that m1 moved and commits, then sends m2; host 7 receives m2
        // before it journals m1's ACTIVATED: m1's COMMITTED, m1's ACTIVATED, m2's RECEIVED wait in a circle.
        // Host 3's clock is behind: by time its COMMITTED would go first, and verify would call vm 1 lost.
        final long m1 = JournalRecord.migrationId(3, 1);
        final long m2 = JournalRecord.migrationId(3, 2);
        try (SkewedNodes nodes = new SkewedNodes(base, new int[]{ 3, 7 }, new long[]{ -5_000_000_000L, 0 }))
        {
            nodes.admit(3, 1).admit(3, 2)
                .step(3, RecordType.MIGRATION_INTENT, m1, 1, 7).step(3, RecordType.SUSPENDED, m1, 1, 7)
                .step(7, RecordType.RECEIVED, m1, 1, 3)
                .step(3, RecordType.COMMITTED, m1, 1, 7)
                .step(3, RecordType.MIGRATION_INTENT, m2, 2, 7).step(3, RecordType.SUSPENDED, m2, 2, 7)
                .step(7, RecordType.RECEIVED, m2, 2, 3)
                .step(7, RecordType.ACTIVATED, m1, 1, 3).step(7, RecordType.ACTIVATED, m2, 2, 3)
                .step(3, RecordType.COMMITTED, m2, 2, 7);
            final List<String> merged = read(List.of(nodes.node(3), nodes.node(7)), new ArrayList<>());
            assertEquals(nodes.written().size(), merged.size(), merged.toString());
            assertEquals(only(nodes.written(), "host 3 "), only(merged, "host 3 "));
            assertEquals(only(nodes.written(), "host 7 "), only(merged, "host 7 "));
            final History history = verify(List.of(nodes.node(3), nodes.node(7)));
            assertNull(history.violation(), "m1's ACTIVATED before its COMMITTED: " + merged);
            assertEquals(Map.of(1L, 7, 2L, 7), history.owners());
        }
    }

    private static void copy(final Path from, final Path to) throws IOException
    {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from))
        {
            for (final Path file : files.toList())
            {
                Files.copy(file, to.resolve(file.getFileName().toString()));
            }
        }
    }

    @Test
    void aNodesDirectoryIsCheckedAgainstItsManifestByCount(@TempDir final Path base) throws IOException
    {
        final SkewedNodes nodes = cluster(base);
        // a node's manifest counts its one host, whose id is not 0
        Files.writeString(nodes.node(7).resolve("vmsched.manifest"), "format=1\nhosts=1\n");
        try (JournalSet set = JournalSet.open(List.of(nodes.node(7))))
        {
            assertArrayEquals(new int[]{ 7 }, set.hosts());
        }
        Files.writeString(nodes.node(12).resolve("vmsched.manifest"), "format=1\nhosts=2\n");
        final RuntimeException refused = assertThrows(RuntimeException.class, () -> JournalSet.open(List.of(nodes.node(12))));
        assertTrue(refused.getMessage().contains("holds the journals of hosts [12], but " +
            nodes.node(12).resolve("vmsched.manifest") + " records 2 hosts"), refused.getMessage());
    }
}

package io.vmsched.tools;

import io.vmsched.cluster.DataDirectory;
import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalCheck;
import io.vmsched.journal.JournalCorruptException;
import io.vmsched.journal.JournalRecord;
import io.vmsched.journal.RecordType;
import org.agrona.collections.Long2LongHashMap;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * The journals of every host of a cluster, read together from one data directory or several (a node's
 * holds only its own host's journal), merged into one sequence, each record numbered by its position
 * in that sequence (the "record number" the tools take and print).
 * <p>
 * <b>The merged order.</b> Each host's records keep their journal order. Across hosts, the records of
 * each handoff keep the handoff's message order, whatever the hosts' clocks say: a record of migration
 * M at its target comes after the source's MIGRATION_INTENT of M and its SUSPENDED (the transfer
 * leaves after both); the source's end of M (COMMITTED, ABORTED, RESOLVED) comes after the target's
 * ACTIVATED or ABORTED of M, where the target journaled one. Among the records these edges leave free,
 * the earliest timestamp goes first, ties by host. Timestamps come from each machine's wall clock and
 * may be seconds apart between machines: they break ties, they never reorder a handoff. Journals that
 * contradict the protocol can make the edges circular; then the earliest waiting record goes first,
 * so every record is still delivered once.
 * <p>
 * A read indexes every journal first (where each handoff's steps lie), then merges: two passes over
 * the records. Opens read-only; the runtime may be writing meanwhile: a read delivers what each
 * journal held when the read indexed it, plus whatever a delivered record's handoff edges need that
 * was journaled later (a consistent cut: a host whose journal looked finished cannot hide the
 * ACTIVATED another host's COMMITTED follows). The cut is by record counts, not by time, so a host
 * whose clock runs ahead of the reader's is read whole.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public final class JournalSet implements AutoCloseable
{
    /** Receives records in merged order. */
    @FunctionalInterface
    public interface Handler
    {
        /**
         * @param seq    the record's number in the merged sequence, from 0.
         * @param host   the host whose journal holds it.
         * @param index  its index in that journal.
         * @param record the record, valid only during the call.
         * @return false to stop.
         */
        boolean onRecord(long seq, int host, long index, JournalRecord record);

        /**
         * Told once, before the first record: the hosts whose journals the read covers.
         *
         * @param hosts their ids, ascending (the handler may keep the array).
         */
        default void onHosts(final int[] hosts)
        {
        }
    }

    private final int[] hostIds;
    private final Path[] dirs;
    private final ChronicleJournal[] journals;
    /** Tests: told each host's id as a read has indexed its journal, before the next one's. */
    IntConsumer afterIndexing;

    private JournalSet(final TreeMap<Integer, Path> hosts)
    {
        this.hostIds = hosts.keySet().stream().mapToInt(Integer::intValue).toArray();
        this.dirs = hosts.values().toArray(new Path[0]);
        this.journals = new ChronicleJournal[hostIds.length];
        for (int i = 0; i < hostIds.length; i++)
        {
            try
            {
                journals[i] = ChronicleJournal.openReadOnly(dirs[i], hostIds[i]);
            }
            catch (final RuntimeException ex)
            {
                close();
                throw new IllegalArgumentException("cannot open the journal of host " + hostIds[i] + " in " +
                    dirs[i].getParent() + ": " + ex.getMessage(), ex);
            }
        }
    }

    /**
     * Open the journals under a directory: a data directory (with {@code journal/<host>/}), a demo run
     * directory, or the {@code journal} directory itself.
     *
     * @param dir the directory.
     * @return the set.
     * @throws IllegalArgumentException with a one-line reason if it holds no journals.
     * @throws JournalCorruptException  naming the file if a host's journal file is damaged, cut short of its
     *                                  header or of records it is known to hold, or missing (a host directory
     *                                  left empty, or one the data directory's manifest records).
     */
    public static JournalSet open(final Path dir)
    {
        return open(List.of(dir));
    }

    /**
     * Open the journals under several directories, each as {@link #open(Path)} takes it (one per node,
     * say, or several hosts' journals copied together into one): the union of their hosts.
     *
     * @param dirs the directories, at least one.
     * @return the set.
     * @throws IllegalArgumentException with a one-line reason if one holds no journals, or if a host's
     *                                  journal is in two of them.
     * @throws JournalCorruptException  as {@link #open(Path)}.
     */
    public static JournalSet open(final List<Path> dirs)
    {
        if (dirs.isEmpty())
        {
            throw new IllegalArgumentException("no journal directory given");
        }
        final TreeMap<Integer, Path> hosts = new TreeMap<>();
        for (final Path dir : dirs)
        {
            for (final Map.Entry<Integer, Path> host : hostsIn(dir).entrySet())
            {
                final Path before = hosts.putIfAbsent(host.getKey(), host.getValue());
                if (before != null)
                {
                    throw new IllegalArgumentException("host " + host.getKey() + "'s journal is given twice, as " +
                        before + " and " + host.getValue() + ": give each host's journal once");
                }
            }
        }
        return new JournalSet(hosts);
    }

    /** @return the journals under one directory: host id to its journal's directory. */
    private static TreeMap<Integer, Path> hostsIn(final Path dir)
    {
        if (!Files.isDirectory(dir))
        {
            throw new IllegalArgumentException(dir + " is not a directory");
        }
        final Path root = Files.isDirectory(dir.resolve("journal")) ? dir.resolve("journal") : dir;
        final TreeMap<Integer, Path> hosts = new TreeMap<>();
        try (Stream<Path> entries = Files.list(root))
        {
            for (final Path entry : entries.filter(p -> p.getFileName().toString().matches("\\d{1,7}")).toList())
            {
                // a host's journal that is damaged, cut short or emptied is named, never read as an empty host
                if (JournalCheck.verifyFiles(entry))
                {
                    hosts.put(Integer.parseInt(entry.getFileName().toString()), entry);
                }
                else
                {
                    throw JournalCorruptException.file(entry, "holds no journal files (*.cq4): they are missing");
                }
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot list " + root + ": " + ex.getMessage(), ex);
        }
        if (hosts.isEmpty())
        {
            throw new IllegalArgumentException(dir + " is not a vmsched journal: no journal/<host>/ folders holding " +
                "Chronicle Queue files (*.cq4)");
        }
        final Path dataDir = root.getFileName().toString().equals("journal") ? root.getParent() : null;
        final int known = dataDir == null ? 0 : DataDirectory.knownHosts(dataDir);
        // The manifest counts an embedded cluster's hosts, numbered from 0: those must all be here. A
        // node's directory holds only its own journal, under its id in the cluster: there the count is checked.
        if (hosts.firstKey() < known)
        {
            for (int h = 0; h < known; h++)
            {
                if (!hosts.containsKey(h))
                {
                    throw JournalCorruptException.file(root.resolve(Integer.toString(h)), "missing, but " +
                        dataDir.resolve(DataDirectory.MANIFEST_FILE) + " records " + known + " hosts: its VMs cannot be " +
                        "accounted for");
                }
            }
        }
        else if (hosts.size() < known)
        {
            throw JournalCorruptException.file(root, "holds the journals of hosts " + hosts.keySet() + ", but " +
                dataDir.resolve(DataDirectory.MANIFEST_FILE) + " records " + known + " hosts: the VMs of the others " +
                "cannot be accounted for");
        }
        return hosts;
    }

    /** @return the hosts found, ascending. */
    public int[] hosts()
    {
        return hostIds.clone();
    }

    /**
     * @param position a host's position in {@link #hosts()}.
     * @return the directory of its journal.
     */
    public Path dir(final int position)
    {
        return dirs[position];
    }

    /**
     * A cursor over one host's journal alone (for following it live).
     *
     * @param position the host's position in {@link #hosts()}.
     * @return a cursor from its first record; close it when done.
     */
    public ChronicleJournal.Cursor cursor(final int position)
    {
        return journals[position].cursor();
    }

    /**
     * Read every record in merged order (see the class).
     *
     * @param handler receives them; returning false stops the read.
     * @return records delivered.
     * @throws JournalCorruptException if a record cannot be decoded: that journal stops there, every
     *                                 readable record of the others is still delivered, then the first
     *                                 such error is thrown (naming the journal's directory and the
     *                                 record's index).
     */
    public long forEach(final Handler handler)
    {
        handler.onHosts(hosts());
        try (Read read = new Read())
        {
            return read.run(handler);
        }
    }

    @Override
    public void close()
    {
        for (final ChronicleJournal journal : journals)
        {
            if (journal != null)
            {
                journal.close();
            }
        }
    }

    /**
     * One merged read. Hosts are named by their position in {@link #hostIds}, records of a host by their
     * position in its journal (0, 1, …); a step of a handoff is kept as the pair, packed in a long.
     */
    private final class Read implements AutoCloseable
    {
        private static final long NONE = -1;
        private static final int POSITION_BITS = 40;
        private static final long POSITION_MASK = (1L << POSITION_BITS) - 1;

        private final int n = journals.length;
        // the index: a cursor per journal running ahead of the merge, and where each handoff's steps lie
        private final ChronicleJournal.Cursor[] ahead = new ChronicleJournal.Cursor[n];
        private final long[] indexed = new long[n];
        private final boolean[] broken = new boolean[n];
        private final Long2LongHashMap sent = new Long2LongHashMap(NONE); // migration: the source's last INTENT/SUSPENDED
        private final Long2LongHashMap answered = new Long2LongHashMap(NONE); // migration: the target's ACTIVATED/ABORTED
        // the merge: each journal's records up to its cut, a head record each, and what that head waits for
        private final long[] cut = new long[n];
        private final ChronicleJournal.Cursor[] cursors = new ChronicleJournal.Cursor[n];
        private final long[] delivered = new long[n];
        private final boolean[] head = new boolean[n];
        private final boolean[] ended = new boolean[n];
        private final long[] waitsFor = new long[n];
        private long cutsGrown;
        private JournalCorruptException failure;

        long run(final Handler handler)
        {
            for (int i = 0; i < n; i++)
            {
                ahead[i] = journals[i].cursor();
                while (index(i))
                {
                    // what the journal holds now: the cut
                }
                cut[i] = indexed[i];
                if (afterIndexing != null)
                {
                    afterIndexing.accept(hostIds[i]);
                }
            }
            for (int i = 0; i < n; i++)
            {
                cursors[i] = journals[i].cursor();
            }
            long seq = 0;
            while (true)
            {
                final long grown = cutsGrown;
                int best = -1;
                int waiting = -1;
                for (int i = 0; i < n; i++)
                {
                    if (!head[i] && !fetch(i))
                    {
                        continue;
                    }
                    if (ready(i))
                    {
                        best = earlier(i, best);
                    }
                    else
                    {
                        waiting = earlier(i, waiting);
                    }
                }
                if (best < 0 && cutsGrown != grown)
                {
                    continue; // a host's cut took in more for a head that waits: look again before breaking a wait
                }
                if (best < 0)
                {
                    best = waiting; // circular waits (journals against the protocol): the earliest first
                }
                if (best < 0)
                {
                    if (failure != null)
                    {
                        throw failure;
                    }
                    return seq;
                }
                final boolean go = handler.onRecord(seq++, hostIds[best], cursors[best].index(), cursors[best].record());
                delivered[best]++;
                head[best] = false;
                if (!go)
                {
                    return seq;
                }
            }
        }

        /** @return whichever of the heads of {@code i} and {@code best} (-1: none) is stamped earlier, ties by host. */
        private int earlier(final int i, final int best)
        {
            return best < 0 || cursors[i].record().timestampNs() < cursors[best].record().timestampNs() ? i : best;
        }

        /** @return whether host {@code i} has a head record now (within its cut), fetching it if need be. */
        private boolean fetch(final int i)
        {
            if (ended[i] || delivered[i] >= cut[i])
            {
                return false;
            }
            try
            {
                if (!cursors[i].next())
                {
                    ended[i] = true; // fewer than the index read: the journal changed under us
                    return false;
                }
            }
            catch (final JournalCorruptException ex)
            {
                fail(ex);
                ended[i] = true;
                return false;
            }
            head[i] = true;
            waitsFor[i] = predecessor(i, cursors[i].record());
            return true;
        }

        private boolean ready(final int i)
        {
            final long step = waitsFor[i];
            return step == NONE || delivered[hostOf(step)] > positionOf(step);
        }

        /** @return the other host's record that must come before this one (packed), or NONE. */
        private long predecessor(final int i, final JournalRecord record)
        {
            final long migrationId = record.migrationId();
            final RecordType type = record.type();
            if (migrationId == 0 || type == RecordType.WATERMARK) // a WATERMARK's id is a watermark, not a migration
            {
                return NONE;
            }
            final int source = JournalRecord.migrationSource(migrationId);
            if (source != hostIds[i])
            {
                return locate(sent, migrationId, position(source)); // the target's steps follow the transfer
            }
            if (type == RecordType.COMMITTED || type == RecordType.ABORTED || type == RecordType.RESOLVED)
            {
                final int target = position(record.peer());
                return target == i ? NONE : locate(answered, migrationId, target); // the source's end follows the answer
            }
            return NONE;
        }

        /**
         * @return the step of a migration that host {@code g} journaled, as {@code steps} notes it (packed),
         * reading {@code g}'s journal further if the index has not met it yet; the cut grows to take it in
         * (it was journaled before the record that waits for it). NONE if {@code g} holds no such step.
         */
        private long locate(final Long2LongHashMap steps, final long migrationId, final int g)
        {
            if (g < 0)
            {
                return NONE; // that host's journal is not read
            }
            long step = steps.get(migrationId);
            while (step == NONE && index(g))
            {
                step = steps.get(migrationId);
            }
            if (step == NONE || hostOf(step) != g)
            {
                return NONE;
            }
            if (positionOf(step) >= cut[g])
            {
                cut[g] = positionOf(step) + 1;
                cutsGrown++;
            }
            return step;
        }

        /** Index host {@code i}'s next record. @return false at the end of its journal (for now) or at damage. */
        private boolean index(final int i)
        {
            if (broken[i])
            {
                return false;
            }
            try
            {
                if (!ahead[i].next())
                {
                    return false;
                }
            }
            catch (final JournalCorruptException ex)
            {
                broken[i] = true; // the journal stops here: the cut ends before the damage
                fail(ex);
                return false;
            }
            final JournalRecord record = ahead[i].record();
            final long step = pack(i, indexed[i]++);
            final long migrationId = record.migrationId();
            final RecordType type = record.type();
            if (migrationId == 0 || type == RecordType.WATERMARK)
            {
                return true;
            }
            if (JournalRecord.migrationSource(migrationId) == hostIds[i])
            {
                if (type == RecordType.MIGRATION_INTENT || type == RecordType.SUSPENDED)
                {
                    sent.put(migrationId, step);
                }
            }
            else if (type == RecordType.ACTIVATED || type == RecordType.ABORTED)
            {
                final long before = answered.get(migrationId);
                if (before == NONE || hostOf(before) == i) // a second host answering is History's to report
                {
                    answered.put(migrationId, step);
                }
            }
            return true;
        }

        private void fail(final JournalCorruptException ex)
        {
            if (failure == null)
            {
                failure = ex;
            }
        }

        private int position(final int host)
        {
            final int at = Arrays.binarySearch(hostIds, host);
            return at >= 0 ? at : -1;
        }

        private static long pack(final int host, final long position)
        {
            return ((long)host << POSITION_BITS) | position;
        }

        private static int hostOf(final long step)
        {
            return (int)(step >>> POSITION_BITS);
        }

        private static long positionOf(final long step)
        {
            return step & POSITION_MASK;
        }

        @Override
        public void close()
        {
            for (int i = 0; i < n; i++)
            {
                if (ahead[i] != null)
                {
                    ahead[i].close();
                }
                if (cursors[i] != null)
                {
                    cursors[i].close();
                }
            }
        }
    }
}

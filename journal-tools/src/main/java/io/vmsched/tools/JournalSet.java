package io.vmsched.tools;

import io.vmsched.cluster.DataDirectory;
import io.vmsched.journal.AbortReason;
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
import java.util.stream.Stream;

/**
 * The journals of every host of a cluster, read together from one data directory or several (a node's
 * holds only its own host's journal), merged into one sequence, each record numbered by its position
 * in that sequence (the "record number" the tools take and print).
 * <p>
 * <b>The merged order.</b> Each host's records keep their journal order. Across hosts, the records of
 * each handoff keep the handoff's message order, whatever the hosts' clocks say: a record of migration
 * M at its target comes after the source's SUSPENDED of M (after its MIGRATION_INTENT if it journaled
 * no SUSPENDED): the transfer leaves after both. The source's end of M (COMMITTED, ABORTED, RESOLVED)
 * comes after the target's ACTIVATED or ABORTED of M, where the target journaled one (an abort the
 * source journaled before the transfer left has none to wait for). Among the records these edges
 * leave free, the earliest timestamp goes first, ties by host. Timestamps come from each machine's
 * wall clock and may be seconds apart between machines: they break ties, they never reorder a
 * handoff. The edges can be circular (a source that learned its migration committed from the registry
 * journals COMMITTED before the target's ACTIVATED, which the target may journal after receiving the
 * source's next transfer); then a target's record waiting for its transfer goes first (a RECEIVED
 * shown before its INTENT changes no owner), else the earliest: every record is still delivered once.
 * <p>
 * One pass: a record waits until what it follows has been delivered. Only when a record that waits is
 * the earliest of the hosts' next records does a second cursor read ahead in the journal waited on,
 * to see whether the record waited for is there at all (if not, the wait ends): with one clock that
 * never happens (what a record follows is stamped before it), across skewed clocks it reads ahead
 * once. Opens read-only; the runtime may be writing
 * meanwhile: a read goes on until each journal is read to its end, and reads a journal that looked
 * finished further when a record delivered follows one journaled there since (so a host whose journal
 * looked finished cannot hide the ACTIVATED another host's COMMITTED follows). There is no cut by
 * time: a host whose clock runs ahead of the reader's is read whole.
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
     * One merged read, one pass: a host's next record (its head) is delivered once what it waits for
     * has been delivered. Hosts are named by their position in {@link #hostIds}. What the read has met
     * of each handoff is kept as flags per migration id.
     */
    private final class Read implements AutoCloseable
    {
        // what the merge delivered of a migration
        private static final long INTENT_DELIVERED = 1;
        private static final long SUSPENDED_DELIVERED = 2;
        private static final long ANSWER_DELIVERED = 4;
        // what a look-ahead saw of it in the journals
        private static final long INTENT_SEEN = 8;
        private static final long SUSPENDED_SEEN = 16;
        private static final long ANSWER_SEEN = 32;
        // what a look-ahead found missing: nothing to wait for
        private static final long NO_SUSPENDED = 64;
        private static final long NO_SEND = 128;
        private static final long NO_ANSWER = 256;
        // what a head waits for
        private static final byte FREE = 0;
        private static final byte SEND = 1; // a target's record: the source's SUSPENDED (or INTENT)
        private static final byte ANSWER = 2; // a source's end: the target's ACTIVATED or ABORTED
        private static final int RETRY = -2;

        private final int n = journals.length;
        private final ChronicleJournal.Cursor[] cursors = new ChronicleJournal.Cursor[n];
        private final boolean[] head = new boolean[n];
        private final boolean[] ended = new boolean[n]; // read to its end, for now
        private final boolean[] broken = new boolean[n]; // met a record it cannot decode: for good
        private final byte[] waits = new byte[n];
        private final int[] waitsOn = new int[n];
        private final ChronicleJournal.Cursor[] ahead = new ChronicleJournal.Cursor[n]; // opened at the first wait to settle
        private final boolean[] aheadBroken = new boolean[n];
        private final Long2LongHashMap flags = new Long2LongHashMap(0);
        private final long[] blockedIn = new long[n]; // the round of choose() in which the head was found to wait
        private long round;
        private JournalCorruptException failure;

        long run(final Handler handler)
        {
            for (int i = 0; i < n; i++)
            {
                cursors[i] = journals[i].cursor();
            }
            long seq = 0;
            while (true)
            {
                for (int i = 0; i < n; i++)
                {
                    if (!head[i])
                    {
                        fetch(i);
                    }
                }
                final int best = choose();
                if (best == RETRY)
                {
                    continue;
                }
                if (best < 0)
                {
                    if (failure != null)
                    {
                        throw failure;
                    }
                    return seq;
                }
                final JournalRecord record = cursors[best].record();
                delivered(best, record);
                head[best] = false;
                if (!handler.onRecord(seq++, hostIds[best], cursors[best].index(), record))
                {
                    return seq;
                }
            }
        }

        /**
         * The head to deliver: the earliest that waits for nothing undelivered. A head that waits is
         * settled only when it is the earliest: whether what it waits for is there at all (if not, it
         * waits no more), and if it is, past where its host's read ended, that host is read further.
         *
         * @return a host's position; -1 if no host has a head; RETRY if a host was read further.
         */
        private int choose()
        {
            round++;
            while (true)
            {
                int c = -1;
                for (int i = 0; i < n; i++)
                {
                    if (head[i] && blockedIn[i] != round)
                    {
                        c = earlier(i, c);
                    }
                }
                if (c < 0)
                {
                    break;
                }
                if (ready(c) || settle(c))
                {
                    return c;
                }
                final int g = waitsOn[c];
                if (!head[g])
                {
                    // what it waits for is in g's journal, past where g's read ended: journaled since
                    ended[g] = false;
                    if (fetch(g))
                    {
                        return RETRY;
                    }
                    final long migrationId = cursors[c].record().migrationId();
                    flags.put(migrationId, flags.get(migrationId) | (waits[c] == SEND ? NO_SEND : NO_ANSWER));
                    return c;
                }
                blockedIn[c] = round;
            }
            // every head waits for another's: circular. Break it at a target's record that waits for its
            // transfer (shown before the source's INTENT, a RECEIVED changes no owner), else at the earliest.
            int earliest = -1;
            int transfer = -1;
            for (int i = 0; i < n; i++)
            {
                if (head[i])
                {
                    earliest = earlier(i, earliest);
                    transfer = waits[i] == SEND ? earlier(i, transfer) : transfer;
                }
            }
            return transfer >= 0 ? transfer : earliest;
        }

        /** @return whichever of the heads of {@code i} and {@code best} (-1: none) is stamped earlier, ties by host. */
        private int earlier(final int i, final int best)
        {
            return best < 0 || cursors[i].record().timestampNs() < cursors[best].record().timestampNs() ? i : best;
        }

        /** @return whether host {@code i} has a head record now, reading it if need be. */
        private boolean fetch(final int i)
        {
            if (ended[i] || broken[i])
            {
                return false;
            }
            try
            {
                if (!cursors[i].next())
                {
                    ended[i] = true;
                    return false;
                }
            }
            catch (final JournalCorruptException ex)
            {
                fail(ex);
                broken[i] = true; // this journal stops here; the others go on
                return false;
            }
            head[i] = true;
            waits[i] = FREE;
            final JournalRecord record = cursors[i].record();
            final long migrationId = record.migrationId();
            final RecordType type = record.type();
            if (migrationId == 0 || type == RecordType.WATERMARK) // a WATERMARK's id is a watermark, not a migration
            {
                return true;
            }
            final int source = JournalRecord.migrationSource(migrationId);
            if (source != hostIds[i])
            {
                waitOn(i, SEND, position(source)); // the target's steps follow the transfer
            }
            else if (type == RecordType.COMMITTED || type == RecordType.RESOLVED ||
                type == RecordType.ABORTED && !beforeTransfer(record.abortReason()))
            {
                final int target = position(record.peer());
                waitOn(i, ANSWER, target == i ? -1 : target); // the source's end follows the target's answer
            }
            return true;
        }

        private void waitOn(final int i, final byte what, final int host)
        {
            if (host >= 0) // else that host's journal is not read: nothing to wait for
            {
                waits[i] = what;
                waitsOn[i] = host;
            }
        }

        /** An abort journaled before the transfer left: the target never heard of the migration. */
        private static boolean beforeTransfer(final AbortReason reason)
        {
            return reason == AbortReason.SOURCE_FAILED_TO_STOP || reason == AbortReason.SOURCE_FAILED_BEFORE_TRANSFER ||
                reason == AbortReason.TRANSFER_NOT_QUEUED || reason == AbortReason.TRANSFER_NOT_SENT;
        }

        private boolean ready(final int i)
        {
            if (waits[i] == FREE)
            {
                return true;
            }
            final long f = flags.get(cursors[i].record().migrationId());
            final boolean ready = waits[i] == SEND ?
                (f & (SUSPENDED_DELIVERED | NO_SEND)) != 0 || (f & (NO_SUSPENDED | INTENT_DELIVERED)) == (NO_SUSPENDED | INTENT_DELIVERED) :
                (f & (ANSWER_DELIVERED | NO_ANSWER)) != 0;
            if (ready)
            {
                waits[i] = FREE; // flags only grow: it stays ready
            }
            return ready;
        }

        private void delivered(final int i, final JournalRecord record)
        {
            final long migrationId = record.migrationId();
            final RecordType type = record.type();
            if (migrationId == 0 || type == RecordType.WATERMARK)
            {
                return;
            }
            final long flag = step(i, record, INTENT_DELIVERED, SUSPENDED_DELIVERED, ANSWER_DELIVERED);
            if (flag != 0)
            {
                flags.put(migrationId, flags.get(migrationId) | flag);
            }
        }

        /** @return the flag of the handoff step that record is (an INTENT, SUSPENDED or answer), else 0. */
        private long step(final int i, final JournalRecord record, final long intent, final long suspended, final long answer)
        {
            final RecordType type = record.type();
            if (JournalRecord.migrationSource(record.migrationId()) == hostIds[i])
            {
                return type == RecordType.MIGRATION_INTENT ? intent : type == RecordType.SUSPENDED ? suspended : 0;
            }
            return type == RecordType.ACTIVATED || type == RecordType.ABORTED ? answer : 0;
        }

        /**
         * Find out whether what head {@code i} waits for is in its host's journal at all, reading that
         * journal ahead if need be; if not, it waits no more.
         *
         * @return whether it is ready now.
         */
        private boolean settle(final int i)
        {
            final long migrationId = cursors[i].record().migrationId();
            final int g = waitsOn[i];
            if (waits[i] == SEND && (flags.get(migrationId) & (SUSPENDED_SEEN | NO_SUSPENDED | NO_SEND)) == 0)
            {
                lookAhead(g, migrationId, SUSPENDED_SEEN);
                final long seen = flags.get(migrationId);
                if ((seen & SUSPENDED_SEEN) == 0) // the INTENT is what the target's records follow, if there is one
                {
                    flags.put(migrationId, seen | ((seen & INTENT_SEEN) != 0 ? NO_SUSPENDED : NO_SEND));
                }
            }
            else if (waits[i] == ANSWER && (flags.get(migrationId) & (ANSWER_SEEN | NO_ANSWER)) == 0)
            {
                lookAhead(g, migrationId, ANSWER_SEEN);
                final long seen = flags.get(migrationId);
                if ((seen & ANSWER_SEEN) == 0)
                {
                    flags.put(migrationId, seen | NO_ANSWER);
                }
            }
            return ready(i);
        }

        /** Read host {@code g}'s journal ahead, noting the handoff steps in it, until {@code bit} is seen for the migration or the end. */
        private void lookAhead(final int g, final long migrationId, final long bit)
        {
            if (ahead[g] == null)
            {
                ahead[g] = journals[g].cursor();
            }
            while ((flags.get(migrationId) & bit) == 0 && !aheadBroken[g])
            {
                try
                {
                    if (!ahead[g].next())
                    {
                        return;
                    }
                }
                catch (final JournalCorruptException ex)
                {
                    aheadBroken[g] = true; // the merge meets it too, and reports it
                    return;
                }
                final JournalRecord record = ahead[g].record();
                if (record.migrationId() != 0 && record.type() != RecordType.WATERMARK)
                {
                    final long flag = step(g, record, INTENT_SEEN, SUSPENDED_SEEN, ANSWER_SEEN);
                    if (flag != 0)
                    {
                        flags.put(record.migrationId(), flags.get(record.migrationId()) | flag);
                    }
                }
            }
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

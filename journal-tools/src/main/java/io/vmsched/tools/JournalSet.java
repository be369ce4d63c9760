package io.vmsched.tools;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.cluster.DataDirectory;
import io.vmsched.journal.JournalCheck;
import io.vmsched.journal.JournalCorruptException;
import io.vmsched.journal.JournalRecord;

import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.SystemEpochNanoClock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The journals of every host of a cluster, read together: records merged into one sequence ordered by
 * their timestamps (ties by host), each numbered by its position in that sequence (the "record
 * number" the tools take and print). Opens read-only; the runtime may be writing meanwhile: a read
 * delivers the records stamped before it began, a consistent cut of every journal.
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
    }

    private final int[] hostIds;
    private final ChronicleJournal[] journals;

    private JournalSet(final Path root, final int[] hostIds)
    {
        this.hostIds = hostIds;
        this.journals = new ChronicleJournal[hostIds.length];
        for (int i = 0; i < hostIds.length; i++)
        {
            try
            {
                journals[i] = ChronicleJournal.openReadOnly(root.resolve(Integer.toString(hostIds[i])), hostIds[i]);
            }
            catch (final RuntimeException ex)
            {
                close();
                throw new IllegalArgumentException("cannot open the journal of host " + hostIds[i] + " in " + root + ": " +
                    ex.getMessage(), ex);
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
        if (!Files.isDirectory(dir))
        {
            throw new IllegalArgumentException(dir + " is not a directory");
        }
        final Path root = Files.isDirectory(dir.resolve("journal")) ? dir.resolve("journal") : dir;
        final List<Integer> hosts = new ArrayList<>();
        try (Stream<Path> entries = Files.list(root))
        {
            for (final Path entry : entries.filter(p -> p.getFileName().toString().matches("\\d{1,7}")).toList())
            {
                // a host's journal that is damaged, cut short or emptied is named, never read as an empty host
                if (JournalCheck.verifyFiles(entry))
                {
                    hosts.add(Integer.parseInt(entry.getFileName().toString()));
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
        for (int h = 0; h < known; h++)
        {
            if (!hosts.contains(h))
            {
                throw JournalCorruptException.file(root.resolve(Integer.toString(h)), "missing, but " +
                    dataDir.resolve(DataDirectory.MANIFEST_FILE) + " records " + known + " hosts: its VMs cannot be " +
                    "accounted for");
            }
        }
        hosts.sort(null);
        return new JournalSet(root, hosts.stream().mapToInt(Integer::intValue).toArray());
    }

    /** @return the hosts found, ascending. */
    public int[] hosts()
    {
        return hostIds.clone();
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
     * Read every record in merged order.
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
        final int n = journals.length;
        final ChronicleJournal.Cursor[] cursors = new ChronicleJournal.Cursor[n];
        final boolean[] has = new boolean[n];
        failure = null;
        // a consistent cut: only records stamped before the read began (by the journals' own clock), so
        // a host whose journal looked finished cannot hide a record another host follows up
        cutoffNs = CLOCK.nanoTime();
        long seq = 0;
        try
        {
            for (int i = 0; i < n; i++)
            {
                cursors[i] = journals[i].cursor();
                has[i] = advance(cursors[i]);
            }
            while (true)
            {
                int best = -1;
                long bestTime = Long.MAX_VALUE;
                for (int i = 0; i < n; i++)
                {
                    if (has[i] && cursors[i].record().timestampNs() < bestTime)
                    {
                        best = i;
                        bestTime = cursors[i].record().timestampNs();
                    }
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
                if (!go)
                {
                    return seq;
                }
                has[best] = advance(cursors[best]);
            }
        }
        finally
        {
            for (final ChronicleJournal.Cursor cursor : cursors)
            {
                if (cursor != null)
                {
                    cursor.close();
                }
            }
        }
    }

    private JournalCorruptException failure;
    private long cutoffNs;
    private static final EpochNanoClock CLOCK = new SystemEpochNanoClock(); // the clock ChronicleJournal stamps with

    private boolean advance(final ChronicleJournal.Cursor cursor)
    {
        try
        {
            return cursor.next() && cursor.record().timestampNs() <= cutoffNs; // later: written after the cut
        }
        catch (final JournalCorruptException ex)
        {
            if (failure == null)
            {
                failure = ex;
            }
            return false; // this journal stops here; the others go on
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
}

package io.vmsched.tools;

import io.vmsched.journal.ChronicleJournal;
import io.vmsched.journal.JournalRecord;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Follows the journals of every host as they are written: each host's records in its own order from
 * its first, the hosts read in turn. Unlike {@link JournalSet#forEach} there is no merged order: live
 * journals have no end to merge up to. When every journal is read to its end it waits
 * {@link #IDLE_PARK_NS} before looking again, or less where a deadline is nearer.
 * <p>
 * Threading: not threadsafe. One thread follows, and always the same one (Chronicle's tailers keep to
 * the thread that first reads them); it may be another than the one that opens and closes the tail,
 * handed over safely (an executor's submit and {@code Future.get} do). {@link #stop()} may be called
 * from any thread and wakes the follower. The handler runs on the follower's thread.
 */
public final class Tail implements AutoCloseable
{
    /** The longest wait between looks at journals read to their end. */
    public static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(50);

    /** Receives the records followed. */
    public interface Handler
    {
        /**
         * @param host   the host whose journal holds the record.
         * @param index  its index in that journal.
         * @param record the record, valid only during the call.
         */
        void onRecord(int host, long index, JournalRecord record);

        /** Every journal is read to its end, before waiting for more: a place to flush output. */
        default void onIdle()
        {
        }
    }

    private final JournalSet set;
    private final int[] hosts;
    private final ChronicleJournal.Cursor[] cursors;
    private volatile boolean stopped;
    private volatile Thread follower;

    private Tail(final JournalSet set)
    {
        this.set = set;
        this.hosts = set.hosts();
        this.cursors = new ChronicleJournal.Cursor[hosts.length];
    }

    /**
     * Open the journals under a directory, as {@link JournalSet#open(Path)} does.
     *
     * @param dir a data directory, a demo run directory or a {@code journal} directory.
     * @return a tail at the first record of each journal; close it when done.
     * @throws IllegalArgumentException with a one-line reason if it holds no journals.
     */
    public static Tail open(final Path dir)
    {
        return open(java.util.List.of(dir));
    }

    /**
     * Open the journals under several directories (one per node, say), as {@link JournalSet#open(java.util.List)} does.
     *
     * @param dirs data directories, demo run directories or {@code journal} directories.
     * @return a tail at the first record of each journal; close it when done.
     * @throws IllegalArgumentException with a one-line reason if one holds no journals, or a host's is in two.
     */
    public static Tail open(final java.util.List<Path> dirs)
    {
        final JournalSet set = JournalSet.open(dirs);
        final Tail tail = new Tail(set);
        try
        {
            for (int i = 0; i < tail.cursors.length; i++)
            {
                tail.cursors[i] = set.cursor(i);
            }
        }
        catch (final RuntimeException ex)
        {
            tail.close();
            throw ex;
        }
        return tail;
    }

    /** @return the hosts followed, ascending. */
    public int[] hosts()
    {
        return hosts.clone();
    }

    /**
     * Follow until {@code maxRecords} are delivered, {@link #stop()} is called or the thread is
     * interrupted (its flag is kept).
     *
     * @param handler    receives the records.
     * @param maxRecords the most to deliver, 0 for no limit.
     * @return records delivered by this call.
     * @throws io.vmsched.journal.JournalCorruptException if a record cannot be decoded.
     */
    public long follow(final Handler handler, final long maxRecords)
    {
        return follow(handler, maxRecords, false, 0);
    }

    /**
     * Follow as {@link #follow(Handler, long)} does, and no later than a deadline.
     *
     * @param handler       receives the records.
     * @param maxRecords    the most to deliver, 0 for no limit.
     * @param deadlineNanos when to return at the latest, on the {@link System#nanoTime()} clock.
     * @return records delivered by this call.
     * @throws io.vmsched.journal.JournalCorruptException if a record cannot be decoded.
     */
    public long follow(final Handler handler, final long maxRecords, final long deadlineNanos)
    {
        return follow(handler, maxRecords, true, deadlineNanos);
    }

    private long follow(final Handler handler, final long maxRecords, final boolean bounded, final long deadlineNanos)
    {
        if (maxRecords < 0)
        {
            throw new IllegalArgumentException("maxRecords must be at least 0 (0: no limit), got " + maxRecords);
        }
        final long limit = maxRecords == 0 ? Long.MAX_VALUE : maxRecords;
        follower = Thread.currentThread();
        long delivered = 0;
        try
        {
            while (delivered < limit && !stopped && !Thread.currentThread().isInterrupted() &&
                !(bounded && System.nanoTime() - deadlineNanos >= 0))
            {
                boolean any = false;
                for (int i = 0; i < cursors.length; i++)
                {
                    while (delivered < limit && !stopped && cursors[i].next())
                    {
                        handler.onRecord(hosts[i], cursors[i].index(), cursors[i].record());
                        delivered++;
                        any = true;
                    }
                }
                if (!any && !stopped)
                {
                    handler.onIdle();
                    // stop() unparks: a stop is seen at once, not after the period
                    LockSupport.parkNanos(this, bounded ?
                        Math.min(IDLE_PARK_NS, deadlineNanos - System.nanoTime()) : IDLE_PARK_NS);
                }
            }
        }
        finally
        {
            follower = null;
        }
        return delivered;
    }

    /** Make {@link #follow} return after the record it is delivering, now and for good; from any thread. */
    public void stop()
    {
        stopped = true;
        final Thread thread = follower;
        if (thread != null)
        {
            LockSupport.unpark(thread);
        }
    }

    /** @return true once {@link #stop()} has been called. */
    public boolean stopped()
    {
        return stopped;
    }

    @Override
    public void close()
    {
        for (final ChronicleJournal.Cursor cursor : cursors)
        {
            if (cursor != null)
            {
                cursor.close();
            }
        }
        set.close();
    }
}

package io.vmsched.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.concurrent.EpochNanoClock;
import org.agrona.concurrent.SystemEpochNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A host's journal in a Chronicle Queue directory: one excerpt per record, the record's bytes as
 * {@link JournalRecord} lays them out. Records are on disk (in the mapped file) as soon as
 * {@code append} returns, so they survive the process being killed; the OS writes them to the
 * device in its own time.
 * <p>
 * Roll cycle: daily (a new file per UTC day); block size 16 MiB (Chronicle maps a file in blocks and
 * an excerpt may take at most a quarter of one, which bounds a record at {@link JournalRecord#MAX_RECORD_LENGTH}).
 * Files are sparse: a journal takes on disk what it holds, plus Chronicle's index.
 * <p>
 * Threading: see {@link Journal}. The appender is Chronicle's, confined to one thread; a replay uses
 * its own tailer and may run while another thread appends.
 */
public final class ChronicleJournal implements Journal
{
    /** Block size of the queue's files. */
    public static final long BLOCK_SIZE = 16 << 20;
    private static final long READ_ONLY_TIMEOUT_MS = 1000;

    private final int hostId;
    private final Path dir;
    private final SingleChronicleQueue queue;
    private final EpochNanoClock clock;
    private final CRC32C crc = new CRC32C();
    private ExcerptAppender appender;
    private final java.util.concurrent.atomic.AtomicLong appended = new java.util.concurrent.atomic.AtomicLong();
    private UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]); // the record being written

    /**
     * Open (or create) the journal of a host.
     *
     * @param dir    the queue's directory, {@code <data>/journal/<hostId>}.
     * @param hostId the host's id, written in every record.
     * @param clock  timestamps' source.
     */
    public ChronicleJournal(final Path dir, final int hostId, final EpochNanoClock clock)
    {
        this(dir, hostId, clock, false);
    }

    private ChronicleJournal(final Path dir, final int hostId, final EpochNanoClock clock, final boolean readOnly)
    {
        this.hostId = hostId;
        this.dir = dir;
        this.clock = clock;
        try
        {
            if (!readOnly)
            {
                Files.createDirectories(dir);
            }
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalArgumentException("cannot create journal directory " + dir + ": " + ex.getMessage(), ex);
        }
        final SingleChronicleQueueBuilder builder = SingleChronicleQueueBuilder.binary(dir)
            .rollCycle(RollCycles.FAST_DAILY)
            .blockSize(BLOCK_SIZE)
            .readOnly(readOnly);
        if (readOnly)
        {
            builder.timeoutMS(READ_ONLY_TIMEOUT_MS); // a reader never waits long on a header no one will finish
        }
        this.queue = builder.build();
    }

    /**
     * Open a journal directory for reading only (tools).
     *
     * @param dir    the queue's directory.
     * @param hostId the host's id.
     * @return the journal; appending to it fails.
     */
    public static ChronicleJournal openReadOnly(final Path dir, final int hostId)
    {
        if (!Files.isDirectory(dir))
        {
            throw new IllegalArgumentException("no journal at " + dir);
        }
        return new ChronicleJournal(dir, hostId, new SystemEpochNanoClock(), true);
    }

    /**
     * @param dir    the queue's directory.
     * @param hostId the host's id.
     * @return a journal with the system clock.
     */
    public static ChronicleJournal open(final Path dir, final int hostId)
    {
        return new ChronicleJournal(dir, hostId, new SystemEpochNanoClock());
    }

    /** The queue (for {@link JournalCheck}). */
    SingleChronicleQueue queue()
    {
        return queue;
    }

    /** @return the queue's directory. */
    public Path dir()
    {
        return dir;
    }

    @Override
    public int hostId()
    {
        return hostId;
    }

    @Override
    public long append(final RecordType type, final long migrationId, final long vmId, final int peer, final int aux,
        final double a, final double b)
    {
        return write(type, migrationId, vmId, peer, aux, a, b, 0, 0);
    }

    @Override
    public long appendGuest(final RecordType type, final long migrationId, final long vmId, final int peer,
        final int aux, final byte[] kindUtf8, final byte[] state)
    {
        final int payload = 2 + kindUtf8.length + state.length;
        ensure(payload);
        JournalRecord.putGuest(buffer, JournalRecord.HEADER_LENGTH, kindUtf8, state);
        return write(type, migrationId, vmId, peer, aux, 0, 0, 0, payload);
    }

    @Override
    public long appendText(final RecordType type, final long migrationId, final long vmId, final int peer,
        final int aux, final double a, final double b, final int code, final String text)
    {
        final byte[] utf8 = JournalRecord.utf8(text);
        ensure(utf8.length);
        buffer.putBytes(JournalRecord.HEADER_LENGTH, utf8);
        return write(type, migrationId, vmId, peer, aux, a, b, code, utf8.length);
    }

    @Override
    public long appendPayload(final RecordType type, final long migrationId, final long vmId, final int peer,
        final int aux, final double a, final double b, final org.agrona.DirectBuffer payload, final int offset,
        final int length)
    {
        ensure(length);
        buffer.putBytes(JournalRecord.HEADER_LENGTH, payload, offset, length);
        return write(type, migrationId, vmId, peer, aux, a, b, 0, length);
    }

    private void ensure(final int payload)
    {
        if (payload > JournalRecord.MAX_PAYLOAD)
        {
            throw new IllegalArgumentException("journal record payload of " + payload + " bytes exceeds " +
                JournalRecord.MAX_PAYLOAD);
        }
        final int needed = JournalRecord.HEADER_LENGTH + payload;
        if (buffer.capacity() < needed)
        {
            buffer = new UnsafeBuffer(new byte[Math.max(needed, buffer.capacity() * 2)]);
        }
    }

    private long write(final RecordType type, final long migrationId, final long vmId, final int peer, final int aux,
        final double a, final double b, final int code, final int payload)
    {
        final int length = JournalRecord.encodeHeader(buffer, crc, type, clock.nanoTime(), hostId, migrationId, vmId,
            peer, aux, a, b, code, payload);
        if (appender == null)
        {
            appender = queue.createAppender();
        }
        try (DocumentContext context = appender.writingDocument())
        {
            context.wire().bytes().write(buffer.byteArray(), 0, length);
        }
        appended.lazySet(appended.get() + 1); // single writer: no CAS needed
        return appender.lastIndexAppended();
    }

    @Override
    public long replay(final RecordHandler handler)
    {
        long count = 0;
        try (Cursor cursor = cursor())
        {
            while (cursor.next())
            {
                handler.onRecord(cursor.index(), cursor.record());
                count++;
            }
        }
        return count;
    }

    /**
     * A cursor over the records from the start: a pull-style replay, so tools can merge the journals
     * of several hosts. Allocates nothing per record once its buffer has grown to the largest record.
     *
     * @return a cursor; close it when done.
     */
    public Cursor cursor()
    {
        return new Cursor(queue.createTailer());
    }

    /**
     * Reads one journal's records in order. <b>Note:</b> Not threadsafe.
     */
    public final class Cursor implements AutoCloseable
    {
        private final ExcerptTailer tailer;
        private final JournalRecord record = new JournalRecord();
        private byte[] bytes = new byte[1024];
        private long index = -1;

        private Cursor(final ExcerptTailer tailer)
        {
            this.tailer = tailer;
        }

        /**
         * Move to the next record.
         *
         * @return false at the end of what has been written so far (a later call may find more).
         * @throws JournalCorruptException if the next record cannot be decoded, naming its index.
         */
        public boolean next()
        {
            try
            {
                return next0();
            }
            catch (final InternalError ex)
            {
                // a read through the mapping past the end of a file cut short faults (SIGBUS)
                throw new JournalCorruptException(dir + " (" + queueFiles() + ")", index < 0 ? -1 : index + 1,
                    index < 0 ? "the journal file is truncated: it cannot be read from its start" :
                    "the journal file is truncated: reading after record " + index + " went past its end");
            }
        }

        private String queueFiles()
        {
            try (java.util.stream.Stream<Path> files = Files.list(dir))
            {
                return String.join(", ", files.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith(".cq4")).sorted().toList());
            }
            catch (final java.io.IOException ex)
            {
                return "unlistable";
            }
        }

        private boolean next0()
        {
            while (true)
            {
                try (DocumentContext context = tailer.readingDocument())
                {
                    if (!context.isPresent())
                    {
                        return false;
                    }
                    if (!context.isData())
                    {
                        continue;
                    }
                    index = context.index();
                    final Bytes<?> in = context.wire().bytes();
                    final long remaining = in.readRemaining();
                    if (remaining > JournalRecord.MAX_RECORD_LENGTH)
                    {
                        throw new JournalCorruptException(dir.toString(), index, "record of " + remaining +
                            " bytes is larger than any this schema writes");
                    }
                    final int length = (int)remaining;
                    if (bytes.length < length)
                    {
                        bytes = new byte[Math.max(length, bytes.length * 2)];
                    }
                    in.read(bytes, 0, length);
                    final String problem = record.wrap(bytes, length);
                    if (problem != null)
                    {
                        throw new JournalCorruptException(dir.toString(), index, problem);
                    }
                    return true;
                }
            }
        }

        /** @return the current record (valid until the next call to {@link #next()}). */
        public JournalRecord record()
        {
            return record;
        }

        /** @return the current record's index in its journal. */
        public long index()
        {
            return index;
        }

        /** @return the journal's directory. */
        public Path dir()
        {
            return dir;
        }

        @Override
        public void close()
        {
            tailer.close();
        }
    }

    @Override
    public long recordsAppended()
    {
        return appended.get();
    }

    @Override
    public void handOver()
    {
        if (appender != null)
        {
            appender.singleThreadedCheckReset();
        }
    }

    @Override
    public void close()
    {
        if (appender != null)
        {
            appender.close();
        }
        queue.close();
    }

    @Override
    public String toString()
    {
        return "journal " + dir;
    }
}

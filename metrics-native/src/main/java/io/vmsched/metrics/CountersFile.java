package io.vmsched.metrics;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The live counters file, {@code <data>/counters.dat}: an Agrona {@link CountersManager} over a
 * memory-mapped file, as Aeron's CnC file, so another process ({@code vmsched stat}) reads every
 * host's figures without touching the runtime. Layout:
 * <pre>
 *  0   int   magic "VMCT" (not the schedule file's "VMSC": neither reader accepts the other's file)
 *  4   int   layout version (1)
 *  8   long  pid of the writing process
 *  16  long  start, ms since the epoch
 *  24  long  heartbeat, ms since the epoch (volatile; -1 once the writer closed the file cleanly)
 *  32  int   metadata length
 *  36  int   values length
 *  40  int   sample period, ms
 *  64  ...   counters metadata, then counters values (Agrona's layouts)
 * </pre>
 * A counter's type id gives its unit ({@link #TYPE_COUNT}, {@link #TYPE_PPM}, {@link #TYPE_BYTES},
 * {@link #TYPE_BYTES_PER_SECOND}, {@link #TYPE_MILLI}); its key holds the host id (-1 for the machine).
 * <p>
 * Threading: one writing thread (the metrics agent); readers in any process.
 */
public final class CountersFile implements AutoCloseable
{
    /** The file's name in the data directory. */
    public static final String FILE_NAME = "counters.dat";
    /** A plain count. */
    public static final int TYPE_COUNT = 1;
    /** A fraction, in millionths. */
    public static final int TYPE_PPM = 2;
    /** Bytes. */
    public static final int TYPE_BYTES = 3;
    /** Bytes per second. */
    public static final int TYPE_BYTES_PER_SECOND = 4;
    /** A figure in thousandths. */
    public static final int TYPE_MILLI = 5;

    static final int MAGIC = 0x56_4D_43_54;
    static final int VERSION = 1;
    static final int PID_OFFSET = 8;
    static final int START_OFFSET = 16;
    static final int HEARTBEAT_OFFSET = 24;
    static final int METADATA_LENGTH_OFFSET = 32;
    static final int VALUES_LENGTH_OFFSET = 36;
    static final int PERIOD_OFFSET = 40;
    static final int HEADER_LENGTH = 64;

    private final Path path;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final CountersManager counters;

    private CountersFile(final Path path, final int maxCounters, final long periodMs)
    {
        this.path = path;
        final int valuesLength = maxCounters * CountersReader.COUNTER_LENGTH;
        final int metadataLength = maxCounters * CountersReader.METADATA_LENGTH;
        try
        {
            mapped = IoUtil.mapNewFile(path.toFile(), HEADER_LENGTH + metadataLength + valuesLength);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("cannot create the counters file " + path + ": " + ex.getMessage(), ex);
        }
        header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        counters = new CountersManager(new UnsafeBuffer(mapped, HEADER_LENGTH, metadataLength),
            new UnsafeBuffer(mapped, HEADER_LENGTH + metadataLength, valuesLength));
        header.putInt(METADATA_LENGTH_OFFSET, metadataLength);
        header.putInt(VALUES_LENGTH_OFFSET, valuesLength);
        header.putInt(PERIOD_OFFSET, (int)periodMs);
        header.putLong(PID_OFFSET, ProcessHandle.current().pid());
        header.putLong(START_OFFSET, System.currentTimeMillis());
        header.putLongVolatile(HEARTBEAT_OFFSET, System.currentTimeMillis());
        header.putInt(4, VERSION);
        header.putIntVolatile(0, MAGIC); // last: a reader that sees the magic sees the rest
    }

    /**
     * Create the counters file afresh (an old one is replaced).
     *
     * @param dataDir     the data directory.
     * @param maxCounters room for this many counters.
     * @param periodMs    how often the writer refreshes it (readers judge staleness by it).
     * @return the file, open for writing.
     */
    public static CountersFile create(final Path dataDir, final int maxCounters, final long periodMs)
    {
        try
        {
            Files.createDirectories(dataDir);
            Files.deleteIfExists(dataDir.resolve(FILE_NAME));
        }
        catch (final java.nio.file.DirectoryNotEmptyException ex)
        {
            throw new IllegalArgumentException("cannot create " + dataDir.resolve(FILE_NAME) + ": a directory that is not " +
                "empty is in its place", ex);
        }
        catch (final java.nio.file.FileSystemException ex)
        {
            // the message of most is only the path; the reason says what went wrong
            throw new IllegalArgumentException("cannot create " + dataDir.resolve(FILE_NAME) + ": " +
                (ex.getReason() != null ? ex.getReason() : ex.getClass().getSimpleName()), ex);
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalArgumentException("cannot create " + dataDir.resolve(FILE_NAME) + ": " + ex.getMessage(), ex);
        }
        return new CountersFile(dataDir.resolve(FILE_NAME), maxCounters, periodMs);
    }

    /**
     * @param label what the counter is, for people.
     * @param type  its unit (a TYPE_ constant).
     * @param host  the host it belongs to, -1 for the machine.
     * @return its id.
     */
    public int allocate(final String label, final int type, final int host)
    {
        return counters.allocate(label, type, key -> key.putInt(0, host));
    }

    /**
     * @param id    a counter.
     * @param value its new value (an ordered store: readers see it whole).
     */
    public void set(final int id, final long value)
    {
        counters.setCounterValue(id, value);
    }

    /** Tell readers the writer is alive. */
    public void heartbeat()
    {
        header.putLongOrdered(HEARTBEAT_OFFSET, System.currentTimeMillis());
    }

    /** @return the file. */
    public Path path()
    {
        return path;
    }

    /** Mark the file closed (readers say so) and unmap it. */
    private boolean closed;

    @Override
    public void close()
    {
        if (closed)
        {
            return; // unmapped already: touching it again would crash the JVM
        }
        closed = true;
        header.putLongVolatile(HEARTBEAT_OFFSET, -1);
        mapped.force();
        IoUtil.unmap(mapped);
    }

    static File file(final Path dataDir)
    {
        return dataDir.resolve(FILE_NAME).toFile();
    }
}

package io.vmsched.metrics;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Reads a live counters file written by another process (see {@link CountersFile} for its layout).
 * <p>
 * Threading: one reader per instance; the writer may be writing meanwhile.
 */
public final class CountersFileReader implements AutoCloseable
{
    /** Receives each counter. */
    @FunctionalInterface
    public interface Consumer
    {
        /**
         * @param host  the host (-1: the machine).
         * @param type  the unit (a {@link CountersFile} TYPE_ constant).
         * @param label what it is.
         * @param value its value.
         */
        void accept(int host, int type, String label, long value);
    }

    private final Path path;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final CountersReader counters;

    private CountersFileReader(final Path path, final MappedByteBuffer mapped)
    {
        this.path = path;
        this.mapped = mapped;
        header = new UnsafeBuffer(mapped, 0, CountersFile.HEADER_LENGTH);
        final int metadataLength = header.getInt(CountersFile.METADATA_LENGTH_OFFSET);
        final int valuesLength = header.getInt(CountersFile.VALUES_LENGTH_OFFSET);
        counters = new CountersReader(new UnsafeBuffer(mapped, CountersFile.HEADER_LENGTH, metadataLength),
            new UnsafeBuffer(mapped, CountersFile.HEADER_LENGTH + metadataLength, valuesLength));
    }

    /**
     * Open the counters file of a data directory.
     *
     * @param dataDir the data directory a node was started with.
     * @return the reader.
     * @throws IllegalArgumentException with a one-line reason if there is no valid file.
     */
    public static CountersFileReader open(final Path dataDir)
    {
        final File file = CountersFile.file(dataDir);
        if (!file.isFile())
        {
            throw new IllegalArgumentException("no counters file at " + file + ": is a vmsched node running with --data " +
                dataDir + "?");
        }
        if (file.length() < CountersFile.HEADER_LENGTH)
        {
            throw new IllegalArgumentException(file + " is not a vmsched counters file (" + file.length() + " bytes)");
        }
        final MappedByteBuffer mapped;
        try
        {
            mapped = IoUtil.mapExistingFile(file, FileChannel.MapMode.READ_ONLY, "counters"); // a reader never writes
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("cannot read " + file + ": " + ex.getMessage(), ex);
        }
        final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, CountersFile.HEADER_LENGTH);
        final int magic = header.getIntVolatile(0);
        final int version = header.getInt(4);
        final long needed = CountersFile.HEADER_LENGTH + (long)header.getInt(CountersFile.METADATA_LENGTH_OFFSET) +
            header.getInt(CountersFile.VALUES_LENGTH_OFFSET);
        if (magic == 0)
        {
            IoUtil.unmap(mapped);
            throw new IllegalArgumentException(file + " is still being created by its node: try again in a moment");
        }
        if (magic != CountersFile.MAGIC || version != CountersFile.VERSION || needed > file.length())
        {
            IoUtil.unmap(mapped);
            throw new IllegalArgumentException(file + " is not a vmsched counters file of layout " + CountersFile.VERSION +
                " (magic " + Integer.toHexString(magic) + ", version " + version + ")");
        }
        return new CountersFileReader(file.toPath(), mapped);
    }

    /** @return the writer's pid. */
    public long pid()
    {
        return header.getLong(CountersFile.PID_OFFSET);
    }

    /** @return the last heartbeat, ms since the epoch, or -1 if the writer closed the file. */
    public long heartbeatMs()
    {
        return header.getLongVolatile(CountersFile.HEARTBEAT_OFFSET);
    }

    /** @return the writer's sample period, ms. */
    public long periodMs()
    {
        return header.getInt(CountersFile.PERIOD_OFFSET);
    }

    /**
     * Why the figures are not live, or null if they are.
     *
     * @param nowMs the time now, ms since the epoch.
     * @return null if live; otherwise one line saying why not.
     */
    public String staleness(final long nowMs)
    {
        final long heartbeat = heartbeatMs();
        if (heartbeat == -1)
        {
            return "the node (pid " + pid() + ") closed " + path + " when it stopped: the figures are its last";
        }
        final boolean running = ProcessHandle.of(pid()).map(ProcessHandle::isAlive).orElse(false);
        if (!running)
        {
            return "the node that wrote " + path + " (pid " + pid() + ") is not running: the figures are its last, " +
                (nowMs - heartbeat) / 1000 + " s old";
        }
        if (nowMs - heartbeat > 3 * Math.max(periodMs(), 1000))
        {
            return "no heartbeat in " + path + " for " + (nowMs - heartbeat) / 1000 + " s (pid " + pid() + " is hung?)";
        }
        return null;
    }

    /**
     * @param consumer receives every counter, in allocation order.
     */
    public void forEach(final Consumer consumer)
    {
        counters.forEach((counterId, typeId, keyBuffer, label) ->
            consumer.accept(keyBuffer.getInt(0), typeId, label, counters.getCounterValue(counterId)));
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}

package io.vmsched.metrics;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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
     * @throws IllegalArgumentException with a one-line reason if there is no valid file: missing, a
     *                                  directory, empty, not ours, truncated or with a damaged header.
     */
    public static CountersFileReader open(final Path dataDir)
    {
        final File file = CountersFile.file(dataDir);
        if (file.isDirectory())
        {
            throw new IllegalArgumentException(file + " is a directory, not a counters file");
        }
        if (!file.isFile())
        {
            throw new IllegalArgumentException((file.exists() ? file + " is not a regular file" : "no counters file at " +
                file) + ": is a vmsched node running with --data " + dataDir + "?");
        }
        final long length = file.length();
        if (length < CountersFile.HEADER_LENGTH)
        {
            throw new IllegalArgumentException(shortFile(file, length));
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
        final String problem = headerProblem(file, new UnsafeBuffer(mapped, 0, CountersFile.HEADER_LENGTH), length);
        if (problem != null)
        {
            IoUtil.unmap(mapped);
            throw new IllegalArgumentException(problem);
        }
        return new CountersFileReader(file.toPath(), mapped);
    }

    /** Why a file shorter than the header is not readable: being created, truncated, or not ours. */
    private static String shortFile(final File file, final long length)
    {
        final ByteBuffer start = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file.toPath(), StandardOpenOption.READ))
        {
            while (start.hasRemaining() && channel.read(start) >= 0)
            {
                // read what there is of the magic and version
            }
        }
        catch (final IOException ex)
        {
            return "cannot read " + file + ": " + ex.getMessage();
        }
        final int magic = start.position() >= 4 ? start.getInt(0) : 0;
        if (length == 0 || magic == 0)
        {
            return file + " is empty (" + length + " bytes): a node may be creating it (try again in a moment), or " +
                "it is not a counters file";
        }
        if (magic == CountersFile.MAGIC)
        {
            return file + " is truncated: expected at least the " + CountersFile.HEADER_LENGTH + "-byte header, has " +
                length + " bytes";
        }
        return file + " is not a vmsched counters file (" + length + " bytes, magic " + Integer.toHexString(magic) + ")";
    }

    /** @return why a mapped file cannot be read as a counters file, or null if it can. */
    private static String headerProblem(final File file, final UnsafeBuffer header, final long length)
    {
        final int magic = header.getIntVolatile(0);
        final int version = header.getInt(4);
        if (magic == 0)
        {
            return file + " is still being created by its node: try again in a moment";
        }
        if (magic != CountersFile.MAGIC || version != CountersFile.VERSION)
        {
            return file + " is not a vmsched counters file of layout " + CountersFile.VERSION + " (magic " +
                Integer.toHexString(magic) + ", version " + version + ")";
        }
        final int metadataLength = header.getInt(CountersFile.METADATA_LENGTH_OFFSET);
        final int valuesLength = header.getInt(CountersFile.VALUES_LENGTH_OFFSET);
        if (metadataLength < 0 || valuesLength < 0 ||
            metadataLength % CountersReader.METADATA_LENGTH != 0 || valuesLength % CountersReader.COUNTER_LENGTH != 0 ||
            metadataLength / CountersReader.METADATA_LENGTH != valuesLength / CountersReader.COUNTER_LENGTH)
        {
            return file + " is damaged: its header gives " + metadataLength + " bytes of counter metadata and " +
                valuesLength + " of values, which no writer of layout " + CountersFile.VERSION + " makes";
        }
        final long expected = CountersFile.HEADER_LENGTH + (long)metadataLength + valuesLength;
        if (expected > length)
        {
            return file + " is truncated: expected " + expected + " bytes, has " + length;
        }
        return null;
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
     * @throws IllegalArgumentException naming the file and counter if a counter's metadata is damaged.
     */
    public void forEach(final Consumer consumer)
    {
        // Agrona's own forEach trusts each label's length; a damaged file would throw from inside it
        final AtomicBuffer metadata = counters.metaDataBuffer();
        for (int id = 0, max = counters.maxCounterId(); id <= max; id++)
        {
            final int offset = CountersReader.metaDataOffset(id);
            final int state = metadata.getIntVolatile(offset);
            if (state == CountersReader.RECORD_UNUSED)
            {
                break;
            }
            if (state != CountersReader.RECORD_ALLOCATED)
            {
                continue;
            }
            final int labelLength = metadata.getInt(offset + CountersReader.LABEL_OFFSET);
            if (labelLength < 0 || labelLength > CountersReader.MAX_LABEL_LENGTH)
            {
                throw new IllegalArgumentException(path + " is damaged: counter " + id + " has a label of " + labelLength +
                    " bytes (at most " + CountersReader.MAX_LABEL_LENGTH + ")");
            }
            consumer.accept(metadata.getInt(offset + CountersReader.KEY_OFFSET), counters.getCounterTypeId(id),
                counters.getCounterLabel(id), counters.getCounterValue(id));
        }
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}

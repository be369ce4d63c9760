package io.vmsched.guest;

import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A guest that writes a fixed number of bytes to a file each slice and reports them as I/O. The
 * file is reused from its start once it reaches a size limit, so a long run does not fill the disk.
 * <p>
 * Threading: as every {@link Guest}; {@link #close()} after its entry has left the schedule.
 */
public final class IoWriterGuest implements Guest, AutoCloseable
{
    private static final int SNAPSHOT_LENGTH = 4 + 8 + 8;
    private static final int SNAPSHOT_MAGIC = 0x494F5752; // 'IOWR'

    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer block;
    private final int bytesPerSlice;
    private final long maxFileBytes;
    private long position;
    private long written;

    /**
     * @param file          where to write; created or truncated.
     * @param bytesPerSlice bytes written each slice, at least 1.
     * @param maxFileBytes  the file is written from its start again past this size.
     */
    public IoWriterGuest(final Path file, final int bytesPerSlice, final long maxFileBytes)
    {
        if (bytesPerSlice < 1)
        {
            throw new IllegalArgumentException("bytes per slice must be at least 1, got " + bytesPerSlice);
        }
        if (maxFileBytes < bytesPerSlice)
        {
            throw new IllegalArgumentException("file limit " + maxFileBytes + " is below one slice's " +
                bytesPerSlice + " bytes");
        }
        this.file = file;
        this.bytesPerSlice = bytesPerSlice;
        this.maxFileBytes = maxFileBytes;
        this.block = ByteBuffer.allocateDirect(Math.min(bytesPerSlice, 64 * 1024));
        for (int i = 0; i < block.capacity(); i++)
        {
            block.put(i, (byte)i);
        }
        try
        {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open " + file + " for the I/O writer guest", ex);
        }
    }

    /** @return bytes written so far (carried across snapshot and restore). */
    public long written()
    {
        return written;
    }

    /** @return the file written to. */
    public Path file()
    {
        return file;
    }

    @Override
    public void runSlice(final SliceContext context)
    {
        int remaining = bytesPerSlice;
        try
        {
            while (remaining > 0)
            {
                if (position + block.capacity() > maxFileBytes)
                {
                    position = 0;
                }
                block.clear().limit(Math.min(remaining, block.capacity()));
                final int n = channel.write(block, position);
                position += n;
                remaining -= n;
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("I/O writer guest of vm " + context.vmId() + " cannot write " + file, ex);
        }
        written += bytesPerSlice;
        context.reportIo(bytesPerSlice);
    }

    @Override
    public byte[] snapshot()
    {
        return ByteBuffer.allocate(SNAPSHOT_LENGTH).putInt(SNAPSHOT_MAGIC).putLong(position).putLong(written).array();
    }

    @Override
    public void restore(final byte[] state)
    {
        final ByteBuffer buffer = ByteBuffer.wrap(state);
        if (state.length != SNAPSHOT_LENGTH || buffer.getInt() != SNAPSHOT_MAGIC)
        {
            throw new IllegalArgumentException("not an I/O writer snapshot (" + state.length + " bytes)");
        }
        position = buffer.getLong() % maxFileBytes;
        written = buffer.getLong();
    }

    @Override
    public void close()
    {
        try
        {
            channel.close();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot close " + file, ex);
        }
    }

    @Override
    public String toString()
    {
        return "IoWriterGuest{file=" + file + ", bytesPerSlice=" + bytesPerSlice + ", written=" + written + '}';
    }
}

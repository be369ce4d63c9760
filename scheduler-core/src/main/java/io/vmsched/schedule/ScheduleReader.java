package io.vmsched.schedule;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.vmsched.schedule.ScheduleDescriptor.*;

/**
 * A read-only view of a live schedule, usually one another process maps to a file with
 * {@link Schedule#mapNew}. Reading never disturbs the owner: no stores, no CAS.
 * <p>
 * <b>Note:</b> Not threadsafe: use one reader per thread (each reader is cheap).
 */
public final class ScheduleReader implements AutoCloseable
{
    private final AtomicBuffer buffer;
    private final MappedByteBuffer mapped;
    private final int capacity;

    /**
     * A reader over a buffer that holds a schedule.
     *
     * @param buffer the schedule's buffer.
     * @throws IllegalStateException if the buffer does not hold a schedule of this layout version.
     */
    public ScheduleReader(final AtomicBuffer buffer)
    {
        this(buffer, null, "buffer");
    }

    private ScheduleReader(final AtomicBuffer buffer, final MappedByteBuffer mapped, final String where)
    {
        if (buffer.capacity() < HEADER_LENGTH)
        {
            throw new IllegalStateException(where + ": " + buffer.capacity() + " bytes, too short to be a schedule");
        }
        final int magic = buffer.getIntVolatile(MAGIC_OFFSET);
        if (magic != MAGIC)
        {
            throw new IllegalStateException(where + ": not a vmsched schedule (magic " +
                Integer.toHexString(magic) + ", expected " + Integer.toHexString(MAGIC) + ")");
        }
        final int version = buffer.getInt(VERSION_OFFSET);
        if (version != LAYOUT_VERSION)
        {
            throw new IllegalStateException(where + ": schedule layout version " + version +
                ", this reader knows " + LAYOUT_VERSION);
        }
        final int slotLength = buffer.getInt(SLOT_LENGTH_OFFSET);
        final int capacity = buffer.getInt(CAPACITY_OFFSET);
        if (slotLength != SLOT_LENGTH || capacity < 1 || buffer.capacity() < bufferLength(capacity))
        {
            throw new IllegalStateException(where + ": corrupt header (slot length " + slotLength + ", capacity " +
                capacity + ", " + buffer.capacity() + " bytes)");
        }
        this.buffer = buffer;
        this.mapped = mapped;
        this.capacity = capacity;
    }

    /**
     * Map an existing schedule file read-only.
     *
     * @param file the file a {@link Schedule} was mapped to.
     * @return the reader; {@link #close()} unmaps it.
     * @throws IllegalStateException naming the file if it is missing or not a schedule.
     */
    public static ScheduleReader open(final Path file)
    {
        if (!Files.isRegularFile(file))
        {
            throw new IllegalStateException(file + ": no schedule file there");
        }
        final MappedByteBuffer mapped = IoUtil.mapExistingFile(
            file.toFile(), FileChannel.MapMode.READ_ONLY, "schedule");
        try
        {
            return new ScheduleReader(new UnsafeBuffer(mapped), mapped, file.toString());
        }
        catch (final RuntimeException ex)
        {
            IoUtil.unmap(mapped);
            throw ex;
        }
    }

    /** @return number of slots. */
    public int capacity()
    {
        return capacity;
    }

    /** @return entries in the schedule, as last published by its host agent. */
    public int liveCount()
    {
        return buffer.getIntVolatile(LIVE_COUNT_OFFSET);
    }

    /** @return process id of the schedule's owner. */
    public long ownerPid()
    {
        return buffer.getLong(PID_OFFSET);
    }

    /** @return ring positions handed to workers so far. */
    public long dispatchCursor()
    {
        return buffer.getLongVolatile(CURSOR_OFFSET);
    }

    /**
     * Copy one slot consistently: retries while the slot is being freed and reused under the read.
     *
     * @param slot the slot index.
     * @param into the holder to fill.
     * @return true if the slot holds an entry, false if it is FREE.
     */
    public boolean read(final int slot, final EntrySnapshot into)
    {
        final int offset = slotOffset(slot);
        while (true)
        {
            final int generation = buffer.getIntVolatile(offset + GENERATION_OFFSET);
            final int state = buffer.getIntVolatile(offset + STATE_OFFSET);
            if (state == EntryState.FREE)
            {
                return false;
            }
            into.slot = slot;
            into.state = state;
            into.generation = generation;
            into.vmId = buffer.getLongVolatile(offset + VM_ID_OFFSET);
            into.weight = buffer.getIntVolatile(offset + WEIGHT_OFFSET);
            into.cpuNanos = buffer.getLongVolatile(offset + CPU_NANOS_OFFSET);
            into.slices = buffer.getLongVolatile(offset + SLICES_OFFSET);
            into.ioBytes = buffer.getLongVolatile(offset + IO_BYTES_OFFSET);
            into.memBytes = buffer.getLongVolatile(offset + MEM_BYTES_OFFSET);
            if (buffer.getIntVolatile(offset + GENERATION_OFFSET) == generation)
            {
                return true; // same incarnation throughout: the copy belongs to one entry
            }
        }
    }

    /**
     * Visit every slot that holds an entry.
     *
     * @param holder  reused for each entry.
     * @param visitor called once per entry.
     * @return number of entries visited.
     */
    public int forEach(final EntrySnapshot holder, final java.util.function.Consumer<EntrySnapshot> visitor)
    {
        int count = 0;
        for (int slot = 0; slot < capacity; slot++)
        {
            if (read(slot, holder))
            {
                visitor.accept(holder);
                count++;
            }
        }
        return count;
    }

    @Override
    public void close()
    {
        if (mapped != null)
        {
            IoUtil.unmap(mapped);
        }
    }
}

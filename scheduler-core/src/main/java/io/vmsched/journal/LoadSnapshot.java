package io.vmsched.journal;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The payload of a {@link RecordType#LOAD_SNAPSHOT} record: the host's inventory figures, so that
 * {@code vmsched inventory} and its forecasts can be read from a journal directory. The one descriptor
 * of the layout, used by the writer (the host agent) and every reader. Little-endian:
 * <pre>
 *  offset size field
 *   0     40   CPU (reference cores): capacity, reserved, ceiling, used (measured), required (as the load counts)
 *  40     40   I/O (bytes a second): the same five doubles
 *  80     40   memory (bytes): the same five doubles
 * 120     4    the host's maximum of VMs (0: none)
 * 124     4    reserved, 0
 * </pre>
 * The header's {@code a} keeps the host's load and {@code aux} its VM count, as before this payload: a
 * snapshot written before it has an empty payload ({@link #present} is false), and an older reader
 * skips the payload.
 * <p>
 * <b>Note:</b> A flyweight, not threadsafe: one per writer or reader. Allocates nothing.
 */
public final class LoadSnapshot
{
    /** Resource index: CPU. */
    public static final int CPU = 0;
    /** Resource index: I/O. */
    public static final int IO = 1;
    /** Resource index: memory. */
    public static final int MEMORY = 2;
    /** Field index: what the host has. */
    public static final int CAPACITY = 0;
    /** Field index: what is kept free for the host itself. */
    public static final int RESERVED = 1;
    /** Field index: the ceiling, a share of the capacity. */
    public static final int CEILING = 2;
    /** Field index: what the VMs use, as measured. */
    public static final int USED = 3;
    /** Field index: what the VMs require, as the load counts it. */
    public static final int REQUIRED = 4;
    /** The payload's length. */
    public static final int LENGTH = 128;

    private static final int FIELDS = 5;
    private static final int MAX_VMS_OFFSET = 3 * FIELDS * Double.BYTES;
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutable;
    private int offset;
    private int length;

    /**
     * Wrap a payload to write.
     *
     * @param buffer holds at least {@link #LENGTH} bytes from offset.
     * @param offset where the payload starts.
     * @return this.
     */
    public LoadSnapshot wrapForWrite(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.mutable = buffer;
        this.offset = offset;
        this.length = LENGTH;
        buffer.putInt(offset + MAX_VMS_OFFSET + Integer.BYTES, 0, ORDER);
        return this;
    }

    /**
     * Wrap a record's payload to read.
     *
     * @param record a {@link RecordType#LOAD_SNAPSHOT} record.
     * @return this.
     */
    public LoadSnapshot wrap(final JournalRecord record)
    {
        this.buffer = record.payload();
        this.mutable = null;
        this.offset = 0;
        this.length = record.payloadLength();
        return this;
    }

    /** @return whether the payload is there (a snapshot from before it carries none). */
    public boolean present()
    {
        return length >= LENGTH;
    }

    /**
     * @param resource {@link #CPU}, {@link #IO} or {@link #MEMORY}.
     * @param field    {@link #CAPACITY}, {@link #RESERVED}, {@link #CEILING}, {@link #USED} or {@link #REQUIRED}.
     * @return the figure.
     */
    public double get(final int resource, final int field)
    {
        return buffer.getDouble(at(resource, field), ORDER);
    }

    /**
     * @param resource {@link #CPU}, {@link #IO} or {@link #MEMORY}.
     * @param field    {@link #CAPACITY}, {@link #RESERVED}, {@link #CEILING}, {@link #USED} or {@link #REQUIRED}.
     * @param value    the figure.
     * @return this.
     */
    public LoadSnapshot set(final int resource, final int field, final double value)
    {
        mutable.putDouble(at(resource, field), value, ORDER);
        return this;
    }

    /** @return the host's maximum of VMs, 0 for none. */
    public int maxVms()
    {
        return buffer.getInt(offset + MAX_VMS_OFFSET, ORDER);
    }

    /**
     * @param maxVms the host's maximum of VMs, 0 for none.
     * @return this.
     */
    public LoadSnapshot maxVms(final int maxVms)
    {
        mutable.putInt(offset + MAX_VMS_OFFSET, maxVms, ORDER);
        return this;
    }

    private int at(final int resource, final int field)
    {
        return offset + (resource * FIELDS + field) * Double.BYTES;
    }
}

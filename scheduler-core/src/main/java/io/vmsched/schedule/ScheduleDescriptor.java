package io.vmsched.schedule;

/**
 * Layout of a schedule buffer: a header followed by {@code capacity} slots of one cache line each.
 * <p>
 * Header (256 bytes; the dispatch cursor has a cache-line pair of its own so that workers bumping
 * it do not disturb readers of the header):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Magic 'VMSC'                          |  0
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |  4
 *  +---------------------------------------------------------------+
 *  |                           Capacity                            |  8
 *  +---------------------------------------------------------------+
 *  |                          Slot Length                          |  12
 *  +---------------------------------------------------------------+
 *  |                       Owner PID (64 bits)                     |  16
 *  +---------------------------------------------------------------+
 *  |                  Start Time, epoch ms (64 bits)               |  24
 *  +---------------------------------------------------------------+
 *  |                 Quantum Nanos per weight unit                 |  32
 *  +---------------------------------------------------------------+
 *  |                          Claim Batch                          |  36
 *  +---------------------------------------------------------------+
 *  |           Live Entry Count (written by the host agent)        |  40
 *  +---------------------------------------------------------------+
 *  |                              ...                              |
 *  +---------------------------------------------------------------+
 *  |                  Dispatch Cursor (64 bits)                    |  128
 *  +---------------------------------------------------------------+
 *  |                              ...                              |  to 256
 *  +---------------------------------------------------------------+
 * </pre>
 * Slot (64 bytes, one cache line):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                            State                              |  0
 *  +---------------------------------------------------------------+
 *  |                          Generation                           |  4
 *  +---------------------------------------------------------------+
 *  |                         VM Id (64 bits)                       |  8
 *  +---------------------------------------------------------------+
 *  |                            Weight                             |  16
 *  +---------------------------------------------------------------+
 *  |                 Pending State (requested by agent)            |  20
 *  +---------------------------------------------------------------+
 *  |                   Served Turn (of the cursor)                 |  24
 *  +---------------------------------------------------------------+
 *  |                  Credit Nanos (deficit carried)               |  28
 *  +---------------------------------------------------------------+
 *  |                     CPU Nanos (64 bits)                       |  32
 *  +---------------------------------------------------------------+
 *  |                       Slices (64 bits)                        |  40
 *  +---------------------------------------------------------------+
 *  |                     I/O Bytes (64 bits)                       |  48
 *  +---------------------------------------------------------------+
 *  |                   Memory Bytes (64 bits)                      |  56
 *  +---------------------------------------------------------------+
 * </pre>
 * A VM's programmed target load is not kept in the slot: it belongs to the load model, off the
 * dispatch path; the slot carries what dispatch reads and writes.
 */
public final class ScheduleDescriptor
{
    /** 'VMSC' in ASCII. */
    public static final int MAGIC = 0x564D5343;
    /** Bumped whenever the header or slot layout changes. */
    public static final int LAYOUT_VERSION = 1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int CAPACITY_OFFSET = 8;
    public static final int SLOT_LENGTH_OFFSET = 12;
    public static final int PID_OFFSET = 16;
    public static final int START_TIME_OFFSET = 24;
    public static final int QUANTUM_OFFSET = 32;
    public static final int CLAIM_BATCH_OFFSET = 36;
    public static final int LIVE_COUNT_OFFSET = 40;
    public static final int CURSOR_OFFSET = 128;
    public static final int HEADER_LENGTH = 256;

    public static final int SLOT_LENGTH = 64;
    /** log2 of {@link #SLOT_LENGTH}. */
    public static final int SLOT_SHIFT = 6;
    public static final int STATE_OFFSET = 0;
    public static final int GENERATION_OFFSET = 4;
    public static final int VM_ID_OFFSET = 8;
    public static final int WEIGHT_OFFSET = 16;
    public static final int PENDING_OFFSET = 20;
    public static final int SERVED_TURN_OFFSET = 24;
    public static final int CREDIT_OFFSET = 28;
    public static final int CPU_NANOS_OFFSET = 32;
    public static final int SLICES_OFFSET = 40;
    public static final int IO_BYTES_OFFSET = 48;
    public static final int MEM_BYTES_OFFSET = 56;

    /** Largest capacity: keeps slot offsets within an int. */
    public static final int MAX_CAPACITY = 1 << 24;

    private ScheduleDescriptor()
    {
    }

    /**
     * Bytes needed for a schedule of the given capacity.
     *
     * @param capacity number of slots, a power of two.
     * @return header plus slots, in bytes.
     */
    public static int bufferLength(final int capacity)
    {
        return HEADER_LENGTH + capacity * SLOT_LENGTH;
    }

    /**
     * Offset of a slot in the buffer.
     *
     * @param slot index of the slot.
     * @return its offset in bytes.
     */
    public static int slotOffset(final int slot)
    {
        return HEADER_LENGTH + slot * SLOT_LENGTH;
    }
}

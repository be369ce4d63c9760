package io.vmsched.vm;

/**
 * Layout of an encoded {@link VmHandle} ({@link VmHandle#encode}, {@link VmHandle#decode}): a fixed header, then
 * the variable parts in this order: name (UTF-8), control path (UTF-8), incoming URI (UTF-8, absent when its
 * length is {@link #NO_URI}), spec (the driver's bytes). Integers are little-endian.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Magic 'VMHD'                          |  0
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |  4
 *  +---------------------------------------------------------------+
 *  |                          PID (64 bits)                        |  8
 *  +---------------------------------------------------------------+
 *  |                          Name Length                          |  16
 *  +---------------------------------------------------------------+
 *  |                     Control Path Length                       |  20
 *  +---------------------------------------------------------------+
 *  |              Incoming URI Length (-1: no URI)                 |  24
 *  +---------------------------------------------------------------+
 *  |                          Spec Length                          |  28
 *  +---------------------------------------------------------------+
 *  |           Name, Control Path, Incoming URI, Spec ...         ...  32
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class VmHandleDescriptor
{
    /** 'VMHD' in ASCII. */
    public static final int MAGIC = 0x564D4844;
    /** Bumped whenever the layout changes. */
    public static final int LAYOUT_VERSION = 1;
    /** The incoming URI's length when there is none. */
    public static final int NO_URI = -1;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 4;
    public static final int PID_OFFSET = 8;
    public static final int NAME_LENGTH_OFFSET = 16;
    public static final int CONTROL_LENGTH_OFFSET = 20;
    public static final int URI_LENGTH_OFFSET = 24;
    public static final int SPEC_LENGTH_OFFSET = 28;
    /** Where the name begins. */
    public static final int HEADER_LENGTH = 32;

    private VmHandleDescriptor()
    {
    }
}

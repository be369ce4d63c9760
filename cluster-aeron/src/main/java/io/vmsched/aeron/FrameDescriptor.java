package io.vmsched.aeron;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_LONG;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * The one layout of a host-to-host frame on the Aeron data plane, used by the writer
 * ({@link AeronTransport#send}) and the reader ({@link AeronTransport#poll}) alike. Little-endian
 * (Agrona's default byte order).
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            Version            |           Reserved            |
 *  +-------------------------------+-------------------------------+
 *  |                         Message Type                          |
 *  +---------------------------------------------------------------+
 *  |                        Sender Host Id                         |
 *  +---------------------------------------------------------------+
 *  |                        Target Host Id                         |
 *  +---------------------------------------------------------------+
 *  |                                                               |
 *  +                Sequence Number (per sender)                   +
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Payload Length                         |
 *  +---------------------------------------------------------------+
 *  |                    Target's Incarnation                       |
 *  +---------------------------------------------------------------+
 *  |                      Payload (0..n bytes)                    ...
 * ...                                                              |
 *  +---------------------------------------------------------------+
 *  |         HMAC-SHA-256 over Version..Payload (32 bytes)        ...
 * ...                                                              |
 *  +---------------------------------------------------------------+
 * </pre>
 * The MAC covers every byte before it, the reserved fields included, so nothing of a frame can be
 * changed without the key. The target host id is covered too: a frame captured on its way to one
 * host is refused by every other. So is the target's incarnation (a random number a host draws at each
 * start and tells its peers in a HELLO): a frame captured before the target restarted is refused by it
 * after, although its sequence numbers start again from nothing.
 */
public final class FrameDescriptor
{
    /** The only version this code writes and accepts. */
    public static final short CURRENT_VERSION = 1;

    /** Offset of the version field. */
    public static final int VERSION_OFFSET = 0;
    /** Offset of the message type. */
    public static final int TYPE_OFFSET = VERSION_OFFSET + 2 * SIZE_OF_SHORT;
    /** Offset of the sender's host id. */
    public static final int SENDER_OFFSET = TYPE_OFFSET + SIZE_OF_INT;
    /** Offset of the target's host id. */
    public static final int TARGET_OFFSET = SENDER_OFFSET + SIZE_OF_INT;
    /** Offset of the sender's sequence number. */
    public static final int SEQUENCE_OFFSET = TARGET_OFFSET + SIZE_OF_INT;
    /** Offset of the payload length. */
    public static final int PAYLOAD_LENGTH_OFFSET = SEQUENCE_OFFSET + SIZE_OF_LONG;
    /** Offset of the target's incarnation, as the sender knows it (0: not known yet). */
    public static final int TARGET_INCARNATION_OFFSET = PAYLOAD_LENGTH_OFFSET + SIZE_OF_INT;
    /** Length of the header; the payload starts here. */
    public static final int HEADER_LENGTH = TARGET_INCARNATION_OFFSET + SIZE_OF_INT;
    /** Length of the MAC that ends a frame. */
    public static final int MAC_LENGTH = HmacSha256.MAC_LENGTH;

    private FrameDescriptor()
    {
    }

    /**
     * @param payloadLength bytes of payload.
     * @return the length of the whole frame: header, payload and MAC.
     */
    public static int frameLength(final int payloadLength)
    {
        return HEADER_LENGTH + payloadLength + MAC_LENGTH;
    }

    /**
     * @param payloadLength bytes of payload.
     * @return where the MAC starts: the length of what it covers.
     */
    public static int macOffset(final int payloadLength)
    {
        return HEADER_LENGTH + payloadLength;
    }

    /**
     * Write a header at offset 0 of a frame buffer (the payload and MAC go after it).
     *
     * @param frame         the frame being built.
     * @param type          the message type.
     * @param sender        the sending host.
     * @param target        the host it is for.
     * @param sequence      the sender's sequence number, greater than any it sent before.
     * @param payloadLength bytes of payload.
     */
    public static void writeHeader(
        final MutableDirectBuffer frame,
        final int type,
        final int sender,
        final int target,
        final long sequence,
        final int payloadLength)
    {
        writeHeader(frame, type, sender, target, sequence, payloadLength, 0);
    }

    /**
     * Write a header at offset 0 of a frame buffer (the payload and MAC go after it).
     *
     * @param frame             the frame being built.
     * @param type              the message type.
     * @param sender            the sending host.
     * @param target            the host it is for.
     * @param sequence          the sender's sequence number, greater than any it sent before.
     * @param payloadLength     bytes of payload.
     * @param targetIncarnation the target's incarnation as the sender knows it (0: not known).
     */
    public static void writeHeader(
        final MutableDirectBuffer frame,
        final int type,
        final int sender,
        final int target,
        final long sequence,
        final int payloadLength,
        final int targetIncarnation)
    {
        frame.putShort(VERSION_OFFSET, CURRENT_VERSION);
        frame.putShort(VERSION_OFFSET + SIZE_OF_SHORT, (short)0);
        frame.putInt(TYPE_OFFSET, type);
        frame.putInt(SENDER_OFFSET, sender);
        frame.putInt(TARGET_OFFSET, target);
        frame.putLong(SEQUENCE_OFFSET, sequence);
        frame.putInt(PAYLOAD_LENGTH_OFFSET, payloadLength);
        frame.putInt(TARGET_INCARNATION_OFFSET, targetIncarnation);
    }

    /** @param frame a frame at offset 0. @return the target's incarnation as its sender knew it. */
    public static int targetIncarnation(final DirectBuffer frame)
    {
        return frame.getInt(TARGET_INCARNATION_OFFSET);
    }

    /** @param frame a frame at offset 0. @return its version. */
    public static short version(final DirectBuffer frame)
    {
        return frame.getShort(VERSION_OFFSET);
    }

    /** @param frame a frame at offset 0. @return its message type. */
    public static int type(final DirectBuffer frame)
    {
        return frame.getInt(TYPE_OFFSET);
    }

    /** @param frame a frame at offset 0. @return the host id its sender claims. */
    public static int sender(final DirectBuffer frame)
    {
        return frame.getInt(SENDER_OFFSET);
    }

    /** @param frame a frame at offset 0. @return the host it is for. */
    public static int target(final DirectBuffer frame)
    {
        return frame.getInt(TARGET_OFFSET);
    }

    /** @param frame a frame at offset 0. @return the sender's sequence number. */
    public static long sequence(final DirectBuffer frame)
    {
        return frame.getLong(SEQUENCE_OFFSET);
    }

    /** @param frame a frame at offset 0. @return the payload length it states. */
    public static int payloadLength(final DirectBuffer frame)
    {
        return frame.getInt(PAYLOAD_LENGTH_OFFSET);
    }
}

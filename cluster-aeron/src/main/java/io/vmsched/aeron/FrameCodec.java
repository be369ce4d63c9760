package io.vmsched.aeron;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static io.vmsched.aeron.FrameDescriptor.HEADER_LENGTH;
import static io.vmsched.aeron.FrameDescriptor.MAC_LENGTH;

/**
 * Builds and checks frames ({@link FrameDescriptor}) in one preallocated buffer, in separate steps
 * so that a benchmark can run the same framing with and without the MAC: writing is
 * {@link #encode} then {@link #sign}; reading is {@link #copyIn}, {@link #checkLayout} then
 * {@link #verify}. Nothing is allocated per frame.
 * <p>
 * <b>Note:</b> Not threadsafe: one for the sending side (under its lock), one for the polling thread.
 */
public final class FrameCodec
{
    private final HmacSha256 mac;
    private final byte[] bytes;
    private final UnsafeBuffer buffer;

    /**
     * @param mac              keyed for the data plane ({@link HmacSha256#forDataPlane}); this codec's own.
     * @param maxPayloadLength the largest payload it holds.
     */
    public FrameCodec(final HmacSha256 mac, final int maxPayloadLength)
    {
        this.mac = mac;
        this.bytes = new byte[FrameDescriptor.frameLength(maxPayloadLength)];
        this.buffer = new UnsafeBuffer(bytes);
    }

    /** @return the frame buffer (the frame starts at 0). */
    public UnsafeBuffer buffer()
    {
        return buffer;
    }

    /** @return the largest payload this codec holds. */
    public int maxPayloadLength()
    {
        return bytes.length - HEADER_LENGTH - MAC_LENGTH;
    }

    /**
     * Write the header and copy the payload in (the caller checked the length fits).
     *
     * @return the frame's length, the MAC's room included.
     */
    public int encode(
        final int type,
        final int sender,
        final int target,
        final long sequence,
        final DirectBuffer payload,
        final int offset,
        final int length)
    {
        return encode(type, sender, target, sequence, payload, offset, length, 0);
    }

    /**
     * Encode a header (with the target's incarnation as the sender knows it) and a payload.
     *
     * @return the frame's length, MAC included.
     */
    public int encode(
        final int type,
        final int sender,
        final int target,
        final long sequence,
        final DirectBuffer payload,
        final int offset,
        final int length,
        final int targetIncarnation)
    {
        FrameDescriptor.writeHeader(buffer, type, sender, target, sequence, length, targetIncarnation);
        payload.getBytes(offset, bytes, HEADER_LENGTH, length);
        return FrameDescriptor.frameLength(length);
    }

    /**
     * Write the MAC of the encoded header and payload after them.
     *
     * @param payloadLength the payload length just encoded.
     */
    public void sign(final int payloadLength)
    {
        final int macOffset = FrameDescriptor.macOffset(payloadLength);
        mac.mac(bytes, 0, macOffset, bytes, macOffset);
    }

    /**
     * Copy a received frame in.
     *
     * @return null, or {@link Refusal#TRUNCATED} (shorter than a header and a MAC) or
     *         {@link Refusal#TOO_LONG} (larger than this codec holds), left uncopied.
     */
    public Refusal copyIn(final DirectBuffer frame, final int offset, final int length)
    {
        if (length < HEADER_LENGTH + MAC_LENGTH)
        {
            return Refusal.TRUNCATED;
        }
        if (length > bytes.length)
        {
            return Refusal.TOO_LONG;
        }
        frame.getBytes(offset, bytes, 0, length);
        return null;
    }

    /**
     * Check the copied frame's version and that its length is what its header states.
     *
     * @param length the length copied in.
     * @return null, or {@link Refusal#WRONG_VERSION}, {@link Refusal#TRUNCATED} or {@link Refusal#MALFORMED}.
     */
    public Refusal checkLayout(final int length)
    {
        if (FrameDescriptor.version(buffer) != FrameDescriptor.CURRENT_VERSION)
        {
            return Refusal.WRONG_VERSION; // another layout: its MAC cannot even be found
        }
        final int payloadLength = FrameDescriptor.payloadLength(buffer);
        final long stated = (long)HEADER_LENGTH + payloadLength + MAC_LENGTH; // long: a forged length must not overflow
        if (payloadLength < 0 || stated < length)
        {
            return Refusal.MALFORMED;
        }
        return stated > length ? Refusal.TRUNCATED : null;
    }

    /**
     * Check the copied frame's MAC (after {@link #checkLayout} accepted it), in constant time.
     *
     * @return true if it was made with this cluster's key over these very bytes.
     */
    public boolean verify()
    {
        return mac.verify(bytes, 0, FrameDescriptor.macOffset(FrameDescriptor.payloadLength(buffer)));
    }
}

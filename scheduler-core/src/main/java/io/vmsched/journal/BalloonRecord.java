package io.vmsched.journal;

import io.vmsched.balloon.BalloonResult;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The payload of the {@link RecordType#BALLOON_REQUESTED} and {@link RecordType#BALLOON_RESULT} records: the
 * one descriptor of the layout, used by the writer (the host agent) and every reader. Little-endian:
 * <pre>
 *  offset size field
 *   0     8    request id (unique per host)
 *   8     8    memory bytes: the target asked (REQUESTED) or what the guest holds now (RESULT); -1 unchanged/unknown
 *  16     4    processors (the guest's weight): the target or what it runs at now; -1 unchanged/unknown
 *  20     4    outcome code ({@link BalloonResult.Outcome#code()}; 0 in REQUESTED)
 *  24     n    reason, UTF-8 (RESULT: why it stopped short or refused; empty when met)
 * </pre>
 * The header carries the VM's id; its migration id is 0 (a balloon is no migration).
 * <p>
 * <b>Note:</b> A flyweight, not threadsafe: one per writer or reader.
 */
public final class BalloonRecord
{
    /** The length of the fixed fields, before the reason. */
    public static final int FIXED_LENGTH = 24;
    /** The longest reason kept, in bytes: a longer one is cut. */
    public static final int MAX_REASON_BYTES = 1024;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private DirectBuffer buffer;
    private int length;

    /**
     * Write a payload.
     *
     * @param buffer      room for {@link #FIXED_LENGTH} + {@link #MAX_REASON_BYTES} bytes from offset.
     * @param offset      where the payload starts.
     * @param requestId   the request.
     * @param memoryBytes the memory figure (-1 none).
     * @param processors  the processors figure (-1 none).
     * @param outcome     the outcome, or null in a request.
     * @param reason      the reason (null or empty for none).
     * @return the payload's length.
     */
    public static int encode(final MutableDirectBuffer buffer, final int offset, final long requestId,
        final long memoryBytes, final int processors, final BalloonResult.Outcome outcome, final String reason)
    {
        buffer.putLong(offset, requestId, ORDER);
        buffer.putLong(offset + 8, memoryBytes, ORDER);
        buffer.putInt(offset + 16, processors, ORDER);
        buffer.putInt(offset + 20, outcome == null ? 0 : outcome.code(), ORDER);
        byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        if (text.length > MAX_REASON_BYTES)
        {
            text = java.util.Arrays.copyOf(text, MAX_REASON_BYTES);
        }
        buffer.putBytes(offset + FIXED_LENGTH, text);
        return FIXED_LENGTH + text.length;
    }

    /**
     * Wrap a record's payload to read.
     *
     * @param record a BALLOON_REQUESTED or BALLOON_RESULT record.
     * @return this.
     * @throws IllegalArgumentException if its payload is shorter than the fixed fields.
     */
    public BalloonRecord wrap(final JournalRecord record)
    {
        if (record.payloadLength() < FIXED_LENGTH)
        {
            throw new IllegalArgumentException("a " + record.type() + " record's payload has " + record.payloadLength() +
                " bytes, fewer than the " + FIXED_LENGTH + " of its fixed fields");
        }
        this.buffer = record.payload();
        this.length = record.payloadLength();
        return this;
    }

    /** @return the request's id. */
    public long requestId()
    {
        return buffer.getLong(0, ORDER);
    }

    /** @return the memory target (a request) or held (a result), bytes; -1 for none. */
    public long memoryBytes()
    {
        return buffer.getLong(8, ORDER);
    }

    /** @return the processors target (a request) or weight (a result); -1 for none. */
    public int processors()
    {
        return buffer.getInt(16, ORDER);
    }

    /** @return the outcome of a result, null in a request (or an unknown code). */
    public BalloonResult.Outcome outcome()
    {
        return BalloonResult.Outcome.of(buffer.getInt(20, ORDER));
    }

    /** @return the reason, empty if none. */
    public String reason()
    {
        return buffer.getStringWithoutLengthUtf8(FIXED_LENGTH, length - FIXED_LENGTH);
    }

    /** @return whether a result moved the guest (MET or SHORT). */
    public boolean moved()
    {
        final BalloonResult.Outcome outcome = outcome();
        return outcome == BalloonResult.Outcome.MET || outcome == BalloonResult.Outcome.SHORT;
    }

    /** @return the payload in words, for dumps and timelines ({@code request=3 memory=1048576 processors=-1 MET}). */
    public String describe()
    {
        final StringBuilder out = new StringBuilder();
        out.append("request=").append(requestId()).append(" memory=").append(memoryBytes())
            .append(" processors=").append(processors());
        final BalloonResult.Outcome outcome = outcome();
        if (outcome != null)
        {
            out.append(' ').append(outcome);
        }
        final String reason = reason();
        if (!reason.isEmpty())
        {
            out.append(" \"").append(reason).append('"');
        }
        return out.toString();
    }
}

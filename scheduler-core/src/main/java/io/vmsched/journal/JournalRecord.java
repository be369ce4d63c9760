package io.vmsched.journal;

import io.vmsched.balance.DecisionOutcome;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The on-disk schema of one journal record, version 1, and a flyweight to read one. Every record is
 * a 72-byte header, little-endian, then a payload:
 * <pre>
 *  offset size field
 *   0     1    schema version (1)
 *   1     1    type code ({@link RecordType})
 *   2     2    header length (72): a reader skips header fields it does not know
 *   4     4    payload length
 *   8     4    CRC32C of bytes 0-7 and of every byte from offset 12 to the end of the payload
 *  12     8    timestamp, ns since the epoch
 *  20     4    host id (the journal's owner)
 *  24     8    migration id (0 if none): the source host id above the low 40 bits, its own
 *              sequence number in them ({@link #migrationId(int, long)})
 *  32     8    vm id (-1 if none)
 *  40     4    peer host id (-1 if none)
 *  44     4    aux (a count or flag; its meaning depends on the type)
 *  48     8    a (double: a load)
 *  56     8    b (double: a peer's load)
 *  64     4    code (0 if none): an {@link AbortReason} in ABORTED, a {@link DecisionOutcome} in DECISION
 *  68     4    reserved, 0: keeps the payload 8-byte aligned
 *  72     n    payload: bytes whose meaning depends on the type
 * </pre>
 * Payloads that carry a guest are a length-prefixed UTF-8 kind name (2-byte length) followed by the
 * guest's state bytes; {@code ABORTED} and {@code DECISION} carry UTF-8 text, the detail of their code;
 * {@code LOAD_SNAPSHOT}, {@code BALLOON_REQUESTED} and {@code BALLOON_RESULT} carry the fields of their one
 * descriptor ({@link LoadSnapshot}, {@link BalloonRecord}).
 * <p>
 * The code came after the first records were written, whose header is 64 bytes and ends at {@code b}.
 * It was added without a new schema version, because version 1 already provides for it: every
 * version-1 reader finds the payload at the stored header length, so an older reader reads a 72-byte
 * header correctly and only misses the code, and this reader reads a 64-byte header as code 0
 * ({@link AbortReason#UNKNOWN}, {@link DecisionOutcome#UNKNOWN}). A version bump would have made
 * every older reader refuse every new record for a field it can do without; it is kept for a change
 * an older reader would misread. For the same reason a record is never longer than the longest a
 * 64-byte header allowed ({@link #MAX_RECORD_LENGTH}).
 * <p>
 * <b>Note:</b> Not threadsafe: a flyweight belongs to one reader.
 */
public final class JournalRecord
{
    /** Schema version written by this code. */
    public static final int VERSION = 1;
    /** Low bits of a migration id that number the source's migrations; the source host id is above them. */
    public static final int MIGRATION_SEQUENCE_BITS = 40;
    /** Length of the header this code writes. */
    public static final int HEADER_LENGTH = 72;
    /** Length of the header of records written before the code field: the shortest a reader accepts. */
    public static final int MIN_HEADER_LENGTH = 64;
    /**
     * The longest record: a quarter of a journal block, less room for Chronicle's own header. Fixed
     * when the header was 64 bytes, so that readers of that time accept every record written since.
     */
    public static final int MAX_RECORD_LENGTH = MIN_HEADER_LENGTH + (4 << 20) - 1024;
    /** The largest payload a record may carry (a guest's state must fit). */
    public static final int MAX_PAYLOAD = MAX_RECORD_LENGTH - HEADER_LENGTH;

    static final int VERSION_OFFSET = 0;
    static final int TYPE_OFFSET = 1;
    static final int HEADER_LENGTH_OFFSET = 2;
    static final int PAYLOAD_LENGTH_OFFSET = 4;
    static final int CRC_OFFSET = 8;
    static final int TIMESTAMP_OFFSET = 12;
    static final int HOST_OFFSET = 20;
    static final int MIGRATION_OFFSET = 24;
    static final int VM_OFFSET = 32;
    static final int PEER_OFFSET = 40;
    static final int AUX_OFFSET = 44;
    static final int A_OFFSET = 48;
    static final int B_OFFSET = 56;
    static final int CODE_OFFSET = 64;
    static final int RESERVED_OFFSET = 68;
    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private final CRC32C crc = new CRC32C();
    private int headerLength;
    private int payloadLength;

    /**
     * Write a record's header into {@code buffer} whose payload is already at
     * {@code HEADER_LENGTH} and computes its CRC. Allocates nothing.
     *
     * @return the record's whole length.
     */
    static int encodeHeader(
        final UnsafeBuffer buffer,
        final CRC32C crc,
        final RecordType type,
        final long timestampNs,
        final int host,
        final long migrationId,
        final long vmId,
        final int peer,
        final int aux,
        final double a,
        final double b,
        final int code,
        final int payloadLength)
    {
        buffer.putByte(VERSION_OFFSET, (byte)VERSION);
        buffer.putByte(TYPE_OFFSET, (byte)type.code());
        buffer.putShort(HEADER_LENGTH_OFFSET, (short)HEADER_LENGTH, ORDER);
        buffer.putInt(PAYLOAD_LENGTH_OFFSET, payloadLength, ORDER);
        buffer.putLong(TIMESTAMP_OFFSET, timestampNs, ORDER);
        buffer.putInt(HOST_OFFSET, host, ORDER);
        buffer.putLong(MIGRATION_OFFSET, migrationId, ORDER);
        buffer.putLong(VM_OFFSET, vmId, ORDER);
        buffer.putInt(PEER_OFFSET, peer, ORDER);
        buffer.putInt(AUX_OFFSET, aux, ORDER);
        buffer.putDouble(A_OFFSET, a, ORDER);
        buffer.putDouble(B_OFFSET, b, ORDER);
        buffer.putInt(CODE_OFFSET, code, ORDER);
        buffer.putInt(RESERVED_OFFSET, 0, ORDER);
        final int length = HEADER_LENGTH + payloadLength;
        crc.reset();
        crc.update(buffer.byteArray(), 0, CRC_OFFSET); // version, type and lengths are covered too
        crc.update(buffer.byteArray(), CRC_OFFSET + 4, length - (CRC_OFFSET + 4));
        buffer.putInt(CRC_OFFSET, (int)crc.getValue(), ORDER);
        return length;
    }

    /**
     * Point this flyweight at the bytes of one record and check them.
     *
     * @param bytes  an array holding the record.
     * @param length the record's length as stored.
     * @return null if the record is whole and its CRC matches, otherwise what is wrong with it.
     */
    public String wrap(final byte[] bytes, final int length)
    {
        buffer.wrap(bytes, 0, Math.max(length, 0));
        headerLength = 0;
        payloadLength = 0;
        if (length < MIN_HEADER_LENGTH)
        {
            return "record of " + length + " bytes is shorter than the " + MIN_HEADER_LENGTH + "-byte header";
        }
        final int version = buffer.getByte(VERSION_OFFSET) & 0xFF;
        if (version != VERSION)
        {
            return "schema version " + version + " (this reader knows " + VERSION + ")";
        }
        headerLength = buffer.getShort(HEADER_LENGTH_OFFSET, ORDER) & 0xFFFF;
        payloadLength = buffer.getInt(PAYLOAD_LENGTH_OFFSET, ORDER);
        if (headerLength < MIN_HEADER_LENGTH || payloadLength < 0 || headerLength + payloadLength != length)
        {
            return "lengths do not add up: header " + headerLength + " + payload " + payloadLength + " != " + length;
        }
        crc.reset();
        crc.update(bytes, 0, CRC_OFFSET);
        crc.update(bytes, CRC_OFFSET + 4, length - (CRC_OFFSET + 4));
        final int stored = buffer.getInt(CRC_OFFSET, ORDER);
        if ((int)crc.getValue() != stored)
        {
            return String.format("CRC32C mismatch: stored %08x, computed %08x", stored, (int)crc.getValue());
        }
        if (type() == null)
        {
            return "unknown record type " + (buffer.getByte(TYPE_OFFSET) & 0xFF);
        }
        return null;
    }

    /** @return the record's type, or null if its code is unknown. */
    public RecordType type()
    {
        return RecordType.of(buffer.getByte(TYPE_OFFSET) & 0xFF);
    }

    /** @return ns since the epoch when it was written. */
    public long timestampNs()
    {
        return buffer.getLong(TIMESTAMP_OFFSET, ORDER);
    }

    /** @return the host whose journal holds it. */
    public int host()
    {
        return buffer.getInt(HOST_OFFSET, ORDER);
    }

    /**
     * @param sourceHost the migration's source host.
     * @param sequence   the source's own number for it, from 1.
     * @return the migration id, unique in the cluster.
     */
    public static long migrationId(final int sourceHost, final long sequence)
    {
        return ((long)sourceHost << MIGRATION_SEQUENCE_BITS) | sequence;
    }

    /**
     * @param migrationId a migration id.
     * @return its source host.
     */
    public static int migrationSource(final long migrationId)
    {
        return (int)(migrationId >>> MIGRATION_SEQUENCE_BITS);
    }

    /**
     * @param migrationId a migration id.
     * @return the source's sequence number in it.
     */
    public static long migrationSequence(final long migrationId)
    {
        return migrationId & ((1L << MIGRATION_SEQUENCE_BITS) - 1);
    }

    /** @return the migration's id, 0 if none. */
    public long migrationId()
    {
        return buffer.getLong(MIGRATION_OFFSET, ORDER);
    }

    /** @return the VM's id, -1 if none. */
    public long vmId()
    {
        return buffer.getLong(VM_OFFSET, ORDER);
    }

    /** @return the other host of a migration or exchange, -1 if none. */
    public int peer()
    {
        return buffer.getInt(PEER_OFFSET, ORDER);
    }

    /** @return the auxiliary int (see {@link RecordType}). */
    public int aux()
    {
        return buffer.getInt(AUX_OFFSET, ORDER);
    }

    /** @return the first figure (a load). */
    public double a()
    {
        return buffer.getDouble(A_OFFSET, ORDER);
    }

    /** @return the second figure (a peer's load). */
    public double b()
    {
        return buffer.getDouble(B_OFFSET, ORDER);
    }

    /**
     * @return the record's code: an {@link AbortReason}'s in ABORTED, a {@link DecisionOutcome}'s in
     * DECISION, otherwise 0; 0 too in a record written before the header had the field.
     */
    public int code()
    {
        return headerLength >= CODE_OFFSET + 4 ? buffer.getInt(CODE_OFFSET, ORDER) : 0;
    }

    /** @return why an ABORTED record's migration aborted ({@link AbortReason#UNKNOWN} in other types, or old records). */
    public AbortReason abortReason()
    {
        return type() == RecordType.ABORTED ? AbortReason.of(code()) : AbortReason.UNKNOWN;
    }

    /** @return what a DECISION record's exchange decided ({@link DecisionOutcome#UNKNOWN} in other types, or old records). */
    public DecisionOutcome decisionOutcome()
    {
        return type() == RecordType.DECISION ? DecisionOutcome.of(code()) : DecisionOutcome.UNKNOWN;
    }

    /** @return the payload's length. */
    public int payloadLength()
    {
        return payloadLength;
    }

    /** @return the payload, as a view valid until the next {@link #wrap}. */
    public DirectBuffer payload()
    {
        return new UnsafeBuffer(buffer, headerLength, payloadLength);
    }

    /** @return the payload as UTF-8 text (for ABORTED and DECISION). */
    public String text()
    {
        return buffer.getStringWithoutLengthUtf8(headerLength, payloadLength);
    }

    /** @return the guest kind of a payload that carries a guest (ADMITTED, SUSPENDED, RECEIVED). */
    public String guestKind()
    {
        final int length = buffer.getShort(headerLength, ORDER) & 0xFFFF;
        return buffer.getStringWithoutLengthUtf8(headerLength + 2, Math.min(length, payloadLength - 2));
    }

    /** @return a copy of the guest state of a payload that carries a guest. */
    public byte[] guestState()
    {
        final byte[] state = new byte[guestStateLength()];
        buffer.getBytes(headerLength + payloadLength - state.length, state);
        return state;
    }

    /** @return the length of the guest state of a payload that carries a guest, without copying it. */
    public int guestStateLength()
    {
        return payloadLength - 2 - (buffer.getShort(headerLength, ORDER) & 0xFFFF);
    }

    /**
     * Write a guest payload (kind, then state) at {@code offset}.
     *
     * @return bytes written.
     */
    static int putGuest(final MutableDirectBuffer buffer, final int offset, final byte[] kindUtf8, final byte[] state)
    {
        buffer.putShort(offset, (short)kindUtf8.length, ORDER);
        buffer.putBytes(offset + 2, kindUtf8);
        buffer.putBytes(offset + 2 + kindUtf8.length, state);
        return 2 + kindUtf8.length + state.length;
    }

    /**
     * @param text text.
     * @return its UTF-8 bytes.
     */
    static byte[] utf8(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString()
    {
        final RecordType type = type();
        final StringBuilder out = new StringBuilder();
        out.append(type).append(" host=").append(host());
        if (migrationId() != 0)
        {
            out.append(" migration=").append(migrationId());
        }
        if (vmId() != -1)
        {
            out.append(" vm=").append(vmId());
        }
        if (peer() != -1)
        {
            out.append(" peer=").append(peer());
        }
        if (type == RecordType.ABORTED)
        {
            out.append(' ').append(abortReason().label()).append(" \"").append(text()).append('"');
        }
        else if (type == RecordType.DECISION)
        {
            out.append(' ').append(decisionOutcome().label()).append(" \"").append(text()).append('"');
        }
        else if (type == RecordType.ADMITTED || type == RecordType.SUSPENDED || type == RecordType.RECEIVED)
        {
            out.append(" kind=").append(guestKind()).append(" state=").append(guestStateLength()).append('B');
        }
        else if (type == RecordType.LOAD_SNAPSHOT)
        {
            out.append(String.format(" load=%.4f vms=%d", a(), aux()));
        }
        else if ((type == RecordType.BALLOON_REQUESTED || type == RecordType.BALLOON_RESULT) &&
            payloadLength() >= BalloonRecord.FIXED_LENGTH)
        {
            out.append(' ').append(new BalloonRecord().wrap(this).describe());
        }
        else if (type == RecordType.HOST_STARTED || type == RecordType.RESOLVED)
        {
            out.append(" aux=").append(aux());
        }
        return out.toString();
    }
}

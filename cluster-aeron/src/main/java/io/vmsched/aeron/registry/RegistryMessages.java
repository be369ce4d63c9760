package io.vmsched.aeron.registry;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The one descriptor of the registry's commands (client to cluster, on the ingress) and replies
 * (cluster to client, on the egress). {@link RegistryClient} writes commands and reads replies,
 * {@link RegistryService} reads commands and writes replies, with the same flyweights. Little-endian.
 * <p>
 * Every message starts with the same header:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |             Type              |            Version            |   0
 *  +-------------------------------+-------------------------------+
 *  |          Status (replies; 0 in commands, {@link RegistryStatus}) |   4
 *  +---------------------------------------------------------------+
 *  |                 Correlation Id (64 bits)                      |   8
 *  +---------------------------------------------------------------+
 * </pre>
 * then, by type (offset size field):
 * <pre>
 *  REGISTER   16 8 cores | 24 8 core speed | 32 8 I/O bytes/s | 40 8 memory bytes |
 *             48 2 name length | 50 2 endpoint length | 52 4 labels length | 56 name | endpoint | labels
 *  ADMIT      16 8 vmId | 24 4 node | 28 4 reserved
 *  CAS        16 8 vmId | 24 4 expected owner | 28 4 new owner | 32 8 expected epoch | 40 8 migration id
 *  QUERY      16 8 vmId
 *  REGISTERED 16 4 node id (0 unless OK) | 20 4 reserved                        answers REGISTER
 *  OWNER      16 8 vmId | 24 4 owner (0: none) | 28 4 reserved | 32 8 epoch | 40 8 migration id
 *                                        answers ADMIT, CAS, QUERY: the entry after the command
 *  NODE_DOWN  16 4 node id: sent to every session when a node's session closes (correlation id 0)
 * </pre>
 * A command is exactly as long as its layout says (REGISTER: its header plus its three strings).
 * A malformed command whose correlation id can be read is answered with status MALFORMED (its
 * type's reply, OWNER for an unknown type); a shorter one is dropped.
 * <p>
 * <b>Note:</b> Flyweights are not threadsafe: each writer or reader has its own.
 */
public final class RegistryMessages
{
    /** Command: the calling session becomes a node. */
    public static final int REGISTER = 1;
    /** Command: an absent VM gets its first owner. */
    public static final int ADMIT = 2;
    /** Command: compare-and-set of a VM's (owner, epoch). */
    public static final int CAS = 3;
    /** Command: who owns a VM. */
    public static final int QUERY = 4;
    /** Reply to REGISTER. */
    public static final int REGISTERED = 101;
    /** Reply to ADMIT, CAS, QUERY. */
    public static final int OWNER = 102;
    /** Event: a node went down. */
    public static final int NODE_DOWN = 110;

    /** The only version this code reads and writes. */
    public static final int VERSION = 1;
    /** Byte order of every field. */
    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    /** Bytes of the common header. */
    public static final int HEADER_LENGTH = 16;

    static final int TYPE_OFFSET = 0;
    static final int VERSION_OFFSET = 2;
    static final int STATUS_OFFSET = 4;
    static final int CORRELATION_ID_OFFSET = 8;

    private RegistryMessages()
    {
    }

    /**
     * @param type a command type.
     * @return the type of its reply (OWNER for an unknown command).
     */
    public static int replyTypeOf(final int type)
    {
        return type == REGISTER ? REGISTERED : OWNER;
    }

    /**
     * Base of the flyweights: the common header on a buffer at an offset.
     *
     * @param <T> the flyweight's own type, returned by the wrap methods for chaining.
     */
    public abstract static class Flyweight<T extends Flyweight<T>>
    {
        MutableDirectBuffer buffer;
        DirectBuffer readBuffer;
        int offset;

        /**
         * Wrap a buffer to write a message: writes the type and version, status 0.
         *
         * @param buffer the buffer.
         * @param offset where the message starts.
         * @return this.
         */
        @SuppressWarnings("unchecked")
        public T wrap(final MutableDirectBuffer buffer, final int offset)
        {
            this.buffer = buffer;
            this.readBuffer = buffer;
            this.offset = offset;
            buffer.putShort(offset + TYPE_OFFSET, (short)type(), ORDER);
            buffer.putShort(offset + VERSION_OFFSET, (short)VERSION, ORDER);
            buffer.putInt(offset + STATUS_OFFSET, 0, ORDER);
            return (T)this;
        }

        /**
         * Wrap a buffer to read a message (check its type, version and length first).
         *
         * @param buffer the buffer.
         * @param offset where the message starts.
         * @return this.
         */
        @SuppressWarnings("unchecked")
        public T wrapRead(final DirectBuffer buffer, final int offset)
        {
            this.buffer = null;
            this.readBuffer = buffer;
            this.offset = offset;
            return (T)this;
        }

        /** @return the message type this flyweight writes. */
        abstract int type();

        /** @return the correlation id. */
        public long correlationId()
        {
            return readBuffer.getLong(offset + CORRELATION_ID_OFFSET, ORDER);
        }

        /**
         * @param correlationId the correlation id.
         * @return this.
         */
        @SuppressWarnings("unchecked")
        public T correlationId(final long correlationId)
        {
            buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId, ORDER);
            return (T)this;
        }

        /** @return the status code (replies). */
        public int statusCode()
        {
            return readBuffer.getInt(offset + STATUS_OFFSET, ORDER);
        }

        /**
         * @param status the status (replies).
         * @return this.
         */
        @SuppressWarnings("unchecked")
        public T status(final RegistryStatus status)
        {
            buffer.putInt(offset + STATUS_OFFSET, status.code(), ORDER);
            return (T)this;
        }
    }

    /**
     * @param buffer a message.
     * @param offset where it starts.
     * @return its type (read at least {@link #HEADER_LENGTH} bytes first).
     */
    public static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + TYPE_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * @param buffer a message.
     * @param offset where it starts.
     * @return its version.
     */
    public static int version(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + VERSION_OFFSET, ORDER) & 0xFFFF;
    }

    /**
     * @param buffer a message.
     * @param offset where it starts.
     * @return its correlation id.
     */
    public static long correlationId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + CORRELATION_ID_OFFSET, ORDER);
    }

    /** REGISTER. */
    public static final class Register extends Flyweight<Register>
    {
        /** Bytes before the strings. */
        public static final int BLOCK_LENGTH = 56;

        @Override
        int type()
        {
            return REGISTER;
        }

        /** @return cores. */
        public double cores()
        {
            return readBuffer.getDouble(offset + 16, ORDER);
        }

        /** @return core speed. */
        public double coreSpeed()
        {
            return readBuffer.getDouble(offset + 24, ORDER);
        }

        /** @return I/O bytes per second. */
        public double ioBytesPerSecond()
        {
            return readBuffer.getDouble(offset + 32, ORDER);
        }

        /** @return memory bytes. */
        public double memoryBytes()
        {
            return readBuffer.getDouble(offset + 40, ORDER);
        }

        /**
         * @param cores            cores.
         * @param coreSpeed        core speed.
         * @param ioBytesPerSecond I/O bytes per second.
         * @param memoryBytes      memory bytes.
         * @return this.
         */
        public Register capacity(
            final double cores, final double coreSpeed, final double ioBytesPerSecond, final double memoryBytes)
        {
            buffer.putDouble(offset + 16, cores, ORDER);
            buffer.putDouble(offset + 24, coreSpeed, ORDER);
            buffer.putDouble(offset + 32, ioBytesPerSecond, ORDER);
            buffer.putDouble(offset + 40, memoryBytes, ORDER);
            return this;
        }

        /** @return the name's UTF-8 length. */
        public int nameLength()
        {
            return readBuffer.getShort(offset + 48, ORDER) & 0xFFFF;
        }

        /** @return the endpoint's UTF-8 length. */
        public int endpointLength()
        {
            return readBuffer.getShort(offset + 50, ORDER) & 0xFFFF;
        }

        /** @return the labels' UTF-8 length (may be negative in a malformed message). */
        public int labelsLength()
        {
            return readBuffer.getInt(offset + 52, ORDER);
        }

        /**
         * @param messageLength the message's length as received.
         * @return whether it is exactly this layout's length.
         */
        public boolean lengthMatches(final int messageLength)
        {
            return messageLength >= BLOCK_LENGTH && labelsLength() >= 0 &&
                (long)BLOCK_LENGTH + nameLength() + endpointLength() + labelsLength() == messageLength;
        }

        /** @return the name. */
        public String name()
        {
            return readBuffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH, nameLength());
        }

        /** @return the endpoint. */
        public String endpoint()
        {
            return readBuffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH + nameLength(), endpointLength());
        }

        /** @return the labels. */
        public String labels()
        {
            return readBuffer.getStringWithoutLengthUtf8(
                offset + BLOCK_LENGTH + nameLength() + endpointLength(), labelsLength());
        }

        /**
         * Write the three strings after the block.
         *
         * @param nameUtf8     the name, UTF-8 (at most 65,535 bytes).
         * @param endpointUtf8 the endpoint, UTF-8 (at most 65,535 bytes).
         * @param labelsUtf8   the labels, UTF-8.
         * @return the whole message's length.
         */
        public int strings(final byte[] nameUtf8, final byte[] endpointUtf8, final byte[] labelsUtf8)
        {
            buffer.putShort(offset + 48, (short)nameUtf8.length, ORDER);
            buffer.putShort(offset + 50, (short)endpointUtf8.length, ORDER);
            buffer.putInt(offset + 52, labelsUtf8.length, ORDER);
            int at = offset + BLOCK_LENGTH;
            buffer.putBytes(at, nameUtf8);
            at += nameUtf8.length;
            buffer.putBytes(at, endpointUtf8);
            at += endpointUtf8.length;
            buffer.putBytes(at, labelsUtf8);
            return at + labelsUtf8.length - offset;
        }
    }

    /** ADMIT. */
    public static final class Admit extends Flyweight<Admit>
    {
        /** Length of the message. */
        public static final int LENGTH = 32;

        @Override
        int type()
        {
            return ADMIT;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @return the node taking it. */
        public int nodeId()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /**
         * @param vmId   the VM.
         * @param nodeId the node taking it (the caller's).
         * @return the message's length.
         */
        public int set(final long vmId, final int nodeId)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            buffer.putInt(offset + 24, nodeId, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            return LENGTH;
        }
    }

    /** CAS. */
    public static final class Cas extends Flyweight<Cas>
    {
        /** Length of the message. */
        public static final int LENGTH = 48;

        @Override
        int type()
        {
            return CAS;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @return the owner expected. */
        public int expectOwner()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /** @return the new owner. */
        public int newOwner()
        {
            return readBuffer.getInt(offset + 28, ORDER);
        }

        /** @return the epoch expected. */
        public long expectEpoch()
        {
            return readBuffer.getLong(offset + 32, ORDER);
        }

        /** @return the migration id. */
        public long migrationId()
        {
            return readBuffer.getLong(offset + 40, ORDER);
        }

        /**
         * @param vmId        the VM.
         * @param expectOwner the owner expected.
         * @param expectEpoch the epoch expected.
         * @param newOwner    the new owner (the caller's node).
         * @param migrationId the migration.
         * @return the message's length.
         */
        public int set(
            final long vmId, final int expectOwner, final long expectEpoch, final int newOwner, final long migrationId)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            buffer.putInt(offset + 24, expectOwner, ORDER);
            buffer.putInt(offset + 28, newOwner, ORDER);
            buffer.putLong(offset + 32, expectEpoch, ORDER);
            buffer.putLong(offset + 40, migrationId, ORDER);
            return LENGTH;
        }
    }

    /** QUERY. */
    public static final class Query extends Flyweight<Query>
    {
        /** Length of the message. */
        public static final int LENGTH = 24;

        @Override
        int type()
        {
            return QUERY;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /**
         * @param vmId the VM.
         * @return the message's length.
         */
        public int set(final long vmId)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            return LENGTH;
        }
    }

    /** REGISTERED. */
    public static final class Registered extends Flyweight<Registered>
    {
        /** Length of the message. */
        public static final int LENGTH = 24;

        @Override
        int type()
        {
            return REGISTERED;
        }

        /** @return the node id (0 unless OK). */
        public int nodeId()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /**
         * @param nodeId the node id.
         * @return the message's length.
         */
        public int set(final int nodeId)
        {
            buffer.putInt(offset + 16, nodeId, ORDER);
            buffer.putInt(offset + 20, 0, ORDER);
            return LENGTH;
        }
    }

    /** OWNER. */
    public static final class Owner extends Flyweight<Owner>
    {
        /** Length of the message. */
        public static final int LENGTH = 48;

        @Override
        int type()
        {
            return OWNER;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @return the owner, 0 if none. */
        public int owner()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /** @return the epoch, 0 if none. */
        public long epoch()
        {
            return readBuffer.getLong(offset + 32, ORDER);
        }

        /** @return the migration of the last CAS. */
        public long migrationId()
        {
            return readBuffer.getLong(offset + 40, ORDER);
        }

        /**
         * @param vmId        the VM.
         * @param owner       its owner (0: none).
         * @param epoch       its epoch.
         * @param migrationId its last CAS's migration.
         * @return the message's length.
         */
        public int set(final long vmId, final int owner, final long epoch, final long migrationId)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            buffer.putInt(offset + 24, owner, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            buffer.putLong(offset + 32, epoch, ORDER);
            buffer.putLong(offset + 40, migrationId, ORDER);
            return LENGTH;
        }
    }

    /** NODE_DOWN. */
    public static final class NodeDown extends Flyweight<NodeDown>
    {
        /** Length of the message. */
        public static final int LENGTH = 24;

        @Override
        int type()
        {
            return NODE_DOWN;
        }

        /** @return the node that went down. */
        public int nodeId()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /**
         * @param nodeId the node that went down.
         * @return the message's length.
         */
        public int set(final int nodeId)
        {
            buffer.putInt(offset + 16, nodeId, ORDER);
            buffer.putInt(offset + 20, 0, ORDER);
            return LENGTH;
        }
    }
}

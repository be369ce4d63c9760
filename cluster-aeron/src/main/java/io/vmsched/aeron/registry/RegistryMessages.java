package io.vmsched.aeron.registry;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

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
 *  MOVE       16 8 vmId | 24 4 from node | 28 4 reserved | 32 8 migration id
 *  RECLAIM    16 8 vmId | 24 8 migration id
 *  REPORT     16 8 load | 24 4 vm count | 28 4 reserved
 *  DIRECTORY  16 4 after node id (0: from the first) | 20 4 reserved
 *  REGISTERED 16 4 node id (0 unless OK) | 20 4 reserved                        answers REGISTER
 *  OWNER      16 8 vmId | 24 4 owner (0: none) | 28 4 rule + 1 (status RULE; else 0) | 32 8 epoch |
 *             40 8 migration id | 48 8 fence
 *                                        answers ADMIT, CAS, QUERY, MOVE, RECLAIM: the entry after the command
 *  REPORTED   16 4 node id | 20 4 directory version | 24 8 report time (cluster time) |
 *             32 4 placement version | 36 4 reserved                          answers REPORT
 *  DIRECTORY_PAGE 16 4 after node id | 20 4 next after id (0: the last page) | 24 4 node count |
 *             28 4 reserved | 32 nodes, each:                                   answers DIRECTORY
 *               0 4 node id | 4 4 vm count | 8 8 cores | 16 8 core speed | 24 8 I/O bytes/s |
 *               32 8 memory bytes | 40 8 load | 48 8 report time | 56 1 up | 57 1 reserved |
 *               58 2 name length | 60 2 endpoint length | 62 2 labels length | 64 name | endpoint | labels
 *  PLACE      16 4 text length | 20 4 reserved | 24 statements (UTF-8, one a line): applied as one change
 *  PLACEMENT  16 4 from statement | 20 4 reserved
 *  PLACED     16 4 placement version | 20 4 reason length | 24 reason (UTF-8; status REFUSED)   answers PLACE
 *  PLACEMENT_PAGE 16 4 placement version | 20 4 from | 24 4 count | 28 4 total statements |
 *             32 statements, each: 0 4 length | 4 text (UTF-8)               answers PLACEMENT
 *  NODE_DOWN  16 4 node id: sent to every session when a node's session closes (correlation id 0)
 *  SERVICE_STATUS 16 1 status | 17 1 previous status (255: none) | 18 2 name length | 20 2 cause length |
 *             22 2 reserved | 24 8 cluster time (ms since the epoch) | 32 name | cause (UTF-8): sent to every
 *             session when a service's status changes (correlation id 0; statuses are ServiceHealth ordinals)
 * </pre>
 * SERVICE_STATUS came within version 3: a version-3 client that does not know it drops it as a reply to
 * no call (its correlation id 0 is never awaited), so it needed no new version.
 * A command is exactly as long as its layout says (REGISTER: its header plus its three strings). A
 * DIRECTORY_PAGE is at most {@link DirectoryPage#MAX_LENGTH} bytes: one Aeron message of the smallest
 * term (64 KiB) after the cluster's session header; the client asks for the next page after the last
 * node it got until a page says it is the last.
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
    /** Command: a handoff's target takes a VM from its source, unless the source fenced the migration off. */
    public static final int MOVE = 5;
    /** Command: a source keeps its VM and fences off a migration that did not finish. */
    public static final int RECLAIM = 6;
    /** Command: a node's load report. */
    public static final int REPORT = 7;
    /** Command: a page of the node directory. */
    public static final int DIRECTORY = 8;
    /** Node to registry: the VM was removed here, its entry goes (answered with OWNER). */
    public static final int RELEASE = 9;
    /** Reply to REGISTER. */
    public static final int REGISTERED = 101;
    /** Reply to ADMIT, CAS, QUERY, MOVE, RECLAIM. */
    public static final int OWNER = 102;
    /** Reply to REPORT. */
    public static final int REPORTED = 103;
    /** Reply to DIRECTORY. */
    public static final int DIRECTORY_PAGE = 104;
    /** Command: placement statements applied as one change. */
    public static final int PLACE = 10;
    /** Command: a page of the placement's statements. */
    public static final int PLACEMENT = 11;
    /** Reply to PLACE. */
    public static final int PLACED = 105;
    /** Reply to PLACEMENT. */
    public static final int PLACEMENT_PAGE = 106;
    /** Event: a node went down. */
    public static final int NODE_DOWN = 110;
    /** Event: a service's status changed. */
    public static final int SERVICE_STATUS = 111;

    /**
     * The only version this code reads and writes (2: MOVE, RECLAIM, REPORT, DIRECTORY, OWNER's fence;
     * 3: PLACE, PLACEMENT, REPORTED's placement version, OWNER's rule).
     */
    public static final int VERSION = 3;
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
        switch (type)
        {
            case REGISTER:
                return REGISTERED;
            case REPORT:
                return REPORTED;
            case DIRECTORY:
                return DIRECTORY_PAGE;
            case PLACE:
                return PLACED;
            case PLACEMENT:
                return PLACEMENT_PAGE;
            default:
                return OWNER;
        }
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

    /** MOVE. */
    public static final class Move extends Flyweight<Move>
    {
        /** Length of the message. */
        public static final int LENGTH = 48;

        @Override
        int type()
        {
            return MOVE;
        }

        /** @return the fence the caller's tenure starts with (its highest migration id so far). */
        public long tenureFence()
        {
            return readBuffer.getLong(offset + 40, ORDER);
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @return the source, the owner expected. */
        public int fromNode()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /** @return the migration. */
        public long migrationId()
        {
            return readBuffer.getLong(offset + 32, ORDER);
        }

        /**
         * @param vmId        the VM.
         * @param fromNode    the source, the owner expected.
         * @param migrationId the migration.
         * @return the message's length.
         */
        public int set(final long vmId, final int fromNode, final long migrationId)
        {
            return set(vmId, fromNode, migrationId, 0);
        }

        /**
         * @param vmId        the VM.
         * @param fromNode    the source, the owner expected.
         * @param migrationId the migration.
         * @param tenureFence the fence the caller's tenure starts with.
         * @return the message's length.
         */
        public int set(final long vmId, final int fromNode, final long migrationId, final long tenureFence)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            buffer.putInt(offset + 24, fromNode, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            buffer.putLong(offset + 32, migrationId, ORDER);
            buffer.putLong(offset + 40, tenureFence, ORDER);
            return LENGTH;
        }
    }

    /** RELEASE. */
    public static final class Release extends Flyweight<Release>
    {
        /** Length of the message. */
        public static final int LENGTH = 24;

        @Override
        int type()
        {
            return RELEASE;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @param vmId the VM. @return the message's length. */
        public int set(final long vmId)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            return LENGTH;
        }
    }

    /** RECLAIM. */
    public static final class Reclaim extends Flyweight<Reclaim>
    {
        /** Length of the message. */
        public static final int LENGTH = 32;

        @Override
        int type()
        {
            return RECLAIM;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @return the migration given up. */
        public long migrationId()
        {
            return readBuffer.getLong(offset + 24, ORDER);
        }

        /**
         * @param vmId        the VM.
         * @param migrationId the migration given up.
         * @return the message's length.
         */
        public int set(final long vmId, final long migrationId)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            buffer.putLong(offset + 24, migrationId, ORDER);
            return LENGTH;
        }
    }

    /** REPORT. */
    public static final class Report extends Flyweight<Report>
    {
        /** Length of the message. */
        public static final int LENGTH = 32;

        @Override
        int type()
        {
            return REPORT;
        }

        /** @return the load. */
        public double load()
        {
            return readBuffer.getDouble(offset + 16, ORDER);
        }

        /** @return the VM count. */
        public int vmCount()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /**
         * @param load    the node's load.
         * @param vmCount how many VMs it runs.
         * @return the message's length.
         */
        public int set(final double load, final int vmCount)
        {
            buffer.putDouble(offset + 16, load, ORDER);
            buffer.putInt(offset + 24, vmCount, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            return LENGTH;
        }
    }

    /** DIRECTORY. */
    public static final class Directory extends Flyweight<Directory>
    {
        /** Length of the message. */
        public static final int LENGTH = 24;

        @Override
        int type()
        {
            return DIRECTORY;
        }

        /** @return the node id the page starts after (0: from the first). */
        public int afterId()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /**
         * @param afterId the node id the page starts after (0: from the first).
         * @return the message's length.
         */
        public int set(final int afterId)
        {
            buffer.putInt(offset + 16, afterId, ORDER);
            buffer.putInt(offset + 20, 0, ORDER);
            return LENGTH;
        }
    }

    /** REPORTED. */
    public static final class Reported extends Flyweight<Reported>
    {
        /** Length of the message. */
        public static final int LENGTH = 40;

        @Override
        int type()
        {
            return REPORTED;
        }

        /** @return the placement's version when the report was stored. */
        public int placementVersion()
        {
            return readBuffer.getInt(offset + 32, ORDER);
        }

        /**
         * @param version the placement's version.
         * @return this.
         */
        public Reported placementVersion(final int version)
        {
            buffer.putInt(offset + 32, version, ORDER);
            buffer.putInt(offset + 36, 0, ORDER);
            return this;
        }

        /** @return the node the report was stored on (0 unless OK). */
        public int nodeId()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @return the cluster time the report came at. */
        public long reportTime()
        {
            return readBuffer.getLong(offset + 24, ORDER);
        }

        /** @return the directory's version when the report was stored (it changes when the directory does). */
        public int directoryVersion()
        {
            return readBuffer.getInt(offset + 20, ORDER);
        }

        /**
         * @param nodeId     the node the report was stored on.
         * @param reportTime the cluster time it came at.
         * @return the message's length.
         */
        public int set(final int nodeId, final long reportTime)
        {
            return set(nodeId, reportTime, 0);
        }

        /**
         * @param nodeId           the node the report was stored on.
         * @param reportTime       the cluster time it came at.
         * @param directoryVersion the directory's version.
         * @return the message's length.
         */
        public int set(final int nodeId, final long reportTime, final int directoryVersion)
        {
            buffer.putInt(offset + 16, nodeId, ORDER);
            buffer.putInt(offset + 20, directoryVersion, ORDER);
            buffer.putLong(offset + 24, reportTime, ORDER);
            buffer.putLong(offset + 32, 0, ORDER);
            return LENGTH;
        }
    }

    /**
     * DIRECTORY_PAGE: the nodes after a node id, in id order, as many as fit in {@link #MAX_LENGTH}
     * (at least one: the largest node, every string at its longest, takes {@link #LARGEST_NODE} bytes).
     * Write the header with {@link #set}, then each node with {@link #appendNode}; read with
     * {@link #lengthMatches} first, then {@link #firstNode()} and a {@link DirectoryNode} per node.
     */
    public static final class DirectoryPage extends Flyweight<DirectoryPage>
    {
        /**
         * The longest page: an Aeron publication of the smallest term (64 KiB) carries messages of up to
         * 8 KiB, and the cluster puts its 32-byte session header before ours; 32 more to spare.
         */
        public static final int MAX_LENGTH = 8 * 1024 - 64;
        /** Bytes before the first node. */
        public static final int BLOCK_LENGTH = 32;
        /** The largest node entry: its block and every string at its longest. */
        public static final int LARGEST_NODE = DirectoryNode.BLOCK_LENGTH + 2 * RegistryState.MAX_NAME_LENGTH +
            RegistryState.MAX_LABELS_LENGTH;

        static
        {
            if (BLOCK_LENGTH + LARGEST_NODE > MAX_LENGTH)
            {
                throw new IllegalStateException("a directory page must hold at least one node");
            }
        }

        private final DirectoryNode nodeReader = new DirectoryNode();

        @Override
        int type()
        {
            return DIRECTORY_PAGE;
        }

        /** @return the node id this page starts after. */
        public int afterId()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @return the id to ask the next page after, 0 if this is the last page. */
        public int nextAfterId()
        {
            return readBuffer.getInt(offset + 20, ORDER);
        }

        /** @return how many nodes this page holds. */
        public int nodeCount()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /**
         * Write the header (after {@link #wrap}); the nodes follow.
         *
         * @param afterId     the node id the page starts after.
         * @param nextAfterId the id to ask the next page after, 0 if this is the last page.
         * @param nodeCount   how many nodes follow.
         * @return the length of the header.
         */
        public int set(final int afterId, final int nextAfterId, final int nodeCount)
        {
            buffer.putInt(offset + 16, afterId, ORDER);
            buffer.putInt(offset + 20, nextAfterId, ORDER);
            buffer.putInt(offset + 24, nodeCount, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            return BLOCK_LENGTH;
        }

        /** @return the offset (in the buffer) of the first node. */
        public int firstNode()
        {
            return offset + BLOCK_LENGTH;
        }

        /**
         * Write a node at {@code at} (the page's end so far).
         *
         * @param at   where it goes, in the buffer.
         * @param node the node.
         * @return where the next node goes.
         */
        public int appendNode(final int at, final RegistryState.Node node)
        {
            final byte[] name = node.name().getBytes(StandardCharsets.UTF_8);
            final byte[] endpoint = node.endpoint().getBytes(StandardCharsets.UTF_8);
            final byte[] labels = node.labels().getBytes(StandardCharsets.UTF_8);
            buffer.putInt(at, node.id(), ORDER);
            buffer.putInt(at + 4, node.vmCount(), ORDER);
            buffer.putDouble(at + 8, node.capacity().cores(), ORDER);
            buffer.putDouble(at + 16, node.capacity().coreSpeed(), ORDER);
            buffer.putDouble(at + 24, node.capacity().ioBytesPerSecond(), ORDER);
            buffer.putDouble(at + 32, node.capacity().memoryBytes(), ORDER);
            buffer.putDouble(at + 40, node.load(), ORDER);
            buffer.putLong(at + 48, node.reportTime(), ORDER);
            buffer.putByte(at + 56, (byte)(node.up() ? 1 : 0));
            buffer.putByte(at + 57, (byte)0);
            buffer.putShort(at + 58, (short)name.length, ORDER);
            buffer.putShort(at + 60, (short)endpoint.length, ORDER);
            buffer.putShort(at + 62, (short)labels.length, ORDER);
            int next = at + DirectoryNode.BLOCK_LENGTH;
            buffer.putBytes(next, name);
            next += name.length;
            buffer.putBytes(next, endpoint);
            next += endpoint.length;
            buffer.putBytes(next, labels);
            return next + labels.length;
        }

        /**
         * @param node a node.
         * @return the bytes it takes in a page.
         */
        public static int nodeLength(final RegistryState.Node node)
        {
            return DirectoryNode.BLOCK_LENGTH + RegistryState.utf8Length(node.name()) +
                RegistryState.utf8Length(node.endpoint()) + RegistryState.utf8Length(node.labels());
        }

        /**
         * @param messageLength the message's length as received.
         * @return whether its node count and their lengths add up to exactly that length.
         */
        public boolean lengthMatches(final int messageLength)
        {
            if (messageLength < BLOCK_LENGTH || nodeCount() < 0)
            {
                return false;
            }
            final int end = offset + messageLength;
            int at = firstNode();
            for (int i = 0, count = nodeCount(); i < count; i++)
            {
                if (end - at < DirectoryNode.BLOCK_LENGTH)
                {
                    return false;
                }
                at += nodeReader.wrap(readBuffer, at).length();
                if (at > end)
                {
                    return false;
                }
            }
            return at == end;
        }
    }

    /** One node of a DIRECTORY_PAGE, read in place. */
    public static final class DirectoryNode
    {
        /** Bytes before the strings. */
        public static final int BLOCK_LENGTH = 64;

        private DirectBuffer buffer;
        private int offset;

        /**
         * @param buffer the page.
         * @param offset where this node starts.
         * @return this.
         */
        public DirectoryNode wrap(final DirectBuffer buffer, final int offset)
        {
            this.buffer = buffer;
            this.offset = offset;
            return this;
        }

        /** @return its bytes in the page, block and strings. */
        public int length()
        {
            return BLOCK_LENGTH + nameLength() + endpointLength() + labelsLength();
        }

        /** @return its id. */
        public int nodeId()
        {
            return buffer.getInt(offset, ORDER);
        }

        /** @return its last reported VM count. */
        public int vmCount()
        {
            return buffer.getInt(offset + 4, ORDER);
        }

        /** @return cores. */
        public double cores()
        {
            return buffer.getDouble(offset + 8, ORDER);
        }

        /** @return core speed. */
        public double coreSpeed()
        {
            return buffer.getDouble(offset + 16, ORDER);
        }

        /** @return I/O bytes per second. */
        public double ioBytesPerSecond()
        {
            return buffer.getDouble(offset + 24, ORDER);
        }

        /** @return memory bytes. */
        public double memoryBytes()
        {
            return buffer.getDouble(offset + 32, ORDER);
        }

        /** @return its last reported load. */
        public double load()
        {
            return buffer.getDouble(offset + 40, ORDER);
        }

        /** @return the cluster time of its last report, or {@link RegistryState#NO_REPORT}. */
        public long reportTime()
        {
            return buffer.getLong(offset + 48, ORDER);
        }

        /** @return whether its session is live. */
        public boolean up()
        {
            return buffer.getByte(offset + 56) == 1;
        }

        /** @return the name's UTF-8 length. */
        public int nameLength()
        {
            return buffer.getShort(offset + 58, ORDER) & 0xFFFF;
        }

        /** @return the endpoint's UTF-8 length. */
        public int endpointLength()
        {
            return buffer.getShort(offset + 60, ORDER) & 0xFFFF;
        }

        /** @return the labels' UTF-8 length. */
        public int labelsLength()
        {
            return buffer.getShort(offset + 62, ORDER) & 0xFFFF;
        }

        /** @return the name. */
        public String name()
        {
            return buffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH, nameLength());
        }

        /** @return the endpoint. */
        public String endpoint()
        {
            return buffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH + nameLength(), endpointLength());
        }

        /** @return the labels. */
        public String labels()
        {
            return buffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH + nameLength() + endpointLength(), labelsLength());
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
        public static final int LENGTH = 56;

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

        /** @return the migration of the last CAS, MOVE or RECLAIM. */
        public long migrationId()
        {
            return readBuffer.getLong(offset + 40, ORDER);
        }

        /** @return the fence: the highest migration the owner reclaimed in its tenure (0: none). */
        public long fence()
        {
            return readBuffer.getLong(offset + 48, ORDER);
        }

        /**
         * @param vmId        the VM.
         * @param owner       its owner (0: none).
         * @param epoch       its epoch.
         * @param migrationId its last CAS's, MOVE's or RECLAIM's migration.
         * @param fence       its fence.
         * @return the message's length.
         */
        public int set(final long vmId, final int owner, final long epoch, final long migrationId, final long fence)
        {
            buffer.putLong(offset + 16, vmId, ORDER);
            buffer.putInt(offset + 24, owner, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            buffer.putLong(offset + 32, epoch, ORDER);
            buffer.putLong(offset + 40, migrationId, ORDER);
            buffer.putLong(offset + 48, fence, ORDER);
            return LENGTH;
        }

        /**
         * @param rule for status RULE: the index of the hard rule broken (in the registry's placement).
         * @return this.
         */
        public Owner rule(final int rule)
        {
            buffer.putInt(offset + 28, rule + 1, ORDER);
            return this;
        }

        /** @return for status RULE, the index of the hard rule broken; -1 otherwise. */
        public int rule()
        {
            return readBuffer.getInt(offset + 28, ORDER) - 1;
        }
    }

    /**
     * PLACE: placement statements applied as one change (text, one statement a line), at most
     * {@link #MAX_LENGTH} bytes in all.
     */
    public static final class Place extends Flyweight<Place>
    {
        /** Bytes before the text. */
        public static final int BLOCK_LENGTH = 24;
        /** The longest PLACE (one message of the smallest term, as a directory page). */
        public static final int MAX_LENGTH = DirectoryPage.MAX_LENGTH;

        @Override
        int type()
        {
            return PLACE;
        }

        /** @return the text's UTF-8 length (may be negative in a malformed message). */
        public int textLength()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @param messageLength the length received. @return whether it is this layout's. */
        public boolean lengthMatches(final int messageLength)
        {
            return messageLength >= BLOCK_LENGTH && textLength() >= 0 && (long)BLOCK_LENGTH + textLength() == messageLength;
        }

        /** @return the statements. */
        public java.util.List<String> statements()
        {
            final String text = readBuffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH, textLength());
            final java.util.List<String> out = new java.util.ArrayList<>();
            for (final String line : text.split("\n"))
            {
                if (!line.isBlank())
                {
                    out.add(line.strip());
                }
            }
            return out;
        }

        /**
         * @param text the statements, one a line, UTF-8.
         * @return the message's length.
         */
        public int set(final byte[] text)
        {
            buffer.putInt(offset + 16, text.length, ORDER);
            buffer.putInt(offset + 20, 0, ORDER);
            buffer.putBytes(offset + BLOCK_LENGTH, text);
            return BLOCK_LENGTH + text.length;
        }
    }

    /** PLACED: the outcome of a PLACE, with the reason when refused. */
    public static final class Placed extends Flyweight<Placed>
    {
        /** Bytes before the reason. */
        public static final int BLOCK_LENGTH = 24;
        /** The longest reason kept (bytes). */
        public static final int MAX_REASON = 1024;

        @Override
        int type()
        {
            return PLACED;
        }

        /** @return the placement's version after the command. */
        public int placementVersion()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @return the reason's length. */
        public int reasonLength()
        {
            return readBuffer.getInt(offset + 20, ORDER);
        }

        /** @param messageLength the length received. @return whether it is this layout's. */
        public boolean lengthMatches(final int messageLength)
        {
            return messageLength >= BLOCK_LENGTH && reasonLength() >= 0 && (long)BLOCK_LENGTH + reasonLength() == messageLength;
        }

        /** @return why the statements were refused (empty if not). */
        public String reason()
        {
            return readBuffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH, reasonLength());
        }

        /**
         * @param placementVersion the version after the command.
         * @param reason           why refused, or empty (cut at {@link #MAX_REASON} bytes).
         * @return the message's length.
         */
        public int set(final int placementVersion, final String reason)
        {
            byte[] text = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (text.length > MAX_REASON)
            {
                text = java.util.Arrays.copyOf(text, MAX_REASON);
            }
            buffer.putInt(offset + 16, placementVersion, ORDER);
            buffer.putInt(offset + 20, text.length, ORDER);
            buffer.putBytes(offset + BLOCK_LENGTH, text);
            return BLOCK_LENGTH + text.length;
        }
    }

    /** PLACEMENT: a page of the placement's statements, from a statement index. */
    public static final class PlacementRead extends Flyweight<PlacementRead>
    {
        /** Length of the message. */
        public static final int LENGTH = 24;

        @Override
        int type()
        {
            return PLACEMENT;
        }

        /** @return the first statement wanted (0: from the first). */
        public int from()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @param from the first statement wanted. @return the message's length. */
        public int set(final int from)
        {
            buffer.putInt(offset + 16, from, ORDER);
            buffer.putInt(offset + 20, 0, ORDER);
            return LENGTH;
        }
    }

    /**
     * PLACEMENT_PAGE: statements of the placement from an index, as many as fit in
     * {@link DirectoryPage#MAX_LENGTH} (at least one: a statement is never longer than a PLACE's text).
     */
    public static final class PlacementPage extends Flyweight<PlacementPage>
    {
        /** Bytes before the first statement. */
        public static final int BLOCK_LENGTH = 32;

        @Override
        int type()
        {
            return PLACEMENT_PAGE;
        }

        /** @return the placement's version the page was read at. */
        public int placementVersion()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @return the index of the page's first statement. */
        public int from()
        {
            return readBuffer.getInt(offset + 20, ORDER);
        }

        /** @return statements in this page. */
        public int count()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /** @return statements in the whole placement. */
        public int total()
        {
            return readBuffer.getInt(offset + 28, ORDER);
        }

        /**
         * Read the page's statements.
         *
         * @param messageLength the length received.
         * @return the statements, or null if the page does not add up.
         */
        public java.util.List<String> statements(final int messageLength)
        {
            final int count = count();
            if (messageLength < BLOCK_LENGTH || count < 0)
            {
                return null;
            }
            final java.util.List<String> out = new java.util.ArrayList<>(count);
            int at = offset + BLOCK_LENGTH;
            final int end = offset + messageLength;
            for (int i = 0; i < count; i++)
            {
                if (end - at < 4)
                {
                    return null;
                }
                final int length = readBuffer.getInt(at, ORDER);
                if (length < 0 || end - at - 4 < length)
                {
                    return null;
                }
                out.add(readBuffer.getStringWithoutLengthUtf8(at + 4, length));
                at += 4 + length;
            }
            return at == end ? out : null;
        }

        /**
         * Write a page of {@code statements} from {@code from}.
         *
         * @param placementVersion the version.
         * @param statements       all the placement's statements.
         * @param from             the first to write.
         * @return the message's length.
         */
        public int set(final int placementVersion, final java.util.List<String> statements, final int from)
        {
            int at = offset + BLOCK_LENGTH;
            int count = 0;
            for (int i = Math.max(0, from); i < statements.size(); i++)
            {
                final byte[] text = statements.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (count > 0 && at - offset + 4 + text.length > DirectoryPage.MAX_LENGTH)
                {
                    break;
                }
                buffer.putInt(at, text.length, ORDER);
                buffer.putBytes(at + 4, text);
                at += 4 + text.length;
                count++;
            }
            buffer.putInt(offset + 16, placementVersion, ORDER);
            buffer.putInt(offset + 20, from, ORDER);
            buffer.putInt(offset + 24, count, ORDER);
            buffer.putInt(offset + 28, statements.size(), ORDER);
            return at - offset;
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

    /** SERVICE_STATUS. */
    public static final class ServiceChange extends Flyweight<ServiceChange>
    {
        /** Bytes before the name. */
        public static final int BLOCK_LENGTH = 32;
        /** The longest cause kept, in characters. */
        public static final int MAX_CAUSE = 512;
        /** The previous status of a service's first. */
        public static final int NONE = 255;

        @Override
        int type()
        {
            return SERVICE_STATUS;
        }

        /** @return the status, a {@link io.vmsched.placement.ServiceHealth} ordinal. */
        public int health()
        {
            return readBuffer.getByte(offset + 16) & 0xFF;
        }

        /** @return the previous status, a {@link io.vmsched.placement.ServiceHealth} ordinal, or {@link #NONE}. */
        public int previous()
        {
            return readBuffer.getByte(offset + 17) & 0xFF;
        }

        /** @return the cluster time of the change, ms since the epoch. */
        public long timeMs()
        {
            return readBuffer.getLong(offset + 24, ORDER);
        }

        private int nameLength()
        {
            return readBuffer.getShort(offset + 18, ORDER) & 0xFFFF;
        }

        private int causeLength()
        {
            return readBuffer.getShort(offset + 20, ORDER) & 0xFFFF;
        }

        /** @param messageLength the length received. @return whether it is this layout's. */
        public boolean lengthMatches(final int messageLength)
        {
            return messageLength >= BLOCK_LENGTH && BLOCK_LENGTH + nameLength() + causeLength() == messageLength;
        }

        /** @return the service's name. */
        public String name()
        {
            return readBuffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH, nameLength());
        }

        /** @return the cause of the status. */
        public String cause()
        {
            return readBuffer.getStringWithoutLengthUtf8(offset + BLOCK_LENGTH + nameLength(), causeLength());
        }

        /**
         * @param health   the status ordinal.
         * @param previous the previous one, or {@link #NONE}.
         * @param timeMs   the cluster time.
         * @param name     the service (a placement name: short).
         * @param cause    the cause (cut at {@link #MAX_CAUSE} characters).
         * @return the message's length.
         */
        public int set(final int health, final int previous, final long timeMs, final String name, final String cause)
        {
            final byte[] n = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            final byte[] c = (cause.length() > MAX_CAUSE ? cause.substring(0, MAX_CAUSE) : cause)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            buffer.putByte(offset + 16, (byte)health);
            buffer.putByte(offset + 17, (byte)previous);
            buffer.putShort(offset + 18, (short)n.length, ORDER);
            buffer.putShort(offset + 20, (short)c.length, ORDER);
            buffer.putShort(offset + 22, (short)0, ORDER);
            buffer.putLong(offset + 24, timeMs, ORDER);
            buffer.putBytes(offset + BLOCK_LENGTH, n);
            buffer.putBytes(offset + BLOCK_LENGTH + n.length, c);
            return BLOCK_LENGTH + n.length + c.length;
        }
    }
}

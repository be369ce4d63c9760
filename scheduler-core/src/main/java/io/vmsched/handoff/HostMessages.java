package io.vmsched.handoff;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The one descriptor of the messages a host's inbox carries: requests from the embedding API and
 * the handoff between hosts. Writers (the API, a peer) and the reader (the host's agent) use the same
 * flyweights, so a layout is defined once. All fields are little-endian.
 * <pre>
 *  type      layout (offset size field)
 *  ADMIT     0 8 vmId | 8 4 weight | 12 2 kind length | 14 n kind (UTF-8) | 14+n m guest state
 *  REMOVE    0 8 vmId
 *  PROGRAM   0 8 vmId | 8 8 cpu cores (NaN: back to measured) | 16 8 I/O bytes/s | 24 8 memory bytes
 *  MIGRATE   0 8 vmId | 8 4 target host
 *  USAGE     as PROGRAM: an external VM's measured usage
 *  TRANSFER  0 8 migrationId | 8 8 vmId | 16 4 source | 20 4 weight | 24 8 watermark |
 *            32 8 cpu cores | 40 8 I/O bytes/s | 48 8 memory bytes | 56 1 programmed (1) or measured (0) |
 *            57 2 kind length | 59 n kind | 59+n m guest state
 *  ACK, NACK 0 8 migrationId | 8 8 vmId | 16 4 answering host
 *  RESOLVE   0 8 migrationId | 8 8 vmId | 16 4 source | 20 8 watermark
 *  MEAN_SHARE 0 8 mean estimate | 8 4 sending host: for the receiver to average its own with
 *  MEAN_REPLY as MEAN_SHARE, the figure the change the sender's estimate takes (the receiver's answer)
 *  PULL      0 8 the sender's load | 8 4 sending host: a light host asks a heavy one to shed to it
 *  GOSSIP    0 4 sending host | 4 4 figures n | 8 + 20i: 4 host | 8 load | 8 taken at (the agents' clock):
 *            a quiet period's table of loads, for the receiver to merge and answer with its own
 *  GOSSIP_REPLY as GOSSIP: the receiver's table, merged
 * </pre>
 * Every request (types 1-5) starts with the vmId, so a host can name the VM of any request it
 * refuses. A watermark is the source's oldest unsettled migration id: the target may forget the
 * outcomes of that source's migrations below it.
 * <p>
 * <b>Note:</b> Flyweights are not threadsafe: each writer or reader has its own.
 */
public final class HostMessages
{
    /** Admit a VM (request). */
    public static final int ADMIT = 1;
    /** Remove a VM (request). */
    public static final int REMOVE = 2;
    /** Program a VM's target load, or clear it (request). */
    public static final int PROGRAM = 3;
    /** Migrate a VM to a host (request). */
    public static final int MIGRATE = 4;
    /** An external VM's measured usage (request). */
    public static final int USAGE = 5;
    /** Ask a VM's balloon for memory or processors (request). */
    public static final int BALLOON = 6;
    /** Source to target: the VM's state. */
    public static final int TRANSFER = 10;
    /** Target to source: activated. */
    public static final int ACK = 11;
    /** Target to source: not activated, and never will be. */
    public static final int NACK = 12;
    /** Source to target: what became of this migration? */
    public static final int RESOLVE = 13;
    /** Source to peer, at each exchange: the source's mean load estimate (averaging gossip). */
    public static final int MEAN_SHARE = 14;
    /** Peer to source: the change the source's mean estimate takes (the same layout as MEAN_SHARE). */
    public static final int MEAN_REPLY = 16;
    /** A light host to a heavy one it heard of: shed to me ({@code BalanceConfig.pullFactor}). */
    public static final int PULL = 15;
    /** Host to contact, in a quiet period of the gossip view: its table of loads. */
    public static final int GOSSIP = 17;
    /** Contact to host: its own table, after merging (the same layout as GOSSIP). */
    public static final int GOSSIP_REPLY = 18;
    /**
     * The owner registry to a host (never over the network: its own thread writes the host's inbox):
     * what became of a request (admit, move, reclaim), {@code io.vmsched.cluster.OwnerRegistry}.
     */
    public static final int OWNER_ANSWER = 19;
    /** Target to source: a driven VM's incoming copy waits at a URI ({@link Prepared}). */
    public static final int PREPARED = 20;

    /**
     * Where a message that travels between hosts names its sender, so a network transport can check it
     * against the sender it authenticated (a member must not speak for another).
     *
     * @param type a message type.
     * @return the offset of the sender's host id (an int) in the payload, or -1 for a type no peer may
     *         send: the embedding API's requests and OWNER_ANSWER are local to a host, and an unknown
     *         type is refused.
     */
    public static int senderOffset(final int type)
    {
        switch (type)
        {
            case TRANSFER: return Transfer.SOURCE_OFFSET;
            case ACK:
            case NACK: return Answer.HOST_OFFSET;
            case RESOLVE: return Resolve.SOURCE_OFFSET;
            case PREPARED: return Prepared.HOST_OFFSET;
            case MEAN_SHARE:
            case MEAN_REPLY: return MeanShare.FROM_OFFSET;
            case PULL: return Pull.FROM_OFFSET;
            case GOSSIP:
            case GOSSIP_REPLY: return LoadFigures.FROM_OFFSET;
            default: return -1;
        }
    }

    /** Byte order of every field. */
    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private HostMessages()
    {
    }

    /**
     * @param type a message type.
     * @return whether it is a request from the embedding API (its first field is the vmId).
     */
    public static boolean isRequest(final int type)
    {
        return type >= ADMIT && type <= BALLOON;
    }

    /**
     * @param buffer  a request message.
     * @param offset  where it starts.
     * @return the VM it is about.
     */
    public static long requestVmId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset, ORDER);
    }

    /**
     * Base of the flyweights: a window on a buffer at an offset.
     *
     * @param <T> the flyweight's own type, returned by the wrap methods for chaining.
     */
    public abstract static class Flyweight<T extends Flyweight<T>>
    {
        MutableDirectBuffer buffer;
        DirectBuffer readBuffer;
        int offset;

        /**
         * Wrap a buffer to write a message.
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
            return (T)this;
        }

        /**
         * Wrap a buffer to read a message.
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
    }

    /**
     * A guest-carrying message's tail: kind length, kind, state.
     *
     * @param <T> the message's own type.
     */
    public abstract static class GuestMessage<T extends GuestMessage<T>> extends Flyweight<T>
    {
        abstract int headerLength();

        /** @return the kind's UTF-8 length. */
        public int kindLength()
        {
            return readBuffer.getShort(offset + headerLength() - 2, ORDER) & 0xFFFF;
        }

        /** @return the guest's kind. */
        public String kind()
        {
            return readBuffer.getStringWithoutLengthUtf8(offset + headerLength(), kindLength());
        }

        /**
         * @param messageLength the whole message's length.
         * @return the guest's state, copied.
         */
        public byte[] state(final int messageLength)
        {
            final byte[] state = new byte[messageLength - headerLength() - kindLength()];
            readBuffer.getBytes(offset + headerLength() + kindLength(), state);
            return state;
        }

        /**
         * Write the kind and the state after the header.
         *
         * @param kindUtf8 the kind, UTF-8 (at most 65,535 bytes).
         * @param state    the state.
         * @return the whole message's length.
         */
        public int guest(final byte[] kindUtf8, final byte[] state)
        {
            buffer.putShort(offset + headerLength() - 2, (short)kindUtf8.length, ORDER);
            buffer.putBytes(offset + headerLength(), kindUtf8);
            buffer.putBytes(offset + headerLength() + kindUtf8.length, state);
            return headerLength() + kindUtf8.length + state.length;
        }
    }

    /** ADMIT. */
    public static final class Admit extends GuestMessage<Admit>
    {
        /** Bytes before the kind. */
        public static final int HEADER_LENGTH = 14;

        @Override
        int headerLength()
        {
            return HEADER_LENGTH;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @param v the VM. @return this. */
        public Admit vmId(final long v)
        {
            buffer.putLong(offset, v, ORDER);
            return this;
        }

        /** @return its weight. */
        public int weight()
        {
            return readBuffer.getInt(offset + 8, ORDER);
        }

        /** @param v its weight. @return this. */
        public Admit weight(final int v)
        {
            buffer.putInt(offset + 8, v, ORDER);
            return this;
        }
    }

    /** REMOVE. */
    public static final class Remove extends Flyweight<Remove>
    {
        /** Its length. */
        public static final int LENGTH = 8;

        /** @param v the VM. @return this. */
        public Remove vmId(final long v)
        {
            buffer.putLong(offset, v, ORDER);
            return this;
        }
    }

    /** PROGRAM and USAGE: a VM's usage. */
    public static final class Usage extends Flyweight<Usage>
    {
        /** Its length. */
        public static final int LENGTH = 32;

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return reference cores (NaN in PROGRAM: back to the measured load). */
        public double cpu()
        {
            return readBuffer.getDouble(offset + 8, ORDER);
        }

        /** @return I/O bytes per second. */
        public double io()
        {
            return readBuffer.getDouble(offset + 16, ORDER);
        }

        /** @return memory bytes. */
        public double memory()
        {
            return readBuffer.getDouble(offset + 24, ORDER);
        }

        /**
         * @param vmId   the VM.
         * @param cpu    reference cores.
         * @param io     I/O bytes per second.
         * @param memory memory bytes.
         * @return this.
         */
        public Usage set(final long vmId, final double cpu, final double io, final double memory)
        {
            buffer.putLong(offset, vmId, ORDER);
            buffer.putDouble(offset + 8, cpu, ORDER);
            buffer.putDouble(offset + 16, io, ORDER);
            buffer.putDouble(offset + 24, memory, ORDER);
            return this;
        }
    }

    /** MIGRATE. */
    public static final class Migrate extends Flyweight<Migrate>
    {
        /** Its length. */
        public static final int LENGTH = 12;

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return the host to move it to. */
        public int target()
        {
            return readBuffer.getInt(offset + 8, ORDER);
        }

        /** @param vmId the VM. @param target the host to move it to. @return this. */
        public Migrate set(final long vmId, final int target)
        {
            buffer.putLong(offset, vmId, ORDER);
            buffer.putInt(offset + 8, target, ORDER);
            return this;
        }
    }

    /** BALLOON: a VM's targets, and the caller's id for the answer (its future, in this JVM). */
    public static final class Balloon extends Flyweight<Balloon>
    {
        /** Its length. */
        public static final int LENGTH = 28;

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return the memory target, bytes (-1 unchanged; any other value as the caller gave it). */
        public long memoryBytes()
        {
            return readBuffer.getLong(offset + 8, ORDER);
        }

        /** @return the processors target, the guest's weight (-1 unchanged). */
        public int processors()
        {
            return readBuffer.getInt(offset + 16, ORDER);
        }

        /** @return the caller's id of this call. */
        public long callId()
        {
            return readBuffer.getLong(offset + 20, ORDER);
        }

        /**
         * @param vmId        the VM.
         * @param memoryBytes the memory target.
         * @param processors  the processors target.
         * @param callId      the caller's id of this call.
         * @return this.
         */
        public Balloon set(final long vmId, final long memoryBytes, final int processors, final long callId)
        {
            buffer.putLong(offset, vmId, ORDER);
            buffer.putLong(offset + 8, memoryBytes, ORDER);
            buffer.putInt(offset + 16, processors, ORDER);
            buffer.putLong(offset + 20, callId, ORDER);
            return this;
        }
    }

    /** TRANSFER: the VM's guest, and its load factors (programmed, or measured and smoothed) for the target to go on from. */
    public static final class Transfer extends GuestMessage<Transfer>
    {
        /** Where the source's host id is. */
        public static final int SOURCE_OFFSET = 16;
        /** Bytes before the kind. */
        public static final int HEADER_LENGTH = 59;

        @Override
        int headerLength()
        {
            return HEADER_LENGTH;
        }

        /** @return the migration. */
        public long migrationId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 8, ORDER);
        }

        /** @return the source host. */
        public int source()
        {
            return readBuffer.getInt(offset + SOURCE_OFFSET, ORDER);
        }

        /** @return the VM's weight. */
        public int weight()
        {
            return readBuffer.getInt(offset + 20, ORDER);
        }

        /** @return the source's watermark. */
        public long watermark()
        {
            return readBuffer.getLong(offset + 24, ORDER);
        }

        /** @return the VM's CPU usage, reference cores. */
        public double cpuCores()
        {
            return readBuffer.getDouble(offset + 32, ORDER);
        }

        /** @return the VM's I/O rate, bytes per second. */
        public double ioBytesPerSecond()
        {
            return readBuffer.getDouble(offset + 40, ORDER);
        }

        /** @return the VM's memory, bytes. */
        public double memoryBytes()
        {
            return readBuffer.getDouble(offset + 48, ORDER);
        }

        /** @return whether the usage is a programmed target (else the smoothed measurement). */
        public boolean programmed()
        {
            return readBuffer.getByte(offset + 56) != 0;
        }

        /**
         * @param migrationId the migration.
         * @param vmId        the VM.
         * @param source      the source host.
         * @param weight      the VM's weight.
         * @param watermark   the source's watermark.
         * @return this; then write the usage with {@link #usage} and the guest with {@link #guest}.
         */
        public Transfer set(final long migrationId, final long vmId, final int source, final int weight,
            final long watermark)
        {
            buffer.putLong(offset, migrationId, ORDER);
            buffer.putLong(offset + 8, vmId, ORDER);
            buffer.putInt(offset + 16, source, ORDER);
            buffer.putInt(offset + 20, weight, ORDER);
            buffer.putLong(offset + 24, watermark, ORDER);
            return this;
        }

        /**
         * @param cpuCores         CPU usage, reference cores.
         * @param ioBytesPerSecond I/O rate.
         * @param memoryBytes      memory.
         * @param programmed       whether it is a programmed target.
         * @return this.
         */
        public Transfer usage(final double cpuCores, final double ioBytesPerSecond, final double memoryBytes,
            final boolean programmed)
        {
            buffer.putDouble(offset + 32, cpuCores, ORDER);
            buffer.putDouble(offset + 40, ioBytesPerSecond, ORDER);
            buffer.putDouble(offset + 48, memoryBytes, ORDER);
            buffer.putByte(offset + 56, (byte)(programmed ? 1 : 0));
            return this;
        }
    }

    /** ACK and NACK: a target's answer. */
    public static final class Answer extends Flyweight<Answer>
    {
        /** Its length. */
        public static final int LENGTH = 20;
        /** Where the answering host's id is. */
        public static final int HOST_OFFSET = 16;

        /** @return the migration. */
        public long migrationId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return the answering host. */
        public int host()
        {
            return readBuffer.getInt(offset + HOST_OFFSET, ORDER);
        }

        /** @param migrationId the migration. @param vmId the VM. @param host the answering host. @return this. */
        public Answer set(final long migrationId, final long vmId, final int host)
        {
            buffer.putLong(offset, migrationId, ORDER);
            buffer.putLong(offset + 8, vmId, ORDER);
            buffer.putInt(offset + HOST_OFFSET, host, ORDER);
            return this;
        }
    }

    /** PREPARED: a target's incoming copy of a driven VM, and the URI it listens at. */
    public static final class Prepared extends Flyweight<Prepared>
    {
        /** Where the target's host id is. */
        public static final int HOST_OFFSET = 16;
        /** Where the URI's UTF-8 length (a short) is; the URI follows. */
        public static final int URI_LENGTH_OFFSET = 20;
        /** The fixed part's length. */
        public static final int HEADER_LENGTH = 22;
        /** The longest URI. */
        public static final int MAX_URI_LENGTH = 1024;

        /** @return the migration. */
        public long migrationId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 8, ORDER);
        }

        /** @return the target host. */
        public int host()
        {
            return readBuffer.getInt(offset + HOST_OFFSET, ORDER);
        }

        /**
         * @param messageLength the whole message's length.
         * @return the URI.
         * @throws IllegalArgumentException if its length does not fit the message.
         */
        public String uri(final int messageLength)
        {
            final int length = readBuffer.getShort(offset + URI_LENGTH_OFFSET, ORDER) & 0xFFFF;
            if (messageLength < HEADER_LENGTH || HEADER_LENGTH + length != messageLength)
            {
                throw new IllegalArgumentException("a PREPARED message of " + messageLength + " bytes holds a URI of " +
                    length + " bytes: refused");
            }
            return readBuffer.getStringWithoutLengthUtf8(offset + HEADER_LENGTH, length);
        }

        /**
         * @param migrationId the migration.
         * @param vmId        the VM.
         * @param host        the target host.
         * @param uriUtf8     the URI, UTF-8, at most {@link #MAX_URI_LENGTH} bytes.
         * @return the whole message's length.
         */
        public int set(final long migrationId, final long vmId, final int host, final byte[] uriUtf8)
        {
            if (uriUtf8.length > MAX_URI_LENGTH)
            {
                throw new IllegalArgumentException("a URI of " + uriUtf8.length + " bytes is longer than " + MAX_URI_LENGTH);
            }
            buffer.putLong(offset, migrationId, ORDER);
            buffer.putLong(offset + 8, vmId, ORDER);
            buffer.putInt(offset + HOST_OFFSET, host, ORDER);
            buffer.putShort(offset + URI_LENGTH_OFFSET, (short)uriUtf8.length, ORDER);
            buffer.putBytes(offset + HEADER_LENGTH, uriUtf8);
            return HEADER_LENGTH + uriUtf8.length;
        }
    }

    /** RESOLVE. */
    public static final class Resolve extends Flyweight<Resolve>
    {
        /** Where the source's host id is. */
        public static final int SOURCE_OFFSET = 16;
        /** Its length. */
        public static final int LENGTH = 28;

        /** @return the migration. */
        public long migrationId()
        {
            return readBuffer.getLong(offset, ORDER);
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 8, ORDER);
        }

        /** @return the source host. */
        public int source()
        {
            return readBuffer.getInt(offset + SOURCE_OFFSET, ORDER);
        }

        /** @return the source's watermark. */
        public long watermark()
        {
            return readBuffer.getLong(offset + 20, ORDER);
        }

        /**
         * @param migrationId the migration.
         * @param vmId        the VM.
         * @param source      the source host.
         * @param watermark   the source's watermark.
         * @return this.
         */
        public Resolve set(final long migrationId, final long vmId, final int source, final long watermark)
        {
            buffer.putLong(offset, migrationId, ORDER);
            buffer.putLong(offset + 8, vmId, ORDER);
            buffer.putInt(offset + 16, source, ORDER);
            buffer.putLong(offset + 20, watermark, ORDER);
            return this;
        }
    }

    /** PULL. */
    public static final class Pull extends Flyweight<Pull>
    {
        /** Where the light host's id is. */
        public static final int FROM_OFFSET = 8;
        /** Its length. */
        public static final int LENGTH = 12;

        /** @return the light host's load when it asked. */
        public double load()
        {
            return readBuffer.getDouble(offset, ORDER);
        }

        /** @return the light host. */
        public int from()
        {
            return readBuffer.getInt(offset + FROM_OFFSET, ORDER);
        }

        /** @param load the light host's load. @param from the light host. @return this. */
        public Pull set(final double load, final int from)
        {
            buffer.putDouble(offset, load, ORDER);
            buffer.putInt(offset + 8, from, ORDER);
            return this;
        }
    }

    /** MEAN_SHARE. */
    public static final class MeanShare extends Flyweight<MeanShare>
    {
        /** Where the sending host's id is. */
        public static final int FROM_OFFSET = 8;
        /** Its length. */
        public static final int LENGTH = 12;

        /** @return the sender's estimate. */
        public double estimate()
        {
            return readBuffer.getDouble(offset, ORDER);
        }

        /** @return the sending host. */
        public int from()
        {
            return readBuffer.getInt(offset + FROM_OFFSET, ORDER);
        }

        /** @param estimate the sender's estimate. @param from the sending host. @return this. */
        public MeanShare set(final double estimate, final int from)
        {
            buffer.putDouble(offset, estimate, ORDER);
            buffer.putInt(offset + 8, from, ORDER);
            return this;
        }
    }

    /** GOSSIP and GOSSIP_REPLY: a table of loads, each figure with the host it is of and when it was taken. */
    public static final class LoadFigures extends Flyweight<LoadFigures>
    {
        /** Where the sending host's id is. */
        public static final int FROM_OFFSET = 0;
        /** Bytes before the figures. */
        public static final int HEADER_LENGTH = 8;
        /** Bytes of one figure. */
        public static final int FIGURE_LENGTH = 20;

        /**
         * @param figures figures in a message.
         * @return its length.
         */
        public static int length(final int figures)
        {
            return HEADER_LENGTH + figures * FIGURE_LENGTH;
        }

        /** @return the sending host. */
        public int from()
        {
            return readBuffer.getInt(offset + FROM_OFFSET, ORDER);
        }

        /** @return figures in the message. */
        public int count()
        {
            return readBuffer.getInt(offset + 4, ORDER);
        }

        /** @param i a figure's index. @return the host it is of. */
        public int host(final int i)
        {
            return readBuffer.getInt(offset + HEADER_LENGTH + i * FIGURE_LENGTH, ORDER);
        }

        /** @param i a figure's index. @return the load. */
        public double load(final int i)
        {
            return readBuffer.getDouble(offset + HEADER_LENGTH + i * FIGURE_LENGTH + 4, ORDER);
        }

        /** @param i a figure's index. @return when it was taken. */
        public long takenAt(final int i)
        {
            return readBuffer.getLong(offset + HEADER_LENGTH + i * FIGURE_LENGTH + 12, ORDER);
        }

        /** @param from the sending host. @param count figures that follow. @return this. */
        public LoadFigures header(final int from, final int count)
        {
            buffer.putInt(offset, from, ORDER);
            buffer.putInt(offset + 4, count, ORDER);
            return this;
        }

        /** @param i index. @param host the host. @param load its load. @param takenAt when. @return this. */
        public LoadFigures figure(final int i, final int host, final double load, final long takenAt)
        {
            final int at = offset + HEADER_LENGTH + i * FIGURE_LENGTH;
            buffer.putInt(at, host, ORDER);
            buffer.putDouble(at + 4, load, ORDER);
            buffer.putLong(at + 12, takenAt, ORDER);
            return this;
        }
    }

    /** OWNER_ANSWER: a registry's answer to an admit, move or reclaim. */
    public static final class OwnerAnswer extends Flyweight<OwnerAnswer>
    {
        /** Its length. */
        public static final int LENGTH = 40;

        /** @return what was asked (OwnerRegistry.ADMIT, MOVE or RECLAIM). */
        public int request()
        {
            return readBuffer.getInt(offset, ORDER);
        }

        /** @return whether it was applied. */
        public boolean applied()
        {
            return readBuffer.getInt(offset + 4, ORDER) != 0;
        }

        /** @return the VM. */
        public long vmId()
        {
            return readBuffer.getLong(offset + 8, ORDER);
        }

        /** @return the migration asked about (0 for an admission). */
        public long migrationId()
        {
            return readBuffer.getLong(offset + 16, ORDER);
        }

        /** @return the VM's owner after the request, -1 if none. */
        public int owner()
        {
            return readBuffer.getInt(offset + 24, ORDER);
        }

        /** @return the migration of the owner's last change (0: its admission). */
        public long ownerMigrationId()
        {
            return readBuffer.getLong(offset + 32, ORDER);
        }

        /**
         * @param request          what was asked.
         * @param applied          whether it was applied.
         * @param vmId             the VM.
         * @param migrationId      the migration asked about.
         * @param owner            the owner after it, -1 if none.
         * @param ownerMigrationId the migration of the owner's last change.
         * @return this.
         */
        public OwnerAnswer set(final int request, final boolean applied, final long vmId, final long migrationId,
            final int owner, final long ownerMigrationId)
        {
            buffer.putLong(offset + 32, ownerMigrationId, ORDER);
            buffer.putInt(offset, request, ORDER);
            buffer.putInt(offset + 4, applied ? 1 : 0, ORDER);
            buffer.putLong(offset + 8, vmId, ORDER);
            buffer.putLong(offset + 16, migrationId, ORDER);
            buffer.putInt(offset + 24, owner, ORDER);
            buffer.putInt(offset + 28, 0, ORDER);
            return this;
        }
    }
}

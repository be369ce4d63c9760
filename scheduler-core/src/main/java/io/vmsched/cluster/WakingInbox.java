package io.vmsched.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * A host's inbox as the other threads see it (API callers, the owner registry's thread, peers in the same
 * JVM): each message written also wakes the host's agent, so a message that arrives while the agent is
 * parked by its idle strategy (up to 1 ms with the default backoff) is read at once rather than when the
 * park ends. Reads are the agent's and go to the ring itself.
 * <p>
 * A wake of an agent that is not parked costs a permit, which only makes its next idle return at once: one
 * more duty cycle, never a lost or reordered message.
 * <p>
 * Threadsafe, as the ring it wraps: any thread may write.
 */
final class WakingInbox implements RingBuffer
{
    private final RingBuffer ring;
    private final Runnable wake;

    /**
     * @param ring the agent's inbox.
     * @param wake wakes the agent (does nothing on the agent's own thread, or before it started).
     */
    WakingInbox(final RingBuffer ring, final Runnable wake)
    {
        this.ring = ring;
        this.wake = wake;
    }

    @Override
    public boolean write(final int msgTypeId, final DirectBuffer srcBuffer, final int offset, final int length)
    {
        final boolean written = ring.write(msgTypeId, srcBuffer, offset, length);
        if (written)
        {
            wake.run();
        }
        return written;
    }

    @Override
    public int tryClaim(final int msgTypeId, final int length)
    {
        return ring.tryClaim(msgTypeId, length);
    }

    @Override
    public void commit(final int index)
    {
        ring.commit(index);
        wake.run();
    }

    @Override
    public void abort(final int index)
    {
        ring.abort(index);
    }

    @Override
    public int capacity()
    {
        return ring.capacity();
    }

    @Override
    public int read(final MessageHandler handler)
    {
        return ring.read(handler);
    }

    @Override
    public int read(final MessageHandler handler, final int messageCountLimit)
    {
        return ring.read(handler, messageCountLimit);
    }

    @Override
    public int controlledRead(final ControlledMessageHandler handler)
    {
        return ring.controlledRead(handler);
    }

    @Override
    public int controlledRead(final ControlledMessageHandler handler, final int messageCountLimit)
    {
        return ring.controlledRead(handler, messageCountLimit);
    }

    @Override
    public int maxMsgLength()
    {
        return ring.maxMsgLength();
    }

    @Override
    public long nextCorrelationId()
    {
        return ring.nextCorrelationId();
    }

    @Override
    public AtomicBuffer buffer()
    {
        return ring.buffer();
    }

    @Override
    public void consumerHeartbeatTime(final long time)
    {
        ring.consumerHeartbeatTime(time);
    }

    @Override
    public long consumerHeartbeatTime()
    {
        return ring.consumerHeartbeatTime();
    }

    @Override
    public long producerPosition()
    {
        return ring.producerPosition();
    }

    @Override
    public long consumerPosition()
    {
        return ring.consumerPosition();
    }

    @Override
    public int size()
    {
        return ring.size();
    }

    @Override
    public boolean unblock()
    {
        return ring.unblock();
    }
}

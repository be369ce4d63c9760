package io.vmsched.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Joins the hosts of one JVM: sending writes straight into the target's inbox ring. Allocates
 * nothing per message.
 * <p>
 * Threadsafe.
 */
public final class InJvmTransport implements Transport
{
    private final AtomicReferenceArray<RingBuffer> inboxes;

    /**
     * @param maxHosts the highest host id + 1.
     */
    public InJvmTransport(final int maxHosts)
    {
        inboxes = new AtomicReferenceArray<>(maxHosts);
    }

    @Override
    public void attach(final int hostId, final RingBuffer inbox)
    {
        inboxes.set(hostId, inbox);
    }

    @Override
    public void detach(final int hostId)
    {
        inboxes.set(hostId, null);
    }

    @Override
    public boolean send(final int toHost, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        if (toHost < 0 || toHost >= inboxes.length())
        {
            return false;
        }
        final RingBuffer inbox = inboxes.get(toHost);
        return inbox != null && length <= inbox.maxMsgLength() && inbox.write(type, buffer, offset, length);
    }

    @Override
    public void close()
    {
        for (int i = 0; i < inboxes.length(); i++)
        {
            inboxes.set(i, null);
        }
    }
}

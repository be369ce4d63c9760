package io.vmsched.cluster;

import io.vmsched.handoff.HostMessages;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Transport} decorator that applies the {@link Faults} of one host to the handoff messages it
 * sends (tests): at {@link Faults.Point#SOURCE_SEND_TRANSFER} and {@link Faults.Point#TARGET_SEND_ACK}
 * a message may be dropped, held back for twice the handoff timeout, or its send may throw. A dropped
 * or held message counts as sent, as on a network that lost or delayed it.
 * <p>
 * <b>Note:</b> Not threadsafe: one per host, used by its agent, which calls {@link #sendDue} each duty
 * cycle.
 */
final class FaultInjectingTransport implements Transport
{
    /** A message held back by a DELAY fault. */
    private record Held(long dueNs, int toHost, int type, byte[] bytes)
    {
    }

    private final Transport delegate;
    private final Faults faults;
    private final int hostId;
    private final long delayNs;
    private final List<Held> held = new ArrayList<>();

    FaultInjectingTransport(final Transport delegate, final Faults faults, final int hostId, final long delayNs)
    {
        this.delegate = delegate;
        this.faults = faults;
        this.hostId = hostId;
        this.delayNs = delayNs;
    }

    @Override
    public void attach(final int host, final RingBuffer inbox)
    {
        delegate.attach(host, inbox);
    }

    @Override
    public void detach(final int host)
    {
        delegate.detach(host);
    }

    @Override
    public int poll()
    {
        return delegate.poll();
    }

    @Override
    public int peerIncarnation(final int host)
    {
        return delegate.peerIncarnation(host);
    }

    @Override
    public boolean send(final int toHost, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        final Faults.Point point = type == HostMessages.TRANSFER ? Faults.Point.SOURCE_SEND_TRANSFER :
            type == HostMessages.ACK ? Faults.Point.TARGET_SEND_ACK : null;
        if (point != null && faults != Faults.NONE)
        {
            final long migrationId = buffer.getLong(offset, HostMessages.ORDER); // first field of both
            final Faults.Action action = faults.at(point, hostId, migrationId);
            if (action == Faults.Action.THROW)
            {
                throw new Faults.InjectedFault(point);
            }
            if (action == Faults.Action.DROP)
            {
                return true;
            }
            if (action == Faults.Action.DELAY)
            {
                final byte[] copy = new byte[length];
                buffer.getBytes(offset, copy);
                held.add(new Held(System.nanoTime() + delayNs, toHost, type, copy));
                return true;
            }
        }
        return delegate.send(toHost, type, buffer, offset, length);
    }

    /** @return messages whose delay ran out and were sent now. */
    int sendDue(final long nowNs)
    {
        int sent = 0;
        for (int i = held.size() - 1; i >= 0; i--)
        {
            final Held h = held.get(i);
            if (nowNs - h.dueNs >= 0)
            {
                delegate.send(h.toHost, h.type, new UnsafeBuffer(h.bytes), 0, h.bytes.length);
                held.remove(i);
                sent++;
            }
        }
        return sent;
    }

    @Override
    public void close()
    {
        // the delegate is shared by every host: its owner closes it
    }
}

package io.vmsched.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;

/**
 * Sends a host's messages to other hosts without ever dropping one for want of room: a message that
 * meets a full inbox (or is queued behind one to the same host that did) is copied and sent again, in
 * order per destination, from a later duty cycle. Used for requests passed on to a VM's new owner and for the target's answers.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class Forwarder
{
    /** A message waiting for room. */
    private record Pending(int toHost, int type, byte[] bytes)
    {
    }

    private final int hostId;
    private final Transport transport;
    // one queue per destination: order matters per destination, and a full host must not hold up the others
    private final ArrayDeque<Pending>[] queues;
    private int queued;
    // a node's peers are other processes, reached over a network that may lose anything: only the
    // handoff's answers and the balancing messages go through here there, and their senders ask again
    private final boolean bestEffort;
    long dropped;

    @SuppressWarnings("unchecked")
    Forwarder(final int hostId, final int hosts, final Transport transport)
    {
        this(hostId, hosts, transport, false);
    }

    /**
     * @param bestEffort a node's: a message the transport does not take now is dropped, not kept (its
     *                   sender's own timeout asks again).
     */
    Forwarder(final int hostId, final int hosts, final Transport transport, final boolean bestEffort)
    {
        this.bestEffort = bestEffort;
        this.hostId = hostId;
        this.transport = transport;
        this.queues = new ArrayDeque[hosts];
    }

    /** Send now, or keep a copy and send it later, after what is already queued for that host. */
    void send(final int to, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        final ArrayDeque<Pending> queue = to >= 0 && to < queues.length ? queues[to] : null;
        if ((queue == null || queue.isEmpty()) && transport.send(to, type, buffer, offset, length))
        {
            return;
        }
        if (to < 0 || to >= queues.length || bestEffort)
        {
            dropped++;
            return; // no such host, or a node's peer not reachable now: the protocol's timeouts cover it
        }
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        if (queues[to] == null)
        {
            queues[to] = new ArrayDeque<>();
        }
        queues[to].add(new Pending(to, type, copy));
        queued++;
    }

    /** @return messages sent from the queues (each stops at the first that still finds no room). */
    int retry()
    {
        int sent = 0;
        for (final ArrayDeque<Pending> queue : queues)
        {
            while (queue != null && !queue.isEmpty())
            {
                final Pending p = queue.peekFirst();
                if (!transport.send(p.toHost, p.type, new UnsafeBuffer(p.bytes), 0, p.bytes.length))
                {
                    break; // still full: keep the order, try again next duty cycle
                }
                queue.pollFirst();
                queued--;
                sent++;
            }
        }
        return sent;
    }

    boolean isEmpty()
    {
        return queued == 0;
    }

    /** At close: every request still queued is reported failed; answers are left to the handoff's timeouts. */
    void failQueuedRequests(final Requests requests)
    {
        for (final ArrayDeque<Pending> queue : queues)
        {
            if (queue == null)
            {
                continue;
            }
            for (final Pending p : queue)
            {
                final Request request = Request.of(p.type);
                if (request != null)
                {
                    requests.failed(request, new UnsafeBuffer(p.bytes), 0,
                        "host " + hostId + " closed before it could pass it on to host " + p.toHost);
                }
            }
            queue.clear();
        }
        queued = 0;
    }
}

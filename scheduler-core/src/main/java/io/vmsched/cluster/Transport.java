package io.vmsched.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * Carries messages between hosts (the SPI; {@link InJvmTransport} joins the hosts of one JVM, a
 * network transport can replace it, one per host: {@link ClusterConfig#transports}). A message lands
 * in the target host's inbox, the {@link RingBuffer} its agent reads.
 * <p>
 * Threadsafe: any thread may send; {@link #poll} is the attached host's agent's.
 */
public interface Transport extends AutoCloseable
{
    /**
     * Make a host reachable.
     *
     * @param hostId the host.
     * @param inbox  the ring its agent reads.
     */
    void attach(int hostId, RingBuffer inbox);

    /**
     * Forget a host: messages to it are dropped from now on (it stopped or crashed).
     *
     * @param hostId the host.
     */
    void detach(int hostId);

    /**
     * Send a message.
     *
     * @param toHost  the target host.
     * @param type    the message type (positive).
     * @param buffer  the message bytes.
     * @param offset  where they start.
     * @param length  how many.
     * @return true if it was queued for the host; false if the host is unknown or its inbox is full
     *         (the protocol's timeouts cover a lost message).
     */
    boolean send(int toHost, int type, DirectBuffer buffer, int offset, int length);

    /**
     * Deliver what the network brought into the attached inbox. A host's agent calls it once each duty
     * cycle, on its own thread; a transport that writes straight into the target's inbox at
     * {@link #send} (as {@link InJvmTransport} does) has nothing to do here.
     *
     * @return work done (messages or fragments read), 0 when idle.
     */
    default int poll()
    {
        return 0;
    }

    /**
     * What this transport knows of a peer's current run: a number that changes when the peer restarts. A message
     * sent under an earlier one may have been refused as meant for the peer's previous run, so a protocol that waits
     * for an answer may send again as soon as it changes rather than at its timeout.
     * <p>
     * Threading: any thread.
     *
     * @param host the peer.
     * @return its run as last learned; 0 if not known yet, or if this transport cannot tell (the default).
     */
    default int peerIncarnation(final int host)
    {
        return 0;
    }

    @Override
    void close();
}

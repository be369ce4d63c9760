package io.vmsched.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * Carries messages between hosts (the SPI; {@link InJvmTransport} joins the hosts of one JVM, a
 * network transport can replace it). A message lands in the target host's inbox, the
 * {@link RingBuffer} its agent reads.
 * <p>
 * Threadsafe: any thread may send.
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

    @Override
    void close();
}

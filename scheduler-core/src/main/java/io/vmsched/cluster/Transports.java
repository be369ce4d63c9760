package io.vmsched.cluster;

import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * The transports of an embedded cluster's hosts: one {@link InJvmTransport} shared by all (the
 * default), or each host its own, made by {@link ClusterConfig#transports}.
 * <p>
 * Threadsafe: the per-host slots are set before the host starts and read after.
 */
final class Transports implements AutoCloseable
{
    private final Transport shared;
    private final java.util.function.IntFunction<Transport> factory;
    private final Transport[] own;

    Transports(final ClusterConfig config)
    {
        this.factory = config.transports;
        this.shared = factory == null ? new InJvmTransport(config.capacity()) : null;
        this.own = new Transport[config.capacity()];
    }

    /**
     * @param host a host.
     * @return its transport, made on first use with a factory.
     */
    synchronized Transport of(final int host)
    {
        if (shared != null)
        {
            return shared;
        }
        if (own[host] == null)
        {
            final Transport made = factory.apply(host);
            if (made == null)
            {
                throw new IllegalArgumentException("ClusterConfig.transports made no transport for host " + host);
            }
            own[host] = made;
        }
        return own[host];
    }

    void attach(final int host, final RingBuffer inbox)
    {
        of(host).attach(host, inbox);
    }

    void detach(final int host)
    {
        of(host).detach(host);
    }

    @Override
    public synchronized void close()
    {
        if (shared != null)
        {
            shared.close();
            return;
        }
        for (int h = 0; h < own.length; h++)
        {
            if (own[h] != null)
            {
                own[h].close();
                own[h] = null;
            }
        }
    }
}

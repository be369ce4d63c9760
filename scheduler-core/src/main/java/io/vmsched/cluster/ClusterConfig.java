package io.vmsched.cluster;

import java.nio.file.Path;

/**
 * What {@link Cluster#start(ClusterConfig)} builds: how many hosts, where they journal, their settings,
 * how guests are recreated, who hears about events, and (tests only) which faults to inject.
 * <p>
 * <b>Note:</b> Not threadsafe while being set.
 */
public final class ClusterConfig
{
    /** Number of hosts (ids 0 .. hosts - 1) at the start; a restart after {@link Cluster#addHost} names them all. */
    public int hosts = 4;
    /**
     * Most hosts the cluster may grow to by {@link Cluster#addHost} (0: {@link #hosts}, no growth).
     * Room for them is made at the start (an inbox slot and a few counters each).
     */
    public int maxHosts = 0;
    /** Data directory: host {@code h} journals to {@code <dataDir>/journal/<h>/}. */
    public Path dataDir;
    /** Settings every host shares, unless {@link #configureHost} gave it its own. */
    public HostConfig host = new HostConfig();
    private final java.util.Map<Integer, HostConfig> ownConfigs = new java.util.TreeMap<>();
    /** Makes guests for VMs that arrive or are recovered. */
    public GuestRegistry guests = GuestRegistry.withDefaults();
    /** Told of admissions, migrations, aborts, removals and errors. */
    public ClusterListener listener = new ClusterListener()
    {
    };
    /** Fault injection (tests). */
    public Faults faults = Faults.NONE;
    /**
     * Each host's own transport, made when the host is (at the start, or by {@link Cluster#addHost}),
     * attached to that host alone and closed with the cluster: a network transport, each host its own
     * endpoint (the Aeron transport of module {@code cluster-aeron}). Null (the default): one
     * {@link InJvmTransport} joins every host.
     */
    public java.util.function.IntFunction<Transport> transports;

    /**
     * @param hosts   number of hosts.
     * @param dataDir where the journals go.
     * @return a config with the defaults otherwise.
     */
    public static ClusterConfig of(final int hosts, final Path dataDir)
    {
        final ClusterConfig config = new ClusterConfig();
        config.hosts = hosts;
        config.dataDir = dataDir;
        return config;
    }

    /**
     * Give one host its own settings (a heterogeneous cluster: more workers, faster cores, more I/O or
     * memory; seed VM claims 8, 20, 31). Its peers compute a VM's load on it from its capacity.
     *
     * @param hostId the host.
     * @param config its settings.
     * @return this.
     */
    public ClusterConfig configureHost(final int hostId, final HostConfig config)
    {
        ownConfigs.put(hostId, java.util.Objects.requireNonNull(config, "config"));
        return this;
    }

    /**
     * @param hostId a host.
     * @return its settings: its own if {@link #configureHost} gave it some, else {@link #host}.
     */
    public HostConfig hostConfig(final int hostId)
    {
        return ownConfigs.getOrDefault(hostId, host);
    }

    /**
     * @param hostId a host.
     * @return its journal directory.
     */
    public Path journalDir(final int hostId)
    {
        return dataDir.resolve("journal").resolve(Integer.toString(hostId));
    }

    /** @return the most hosts this cluster may have: {@link #maxHosts}, or {@link #hosts} when that is 0. */
    public int capacity()
    {
        return Math.max(hosts, maxHosts);
    }

    void validate()
    {
        if (hosts < 1 || hosts > 1 << 20)
        {
            throw new IllegalArgumentException("hosts must be in [1, 1048576], got " + hosts);
        }
        if (maxHosts != 0 && (maxHosts < hosts || maxHosts > 1 << 20))
        {
            throw new IllegalArgumentException("maxHosts must be 0 or in [hosts, 1048576], got " + maxHosts + " with " +
                hosts + " hosts");
        }
        if (dataDir == null)
        {
            throw new IllegalArgumentException("a cluster needs a data directory for its journals");
        }
        host.validate();
        for (final java.util.Map.Entry<Integer, HostConfig> own : ownConfigs.entrySet())
        {
            if (own.getKey() < 0 || own.getKey() >= capacity())
            {
                throw new IllegalArgumentException("settings given to host " + own.getKey() + ", but the hosts are 0.." +
                    (capacity() - 1));
            }
            try
            {
                own.getValue().validate();
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("host " + own.getKey() + ": " + ex.getMessage(), ex);
            }
        }
    }
}

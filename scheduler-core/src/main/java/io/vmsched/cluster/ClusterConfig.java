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
     * -1 (the default): every host runs in this JVM (the embedded cluster). Otherwise this JVM is one
     * node of a cluster across machines and runs only this host: the others are peers, reached by its
     * {@link #transports} and known by the loads they gossip ({@link io.vmsched.balance.BalanceConfig.PeerView#GOSSIP}
     * is required), made known by {@link Cluster#peer}; {@link #owners} is then required too. Its data
     * directory holds only its own journal.
     */
    public int localHost = -1;
    /**
     * The registry of VM owners that makes a cluster across machines safe (required with {@link #localHost});
     * closed with the cluster. Null: the commit point of a migration is the target's journal.
     */
    public OwnerRegistry owners;
    /**
     * Where the services and rules live when this is one node of a cluster across machines (its registry);
     * null (the default): in the placement journal of the data directory.
     */
    public PlacementAuthority placementAuthority;
    /** How often the service watch computes the services' status (and reports what changed). */
    public long watchPeriodNs = 200_000_000L;
    /** A service member migrating longer than this makes its service degraded. */
    public long migratingBoundNs = 10_000_000_000L;

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

    /** @return whether host {@code h} runs in this JVM (every host, unless this is a node: {@link #localHost}). */
    boolean runsHere(final int h)
    {
        return localHost < 0 || h == localHost;
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
        if (watchPeriodNs <= 0 || migratingBoundNs <= 0)
        {
            throw new IllegalArgumentException("the watch period and the migrating bound must be positive");
        }
        if (localHost < -1 || localHost >= capacity())
        {
            throw new IllegalArgumentException("localHost must be -1 or a host id in [0, " + capacity() + "), got " + localHost);
        }
        if (localHost >= 0 && owners == null)
        {
            throw new IllegalArgumentException("a node (localHost " + localHost + ") needs an owner registry (ClusterConfig.owners)");
        }
        if (localHost >= 0 && transports == null)
        {
            throw new IllegalArgumentException("a node (localHost " + localHost + ") needs a network transport (ClusterConfig.transports)");
        }
        if (localHost >= 0 && hostConfig(localHost).balance.view != io.vmsched.balance.BalanceConfig.PeerView.GOSSIP)
        {
            throw new IllegalArgumentException("a node (localHost " + localHost + ") learns its peers' loads by gossip: its " +
                "balance view must be GOSSIP, got " + hostConfig(localHost).balance.view);
        }
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

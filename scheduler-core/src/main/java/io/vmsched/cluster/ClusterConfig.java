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
    /** Number of hosts (ids 0 .. hosts - 1). */
    public int hosts = 4;
    /** Data directory: host {@code h} journals to {@code <dataDir>/journal/<h>/}. */
    public Path dataDir;
    /** Settings every host shares. */
    public HostConfig host = new HostConfig();
    /** Makes guests for VMs that arrive or are recovered. */
    public GuestRegistry guests = GuestRegistry.withDefaults();
    /** Told of admissions, migrations, aborts, removals and errors. */
    public ClusterListener listener = new ClusterListener()
    {
    };
    /** Fault injection (tests). */
    public Faults faults = Faults.NONE;

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
     * @param hostId a host.
     * @return its journal directory.
     */
    public Path journalDir(final int hostId)
    {
        return dataDir.resolve("journal").resolve(Integer.toString(hostId));
    }

    void validate()
    {
        if (hosts < 1 || hosts > 1 << 20)
        {
            throw new IllegalArgumentException("hosts must be in [1, 1048576], got " + hosts);
        }
        if (dataDir == null)
        {
            throw new IllegalArgumentException("a cluster needs a data directory for its journals");
        }
        host.validate();
    }
}

package io.vmsched.balance;

/**
 * What one host knows when it runs an {@link Exchange}: its own load and VMs, and the loads of the
 * peers it may contact. The runtime's host agent and the simulator both implement it, so the one
 * exchange decides the same way in each.
 * <p>
 * Clocks are in the implementer's unit (nanoseconds in the runtime, steps in the simulator); the
 * exchange compares them with its period in that unit. Candidates are indexed 0 .. {@link #vmCount()}
 * - 1 and the index is only good for the exchange that reads it.
 * <p>
 * <b>Note:</b> Read by the host's own thread only; an implementation need not be threadsafe.
 */
public interface HostView
{
    /** {@link #arrivedAt(int)} of a VM placed here by admission or by the initial placement: residency never holds it. */
    long NEVER = Long.MIN_VALUE / 4;

    /** @return this host's id, 0 .. {@link #hosts()} - 1. */
    int hostId();

    /** @return hosts in the cluster (peers are the other ids). */
    int hosts();

    /**
     * @return this host's load, as it last measured it (a fraction of its capacity), its VMs migrating away included
     *         (the exchange takes them off itself, {@link #movingTo}).
     */
    double load();

    /**
     * @param host a peer.
     * @return that peer's load as this host learns it when it contacts the peer; NaN if it is down.
     */
    double peerLoad(int host);

    /**
     * @param host a peer.
     * @return the heaviest host that peer has heard of ({@link Exchange#heavyHost()}), learned with its
     *         load; -1 if none (the default: a view that carries no such hint).
     */
    default int peerHeavyHost(final int host)
    {
        return -1;
    }

    /**
     * @param host a peer.
     * @return the load of {@link #peerHeavyHost(int)} as that peer heard it.
     */
    default double peerHeavyLoad(final int host)
    {
        return Double.NaN;
    }

    /**
     * @param host a peer.
     * @return when that figure was taken, on this view's clock (its age is now minus this).
     */
    default long peerHeavyAt(final int host)
    {
        return 0;
    }

    /** @return migrations this host has in flight as the source. */
    int inFlight();

    /** @return VMs on this host, migrating or not. */
    int vmCount();

    /**
     * @param vm a candidate index.
     * @return its VM id.
     */
    long vmId(int vm);

    /**
     * @param vm a candidate index.
     * @return its load here.
     */
    double vmLoad(int vm);

    /**
     * @param vm   a candidate index.
     * @param host a peer.
     * @return its load on that peer, computed from its load factors and the peer's capacity.
     */
    double vmLoadOn(int vm, int host);

    /**
     * @param vm a candidate index.
     * @return its load's volatility (the mean step-to-step change), 0 where it is not measured.
     */
    double volatility(int vm);

    /**
     * @param vm a candidate index.
     * @return the host it is migrating to now, or -1 when it is not migrating. Until the migration ends the exchange
     *         counts its load on that host, not on this one: a slow (live) migration keeps the VM running here for
     *         seconds, and counted here it would be shed a second time.
     */
    int movingTo(int vm);

    /**
     * @param vm a candidate index.
     * @return whether it may never move (an external VM no driver can move).
     */
    boolean pinned(int vm);

    /**
     * @param vm a candidate index.
     * @return when it arrived here by migration, in this view's clock; {@link #NEVER} if it was admitted here.
     */
    long arrivedAt(int vm);

    /**
     * @param vm a candidate index.
     * @return the host it last arrived from, -1 if it was admitted here.
     */
    int cameFrom(int vm);
}

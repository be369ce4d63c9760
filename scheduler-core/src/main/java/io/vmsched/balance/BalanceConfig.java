package io.vmsched.balance;

/**
 * Settings of the random-peer balancer, shared by the runtime and the simulator.
 * <p>
 * Fractions are of the cluster's mean host load as the host estimates it, so the same settings
 * fit a lightly and a heavily loaded cluster. <b>Note:</b> Not threadsafe while being set; treat a
 * configured instance as immutable.
 */
public final class BalanceConfig implements Cloneable
{
    /** Most peers a host contacts in one exchange (each contact one message pair) in the {@link PeerView#CONTACTS} view. */
    public static final int MAX_CONTACTS = 8;

    /** What a host knows of its peers' loads when it picks the peer of an exchange. */
    public enum PeerView
    {
        /**
         * What a host can know: the loads of the peers it contacts in this exchange (at most
         * {@link #MAX_CONTACTS}), fresh as they answer. The default, in the runtime and the simulator.
         */
        CONTACTS,
        /**
         * Every host's exact load at the moment of the exchange, so the peer is the least loaded host of
         * the cluster. No host of a real cluster has that figure: a labelled comparison only.
         */
        GLOBAL,
        /**
         * What a host can know, with gossip: periods alternate. In a quiet period nobody moves; each host
         * sets its own load in its {@link LoadTable} and merges tables with its contacts (push-pull). In
         * an active period a host ranks itself in its table (every figure at least one period old, each
         * with its time) and, if it is in the heavy half, takes as its first contact the host at the
         * same rank from the light end; the other contacts are random, and every contact's load is fresh
         * as it answers, as in {@link #CONTACTS}.
         */
        GOSSIP;

        /**
         * @param text {@code contacts}, {@code gossip} or {@code global}.
         * @return the view.
         * @throws IllegalArgumentException naming the text if it is neither.
         */
        public static PeerView parse(final String text)
        {
            switch (text)
            {
                case "contacts": return CONTACTS;
                case "gossip": return GOSSIP;
                case "global": return GLOBAL;
                default: throw new IllegalArgumentException("unknown view '" + text + "': expected contacts, gossip or global");
            }
        }
    }

    /** Exchange only when own load exceeds the peer's by more than this fraction of the mean. */
    public double thresholdFraction = 0.10;
    /** A move must lower the pair's difference by at least this fraction of the mean. */
    public double minGainFraction = 0.02;
    /** Moves one exchange may make (0 = no limit): "at least a first VM", then the remaining difference. */
    public int maxMovesPerExchange = 4;
    /** Migrations a host may have in flight at once (0 = no limit). */
    public int maxConcurrentPerHost = 0;
    /** Steps (or periods) a VM must stay on a host before it may move again. */
    public int minResidency = 0;
    /** Steps during which a VM may not go back to the host it just left. */
    public int pingPongGuard = 8;
    /**
     * Random peers contacted per exchange; the least loaded is paired (1 = the plain random peer). At
     * most {@link #MAX_CONTACTS} in the contacts and gossip views; ignored in the global view.
     */
    public int peerChoices = 1;
    /** What a host knows of its peers' loads (default: only its contacts'). */
    public PeerView view = PeerView.CONTACTS;
    /** Shed only while own load is above the estimated cluster mean. */
    public boolean shedOnlyAboveMean = false;
    /** With {@link #shedOnlyAboveMean}: shed only while own load exceeds the mean by this fraction of it. */
    public double sourceExcessFraction = 0.0;
    /** Aim at no more than what takes the source down to, or the peer up to, the estimated mean. */
    public boolean capAtMean = false;
    /** Penalty per unit of a VM's load volatility when choosing among candidates (0 = plain nearest half). */
    public double stabilityWeight = 0.0;
    /**
     * When in each balance period a host takes its turn: false, at a random moment; true, earlier the
     * more loaded it is (at {@code 1 / (1 + load / mean)} of the period), so within a period the most
     * loaded hosts exchange first and take the least loaded peers before hosts nearer the mean do.
     */
    public boolean loadOrderedTurns = false;
    /**
     * How far above the estimated mean a move may leave the peer, in thresholds: a peer left more than
     * a threshold above the mean must shed in turn, so a pile-up's VMs would cascade from host to
     * host. Infinite (the default): no ceiling.
     */
    public double peerCeilingFraction = Double.POSITIVE_INFINITY;
    /**
     * Shed to every contacted peer the exchange finds worth it, the least loaded first (each as its
     * own pair, on the source's load after the moves before), instead of only to the least loaded:
     * a host far above the mean fills several light peers in one turn.
     */
    public boolean scatter = false;
    /**
     * Light hosts pull from heavy ones: a host at least a threshold below the mean that has heard of a
     * host at least this many thresholds above it (the heaviest host its contacts told of, a figure
     * at least one period old) contacts that host as one of its peers and, if it is still heavy, asks
     * it to shed to it. 0 = never. What empties a pile-up on one host within a few periods: every
     * light host pulls from it at once, where pushing from it alone fills its few contacts per turn.
     */
    public double pullFactor = 0.0;
    /** Most load a peer may carry after a move (a capacity bound; fraction of its capacity). */
    public double peerLoadCap = Double.POSITIVE_INFINITY;
    /**
     * How the threshold and the minimum gain follow the cluster's size: both are multiplied by
     * {@code (hosts / referenceHosts) ^ sizeExponent} (0 = they stay as set). One migration lowers a
     * large cluster's CV less than a small one's, so a larger cluster should ask more of each move
     * and a smaller one less.
     */
    public double sizeExponent = 0.0;
    /** The cluster size at which the threshold and the minimum gain apply as set. */
    public int referenceHosts = 100;
    /** Record decisions with their reasons instead of moving. */
    public boolean dryRun = false;

    /**
     * Check the settings.
     *
     * @return this.
     * @throws IllegalArgumentException naming the first bad setting.
     */
    public BalanceConfig validate()
    {
        check(thresholdFraction >= 0 && Double.isFinite(thresholdFraction), "threshold", thresholdFraction);
        check(minGainFraction >= 0 && Double.isFinite(minGainFraction), "min gain", minGainFraction);
        check(maxMovesPerExchange >= 0, "exchange limit", maxMovesPerExchange);
        check(maxConcurrentPerHost >= 0, "concurrent migrations per host", maxConcurrentPerHost);
        check(minResidency >= 0, "min residency", minResidency);
        check(pingPongGuard >= 0, "ping-pong guard", pingPongGuard);
        check(peerChoices >= 1, "peer choices", peerChoices);
        if (view == null)
        {
            throw new IllegalArgumentException("balancer view missing: expected contacts, gossip or global");
        }
        if (view != PeerView.GLOBAL && peerChoices > MAX_CONTACTS)
        {
            throw new IllegalArgumentException("balancer peer choices out of range: " + peerChoices + " (a host contacts at most " +
                MAX_CONTACTS + " peers per exchange; the global view, a comparison only, has no such bound)");
        }
        check(sourceExcessFraction >= 0 && Double.isFinite(sourceExcessFraction), "source excess", sourceExcessFraction);
        check(stabilityWeight >= 0 && Double.isFinite(stabilityWeight), "stability weight", stabilityWeight);
        check(peerLoadCap > 0, "peer load cap", peerLoadCap);
        check(peerCeilingFraction >= 0, "peer ceiling", peerCeilingFraction);
        check(pullFactor >= 0 && Double.isFinite(pullFactor), "pull factor", pullFactor);
        check(sizeExponent >= 0 && sizeExponent <= 2, "size exponent", sizeExponent);
        check(referenceHosts >= 1, "reference hosts", referenceHosts);
        return this;
    }

    /**
     * The move limit for one exchange of a source with {@code inFlight} migrations under way, as
     * {@link VmSelector#select} takes it.
     *
     * @param inFlight migrations the source has in flight.
     * @return {@link #maxMovesPerExchange} capped by the room {@link #maxConcurrentPerHost} leaves
     *         (0 = no limit), or -1 when there is no room.
     */
    public int movesAllowed(final int inFlight)
    {
        if (maxConcurrentPerHost == 0)
        {
            return maxMovesPerExchange;
        }
        final int room = maxConcurrentPerHost - inFlight;
        return room <= 0 ? -1 : (maxMovesPerExchange == 0 ? room : Math.min(maxMovesPerExchange, room));
    }

    /**
     * What the threshold and the minimum gain are multiplied by in a cluster of {@code hosts}.
     *
     * @param hosts hosts in the cluster, at least 1.
     * @return {@code (hosts / referenceHosts) ^ sizeExponent}; 1 when {@link #sizeExponent} is 0.
     */
    public double sizeScale(final int hosts)
    {
        return sizeExponent == 0.0 ? 1.0 : Math.pow(Math.max(1, hosts) / (double)referenceHosts, sizeExponent);
    }

    /**
     * These settings as they apply to a cluster of {@code hosts}: the threshold and the minimum gain
     * scaled by {@link #sizeScale(int)}, the size exponent then 0. Called when the cluster's size is
     * known or changes, never per exchange.
     *
     * @param hosts hosts in the cluster, at least 1.
     * @return a new instance; this one is unchanged.
     */
    public BalanceConfig forHosts(final int hosts)
    {
        final double scale = sizeScale(hosts);
        final BalanceConfig copy = copy();
        copy.thresholdFraction = thresholdFraction * scale;
        copy.minGainFraction = minGainFraction * scale;
        copy.sizeExponent = 0.0;
        return copy;
    }

    /**
     * @return a new instance with the same settings.
     */
    public BalanceConfig copy()
    {
        try
        {
            return (BalanceConfig)super.clone(); // every setting is a primitive: a shallow copy is whole
        }
        catch (final CloneNotSupportedException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static void check(final boolean ok, final String what, final double value)
    {
        if (!ok)
        {
            throw new IllegalArgumentException("balancer " + what + " out of range: " + value);
        }
    }

    @Override
    public String toString()
    {
        return "threshold=" + thresholdFraction + " minGain=" + minGainFraction + " exchangeLimit=" +
            maxMovesPerExchange + " concurrent=" + maxConcurrentPerHost + " residency=" + minResidency +
            " pingPong=" + pingPongGuard + (view == PeerView.GLOBAL ? " view=global" : " view=" + view.name().toLowerCase() + " peerChoices=" + peerChoices) + " aboveMean=" + shedOnlyAboveMean + " excess=" + sourceExcessFraction + " capAtMean=" + capAtMean +
            " stability=" + stabilityWeight + (peerCeilingFraction != Double.POSITIVE_INFINITY ? " peerCeiling=" + peerCeilingFraction : "") +
            (scatter ? " scatter" : "") + (pullFactor > 0 ? " pull=" + pullFactor : "") + (loadOrderedTurns ? " loadOrderedTurns" : "") + (sizeExponent != 0.0 ? " sizeExponent=" + sizeExponent + " referenceHosts=" +
            referenceHosts : "") + (dryRun ? " dry-run" : "");
    }
}

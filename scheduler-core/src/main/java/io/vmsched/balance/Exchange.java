package io.vmsched.balance;

import java.util.Arrays;

/**
 * One host's balance exchange, the same in the runtime and the simulator (seed VM claims 1-8, 14-20,
 * 23-31): pick a random peer ({@link PeerSelector}), share the mean estimate with it
 * ({@link MeanEstimate}), and if the pair's difference is worth it ({@link VmSelector#worthExchanging}),
 * gather the candidates with their guards (migrating, pinned, residency, ping-pong, the placement
 * rule) and hand the peer the VM nearest half the difference ({@link VmSelector#select}).
 * <p>
 * The host is read through a {@link HostView} and acts through {@link Actions}; one instance per host
 * holds that host's random stream (seeded by {@link #seedFor}), its mean estimate and its scratch, so
 * an exchange past its gate allocates nothing unless it records its decision.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's own thread.
 */
public final class Exchange
{
    /** What an exchange does to its host. */
    public interface Actions
    {
        /**
         * Send the peer this host's mean estimate, for the peer to average with ({@link MeanEstimate#receive})
         * and answer the change this host's estimate takes ({@link MeanEstimate#adjust}).
         *
         * @param peer     the peer.
         * @param estimate the figure.
         * @return that change if the peer answered at once (the simulator), NaN if the answer comes later.
         */
        double shareMean(int peer, double estimate);

        /**
         * Start migrating a VM to the peer.
         *
         * @param vmId     the VM.
         * @param vm       its candidate index in the view (good until this call returns).
         * @param peer     the peer.
         * @param onSource its load here.
         * @param onPeer   its load on the peer.
         */
        void migrate(long vmId, int vm, int peer, double onSource, double onPeer);

        /**
         * Ask a heavy host to shed to this one ({@link BalanceConfig#pullFactor}): it runs
         * {@link Exchange#pulled} on its own thread, with this host as the peer. The exchange reads its
         * view no more after this call.
         *
         * @param heavy    the heavy host.
         * @param ownLoad  this host's load, for the heavy host to pair with.
         */
        default void pull(final int heavy, final double ownLoad)
        {
        }

        /**
         * Push-pull gossip with a contact in a quiet period ({@link BalanceConfig.PeerView#GOSSIP}): send
         * it this host's table; the contact sets its own figure ({@link Exchange#ownFigure}), merges, and
         * answers with its table, which this host merges ({@link LoadTable#put} for each figure).
         *
         * @param peer  the contact.
         * @param table this host's table.
         */
        default void gossip(final int peer, final LoadTable table)
        {
        }

        /**
         * A decision was recorded (every one past the gate when the exchange records all, else dry runs only).
         *
         * @param decision the decision with its reasons.
         * @param moves    VMs it moves (or would, in a dry run).
         * @param firstVm  the first VM chosen, -1 if none.
         */
        void decided(BalanceDecision decision, int moves, long firstVm);
    }

    private final BalanceConfig config;
    private final long period;
    private final long turnPeriod;
    private final boolean recordAll;
    private final PeerSelector peers;
    private final int[] contactIds;
    // the heaviest host heard of: from contacts (fresh then) and the hints they pass on, with its time
    private int heavyHost = -1;
    private double heavyLoad = Double.NaN;
    private long heavyAt;
    /** Periods after which a hint of a heavy host is forgotten unless heard again. */
    static final int HINT_PERIODS = 16;
    private final double[] contactLoads;
    private final MeanEstimate mean = new MeanEstimate();
    private final LoadTable table = new LoadTable();

    private final Candidates candidates = new Candidates();
    private PlacementRule rule = PlacementRule.NONE;
    private long exchanges;

    /**
     * @param config    the settings as they apply to this cluster's size ({@link BalanceConfig#forHosts}).
     * @param period    the balance period in the view's clock unit (residency and ping-pong count in periods).
     * @param seed      this host's seed ({@link #seedFor}).
     * @param recordAll record every decision past the gate (the runtime journals them), not only dry runs.
     */
    public Exchange(final BalanceConfig config, final long period, final long seed, final boolean recordAll)
    {
        this(config, period, period, seed, recordAll);
    }

    /**
     * @param config     the settings as they apply to this cluster's size ({@link BalanceConfig#forHosts}).
     * @param period     the unit residency, ping-pong and hints count in, in the view's clock unit.
     * @param turnPeriod the balance period (one turn per host) in that unit, when it differs (the
     *                   simulator's guards count in trace steps of several periods): the gossip view's
     *                   quiet and active periods alternate on it, and its table keeps figures for
     *                   {@link #HINT_PERIODS} of them.
     * @param seed       this host's seed ({@link #seedFor}).
     * @param recordAll  record every decision past the gate (the runtime journals them), not only dry runs.
     */
    public Exchange(final BalanceConfig config, final long period, final long turnPeriod, final long seed,
        final boolean recordAll)
    {
        if (period <= 0 || turnPeriod <= 0)
        {
            throw new IllegalArgumentException("balance period must be positive, got " + Math.min(period, turnPeriod));
        }
        this.config = config;
        this.period = period;
        this.turnPeriod = turnPeriod;
        this.recordAll = recordAll;
        this.peers = new PeerSelector(seed);
        this.contactIds = new int[Math.max(1, config.peerChoices)];
        this.contactLoads = new double[Math.max(1, config.peerChoices)];
    }

    /**
     * The seed of host {@code hostId}'s random stream in a cluster seeded {@code seed}: the same in the
     * runtime and the simulator, so a seed means the same peers in each.
     *
     * @param seed   the cluster's seed.
     * @param hostId the host.
     * @return the host's seed.
     */
    public static long seedFor(final long seed, final int hostId)
    {
        return seed * 1_000_003L + hostId;
    }

    /**
     * @param rule the placement rule candidates must pass, and whose closed hosts are no peers (default: none).
     * @return this.
     */
    public Exchange rule(final PlacementRule rule)
    {
        this.rule = rule;
        peers.closed(rule::closed); // a closed host is no peer: chosen, it would refuse every move
        return this;
    }

    /** @return this host's mean estimate (average it with a peer's figure when one arrives). */
    public MeanEstimate mean()
    {
        return mean;
    }

    /** @return this host's table of the cluster's loads ({@link BalanceConfig.PeerView#GOSSIP}). */
    public LoadTable table()
    {
        return table;
    }

    /**
     * Put this host's own figure in its table, stamped with the start of the balance period {@code now}
     * is in: done at its quiet-period turn and when a contact's gossip arrives before it, so the figure a
     * contact carries away is this period's.
     *
     * @param self this host.
     * @param load its load now.
     * @param now  the view's clock.
     */
    public void ownFigure(final int self, final double load, final long now)
    {
        table.put(self, load, Math.floorDiv(now, turnPeriod) * turnPeriod);
    }

    /**
     * @param now the view's clock.
     * @return whether the period {@code now} is in is a quiet one in the gossip view (nobody moves; the
     *         periods of the agents' shared clock alternate quiet, active, starting quiet).
     */
    public boolean quiet(final long now)
    {
        return config.view == BalanceConfig.PeerView.GOSSIP && (Math.floorDiv(now, turnPeriod) & 1) == 0;
    }

    /** @return the heaviest host this host has heard of (what it tells contacts), -1 if none. */
    public int heavyHost()
    {
        return heavyHost;
    }

    /** @return that host's load when the figure was taken. */
    public double heavyLoad()
    {
        return heavyLoad;
    }

    /** @return when that figure was taken, on the view's clock. */
    public long heavyAt()
    {
        return heavyAt;
    }

    /** @return exchanges run (a peer was up to contact). */
    public long exchanges()
    {
        return exchanges;
    }

    /**
     * When, within a balance period, this host takes its turn ({@link BalanceConfig#loadOrderedTurns}):
     * at a random moment drawn from this host's stream, or, with load-ordered turns, at
     * {@code 1 / (1 + load / mean)} of the period (its mean estimate's), the most loaded first, ties
     * broken at random. The runtime and the simulator both schedule their turns by it: each host
     * exchanges once a period, at the start of the period plus this fraction of it.
     *
     * @param load this host's load now.
     * @return the fraction of the period, in [0, 1).
     */
    public double turnPhase(final double load)
    {
        final double random = peers.random().nextDouble();
        if (!config.loadOrderedTurns)
        {
            return random;
        }
        final double estimate = mean.estimate();
        final double relative = estimate > 0 ? Math.max(0.0, load) / estimate : 0.0;
        return (1.0 - 1e-6) / (1.0 + relative) + 1e-6 * random * (1.0 - 1e-6);
    }

    /**
     * Run one exchange: contact the peers ({@link BalanceConfig#peerChoices}, or the least loaded host
     * of all in the global view), share the mean estimate with the least loaded, and shed to it; with
     * {@link BalanceConfig#scatter}, then to the next contacts in the order of their loads, each on the
     * source's load after the moves before, until one is not worth it.
     *
     * @param view    the host.
     * @param now     the view's clock.
     * @param actions what the exchange does.
     * @return VMs chosen to move (0 in a dry run, which only records), or -1 if no peer was up.
     */
    public int run(final HostView view, final long now, final Actions actions)
    {
        final int hosts = view.hosts();
        if (hosts < 2)
        {
            return -1;
        }
        final double load = view.load();
        if (quiet(now))
        {
            return gossip(view, load, now, actions);
        }
        final boolean pulling = pullDue(view, load, now);
        final int contacts = contact(view, pulling ? config.peerChoices - 1 : config.peerChoices, now);
        if (contacts == 0)
        {
            return -1; // a host that is down is never chosen, and gets no share
        }
        exchanges++;
        mean.observe(load);
        final double answer = actions.shareMean(contactIds[0], mean.estimate());
        if (!Double.isNaN(answer))
        {
            mean.adjust(answer);
        }
        final double estimate = Math.max(mean.estimate(), 1e-12);
        if (config.pullFactor > 0)
        {
            hear(view, contacts, now);
            if (pulling)
            {
                final double heavy = view.peerLoad(heavyHost); // the contact that replaced a random one
                if (!Double.isNaN(heavy) && VmSelector.worthExchanging(config, heavy, load, estimate))
                {
                    actions.pull(heavyHost, load);
                    return 0;
                }
                heavyHost = -1; // no longer heavy, or down: forget it
            }
        }

        final int pairs = config.scatter && !config.dryRun ? contacts : 1;
        double source = load - leaving(view);
        int total = 0;
        for (int j = 0; j < pairs; j++)
        {
            final int moves = shed(view, now, actions, source, contactIds[j], contactLoads[j], estimate);
            if (moves <= 0)
            {
                break; // the contacts are sorted: the next ones differ from the source less
            }
            total += moves;
            for (int i = 0; i < moves; i++)
            {
                source -= candidates.onSource[candidates.chosen[i]];
            }
        }
        return total;
    }

    /**
     * A quiet period's turn: set the own figure and merge tables with the contacts; nothing else (the
     * mean estimate is shared in active periods only: sharing it in quiet ones as well was measured to
     * cost 10-15 % more migrations on the PlanetLab days at about the same meanCv, docs/balancing.md).
     */
    private int gossip(final HostView view, final double load, final long now, final Actions actions)
    {
        ownFigure(view.hostId(), load, now);
        table.ensure(view.hosts());
        final int contacts = peers.contacts(view, config.peerChoices, -1, contactIds, contactLoads);
        if (contacts == 0)
        {
            return -1;
        }
        exchanges++;
        for (int j = 0; j < contacts; j++)
        {
            actions.gossip(contactIds[j], table);
        }
        return 0;
    }

    /**
     * A heavy host asked by {@code puller} (its load {@code pullerLoad} when it asked) to shed to it:
     * run on this, the heavy host's, thread, the same pair as a push to that peer.
     *
     * @param view       this host.
     * @param now        the view's clock.
     * @param actions    what the exchange does.
     * @param puller     the light host.
     * @param pullerLoad its load.
     * @return VMs chosen to move.
     */
    public int pulled(final HostView view, final long now, final Actions actions, final int puller, final double pullerLoad)
    {
        final double load = view.load();
        mean.observe(load);
        return shed(view, now, actions, load - leaving(view), puller, pullerLoad, Math.max(mean.estimate(), 1e-12));
    }

    /**
     * The load of this host's VMs migrating away. Invariant: an exchange counts a VM in flight on its target, not
     * on its source, from the migration's start to its end, as if it had moved at once; a live migration keeps the
     * VM running (and measured) on its source for seconds, and counted there it would be shed again, overshooting.
     */
    private static double leaving(final HostView view)
    {
        double leaving = 0;
        for (int i = 0, n = view.vmCount(); i < n; i++)
        {
            if (view.movingTo(i) >= 0)
            {
                leaving += view.vmLoad(i);
            }
        }
        return leaving;
    }

    /**
     * Whether this turn pulls: this host a threshold or more below its mean estimate, and it heard, at
     * least a period ago and at most {@link #HINT_PERIODS} ago, of a host that many thresholds above.
     */
    private boolean pullDue(final HostView view, final double load, final long now)
    {
        if (config.pullFactor <= 0 || heavyHost < 0 || config.view == BalanceConfig.PeerView.GLOBAL)
        {
            return false;
        }
        final long age = now - heavyAt;
        if (age > HINT_PERIODS * period)
        {
            heavyHost = -1;
            return false;
        }
        final double estimate = mean.estimate();
        final double threshold = config.thresholdFraction * estimate;
        return age >= period && load < estimate - threshold && heavyLoad > estimate + config.pullFactor * threshold &&
            config.peerChoices > 1;
    }

    /** Keep the heaviest figure among the contacts (fresh) and the hints they pass on. */
    private void hear(final HostView view, final int contacts, final long now)
    {
        final int self = view.hostId();
        for (int j = 0; j < contacts; j++)
        {
            final int peer = contactIds[j];
            consider(self, peer, contactLoads[j], now, now);
            consider(self, view.peerHeavyHost(peer), view.peerHeavyLoad(peer), view.peerHeavyAt(peer), now);
        }
    }

    private void consider(final int self, final int host, final double load, final long at, final long now)
    {
        if (host < 0 || host == self || Double.isNaN(load) || now - at > HINT_PERIODS * period)
        {
            return;
        }
        if (heavyHost < 0 || now - heavyAt > HINT_PERIODS * period || load > heavyLoad ||
            (host == heavyHost && at > heavyAt))
        {
            heavyHost = host;
            heavyLoad = load;
            heavyAt = at;
        }
    }

    /** The contacts of this exchange into contactIds / contactLoads, least loaded first; how many. */
    private int contact(final HostView view, final int choices, final long now)
    {
        if (config.view == BalanceConfig.PeerView.GLOBAL)
        {
            final int peer = peers.pickGlobalLeast(view);
            if (peer < 0)
            {
                return 0;
            }
            contactIds[0] = peer;
            contactLoads[0] = view.peerLoad(peer);
            return 1;
        }
        if (choices == 1 && config.view == BalanceConfig.PeerView.CONTACTS)
        {
            final int peer = peers.pick(view.hostId(), view.hosts());
            final double peerLoad = view.peerLoad(peer);
            contactIds[0] = peer;
            contactLoads[0] = peerLoad;
            return Double.isNaN(peerLoad) || rule.closed(peer) ? 0 : 1;
        }
        int aim = -1;
        if (config.view == BalanceConfig.PeerView.GOSSIP)
        {
            table.ensure(view.hosts());
            aim = table.match(view.hostId(), now - HINT_PERIODS * turnPeriod); // figures from the quiet periods, each a period old or more
        }
        return peers.contacts(view, choices, aim, contactIds, contactLoads);
    }

    /**
     * One pair: the source (its load now {@code load}, without what migrates away) sheds to {@code peer} (its load
     * {@code peerLoad} as last known; what this host migrates to it is added here); moves made, 0 if none.
     */
    private int shed(final HostView view, final long now, final Actions actions, final double load, final int peer,
        final double knownPeerLoad, final double estimate)
    {
        double peerLoad = knownPeerLoad;
        final boolean dryRun = config.dryRun;
        final int limit = config.movesAllowed(view.inFlight());
        if (!dryRun && (limit < 0 || !VmSelector.worthExchanging(config, load, peerLoad, estimate)))
        {
            return 0; // nothing to decide: no record either, or an idle cluster would fill its journals
        }
        final int count = view.vmCount();
        final Candidates c = candidates.ensure(count);
        final long[] ids = c.ids;
        final double[] onSource = c.onSource;
        final double[] onPeer = c.onPeer;
        final double[] volatility = c.volatility;
        final Rejection[] blocked = c.blocked;
        final int[] chosen = c.chosen;
        final long residency = config.minResidency * period;
        final long pingPong = config.pingPongGuard * period;
        final boolean record = dryRun || recordAll;
        // a decision record names every candidate's reason, so it checks every rule up front; otherwise the
        // selection checks them on its choices only (VmSelector.Check), as they cost more than the rest of the
        // exchange: the same moves, a fraction of the checks
        final boolean eagerRules = record;
        final boolean lazyRules = !eagerRules && rule != PlacementRule.NONE;
        double arriving = 0; // what this host migrates to the peer now: counted on it (see leaving)
        for (int i = 0; i < count; i++)
        {
            ids[i] = view.vmId(i);
            onSource[i] = view.vmLoad(i);
            onPeer[i] = view.vmLoadOn(i, peer);
            volatility[i] = view.volatility(i);
            final int to = view.movingTo(i);
            if (to == peer)
            {
                arriving += onPeer[i];
            }
            if (to >= 0)
            {
                c.rules[i] = null;
                blocked[i] = Rejection.MIGRATING;
            }
            else
            {
                blocked[i] = guard(view, i, peer, now, residency, pingPong, c.rules, eagerRules);
            }
        }
        if (arriving > 0)
        {
            peerLoad += arriving;
            if (!dryRun && !VmSelector.worthExchanging(config, load, peerLoad, estimate))
            {
                return 0;
            }
        }
        final BalanceDecision decision = record ?
            new BalanceDecision(view.hostId(), peer, load, peerLoad, config.thresholdFraction * estimate, estimate) : null;
        final double[] stable = config.stabilityWeight == 0.0 ? null : volatility;
        final int moves;
        if (lazyRules)
        {
            Arrays.fill(c.cleared, 0, count, false);
            checkView = view;
            checkPeer = peer;
            moves = VmSelector.select(config, load, peerLoad, estimate, count, ids, onSource, onPeer, stable, blocked,
                limit, chosen, null, check, c.scores);
            checkView = null;
        }
        else
        {
            moves = VmSelector.select(config, load, peerLoad, estimate, count, ids, onSource, onPeer, stable, blocked,
                limit, chosen, decision);
        }
        if (record)
        {
            decision.nameRules(count, ids, c.rules);
            actions.decided(decision, moves, moves > 0 ? ids[chosen[0]] : -1);
        }
        if (dryRun)
        {
            return 0;
        }
        for (int i = 0; i < moves; i++)
        {
            final int vm = chosen[i];
            actions.migrate(ids[vm], vm, peer, onSource[vm], onPeer[vm]);
        }
        return moves;
    }

    // the selection's check of a candidate (the rules, when not checked up front), on this exchange's view and peer
    private final VmSelector.Check check = new VmSelector.Check() // made once: an exchange allocates nothing
    {
        @Override
        public boolean refused(final int candidate)
        {
            return refusedNow(candidate);
        }

        @Override
        public void firstRefusal(final Rejection[] blocked, final int count)
        {
            rule.screen(checkView, checkPeer, count, blocked, null); // nothing is recorded: no names
        }
    };
    private HostView checkView;
    private int checkPeer;

    /**
     * Whether the rule refuses candidate {@code vm}; each is checked once an exchange at most. Not named: only a
     * recorded decision names its rules, and it checks them all up front.
     */
    private boolean refusedNow(final int vm)
    {
        final Candidates c = candidates;
        if (c.cleared[vm])
        {
            return false;
        }
        if (rule.refuses(checkView, vm, checkPeer) != null)
        {
            return true;
        }
        c.cleared[vm] = true;
        return false;
    }

    private Rejection guard(final HostView view, final int vm, final int peer, final long now, final long residency,
        final long pingPong, final String[] rules, final boolean checkRules)
    {
        rules[vm] = null;
        if (view.pinned(vm))
        {
            return Rejection.PINNED;
        }
        final long arrived = view.arrivedAt(vm);
        if (arrived != HostView.NEVER)
        {
            final long stayed = now - arrived;
            if (stayed < residency)
            {
                return Rejection.RESIDENCY;
            }
            if (stayed < pingPong && view.cameFrom(vm) == peer)
            {
                return Rejection.PING_PONG;
            }
        }
        final String refused = checkRules ? rule.refuses(view, vm, peer) : null;
        if (refused != null)
        {
            rules[vm] = refused;
            return Rejection.RULE;
        }
        return Rejection.NONE;
    }
}

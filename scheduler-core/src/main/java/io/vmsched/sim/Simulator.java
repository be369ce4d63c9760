package io.vmsched.sim;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balloon.BalloonPolicy;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Exchange;
import io.vmsched.balance.LoadTable;
import io.vmsched.load.ClusterStats;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.placement.Admission;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.ExchangeGuard;
import io.vmsched.placement.Placement;
import io.vmsched.placement.Repair;
import io.vmsched.placement.RulesText;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntConsumer;

/**
 * A deterministic discrete-time simulator of a cluster balanced by the runtime's own exchange
 * ({@link Exchange}, one per host with the runtime's per-host random stream, over the
 * {@link SimulatedHosts} view). Each step: every VM takes its usage for the step, its observed
 * (smoothed, by the runtime's {@link io.vmsched.load.VmLoad}) usage is updated, then
 * {@code roundsPerStep} rounds run in which every host performs one exchange; at the end of the step
 * the coefficient of variation of the hosts' actual loads is recorded.
 * <p>
 * Each host estimates the cluster's mean load by the exchange's averaging gossip
 * ({@link io.vmsched.balance.MeanEstimate}), both sides of a pair averaging at once; the threshold
 * and minimum gain are fractions of that estimate.
 * <p>
 * Placement rules ({@link Config#constraints}) run through the runtime's own code: the initial
 * placement puts a VM whose rules break where {@code --initial} says where {@link Admission} chooses,
 * each exchange checks its candidates with {@link ExchangeGuard} over the simulated placement, each
 * host runs the {@link Repair} turn before its exchange, and a migration that takes steps is checked
 * again by its target as it arrives. Greedy's moves pass the same check, after every host's repair turn.
 * <p>
 * A host drained ({@link Config#drains}) is closed in the same placement ({@link Placement#drain}): the
 * exchange's guard, repair, greedy and the arrival check refuse it as a target, and its turn, instead
 * of repair and exchange, is the runtime's drain turn ({@link Repair#evacuate}, at most
 * {@link Config#drainParallel} in flight). From a drain's start, a step's CV is that of the hosts in service.
 * <p>
 * <b>Note:</b> Not threadsafe: one simulation per instance, run once.
 */
public final class Simulator
{
    /** Which balancing policy runs. */
    public enum Policy
    {
        /** Static placement: no migrations. */
        NONE,
        /** The claims: each host exchanges with a random peer and sheds the VM nearest half the difference. */
        RANDOM_PAIR,
        /**
         * The prior art's all-pairs comparison: each step the most loaded host sends the least loaded the
         * VM that best lowers the imbalance, repeated while that helps.
         */
        GREEDY;

        /**
         * @param text {@code none}, {@code random-pair} or {@code greedy}.
         * @return the policy.
         */
        public static Policy parse(final String text)
        {
            switch (text)
            {
                case "none": return NONE;
                case "random-pair": return RANDOM_PAIR;
                case "greedy": return GREEDY;
                default: throw new IllegalArgumentException("unknown policy '" + text +
                    "': expected random-pair, greedy or none");
            }
        }

        @Override
        public String toString()
        {
            return name().toLowerCase().replace('_', '-');
        }
    }

    /** Coefficient of variation at or below which the cluster counts as balanced. */
    public static final double CONVERGED_CV = 0.05;

    /** Settings of a run. */
    public static final class Config
    {
        /** Policy. */
        public Policy policy = Policy.RANDOM_PAIR;
        /** Number of hosts at the start, at least 2 for a balancing policy. */
        public int hosts;
        /**
         * Empty hosts added during the run (scale-out, or the new machines of a replacement): each
         * entry {count, step}, the hosts joining as that step starts. The threshold's size scaling
         * stays that of {@link #hosts}.
         */
        public int[][] addHosts = {};
        /** Steps to run; 0 = the workload's length, or until converged (up to {@link #maxSteps}) if static. */
        public int steps;
        /** Cap on steps when running until converged. */
        public int maxSteps = 200;
        /** Exchanges per step of a host at the base balance period (its period is 1 / this of a step). */
        public int roundsPerStep = 1;
        /** Steps a migration takes (0 = instant). */
        public int migrationSteps = 0;
        /** Samples the observed (smoothed) usage spans (1 = no smoothing). */
        public double smoothingWindow = 1;
        /** Seed of every random choice. */
        public long seed = 1;
        /** Relative speed and size of each host (cycled), 1 = the workload's reference host. */
        public double[] hostScales = { 1.0 };
        /** Balancer settings (random-pair; greedy uses only the guards that make sense for it). */
        public BalanceConfig balance = new BalanceConfig();
        /** How many dry-run decisions to keep. */
        public int keepDecisions = 20;
        /**
         * Services and placement rules ({@link RulesText} form, its {@code label} statements included;
         * VM ids are the workload's, 0 .. VMs - 1), null for none. In force, they bind the initial
         * placement ({@link Admission}), every exchange ({@link ExchangeGuard}) and a repair turn each host
         * runs before its exchange ({@link Repair}), as in the runtime.
         */
        public RulesText.Statements constraints;
        /** Each host's labels, index = host id (hosts past the list carry none; label statements add to them). */
        public List<Set<String>> hostLabels = List.of();
        /**
         * The step the rules come into force at, as a rule added to a live cluster: 0 (the default) for
         * from the start, the initial placement included; later, the placement before it ignores them
         * and the repair turns mend what they find broken.
         */
        public int rulesFromStep;
        /**
         * Hosts drained during the run: each entry {host, step}, the drain starting as that step starts
         * (step 1 or later, within the run; a host drained once). From then on the host takes no VM and
         * its turns move its VMs away, each to where the placement chooses ({@link Repair#evacuate}).
         */
        public int[][] drains = {};
        /** A draining host's VMs in flight away at most (the runtime's {@code HostConfig.drainParallel}). */
        public int drainParallel = Repair.DRAIN_PARALLEL;
        /**
         * The balloon (issue 19), or null for none: each host's turn first runs this policy on its memory
         * (the runtime's {@link BalloonPolicy}, the same code) and, while it
         * {@linkplain BalloonPolicy#holdsMigrations holds migrations}, the host sheds nothing by migration.
         */
        public BalloonPolicy balloon;
        /**
         * With {@link #balloon}: the share of a simulated guest's memory demand it can free (its cache), in
         * [0, 1]. A modelling assumption: the traces do not say what a guest could free. A guest asked for
         * memory gives down to a floor of its demand x (1 - this), and no further.
         */
        public double balloonReclaimable = 0.3;

        /**
         * The plain settings of the claims: one round per step, one random peer, threshold 10 % and
         * minimum gain 2 % of the mean, up to 4 moves per exchange ({@code --profile claims}: a
         * comparison; {@link #staticLoads()} are the defaults for static loads).
         *
         * @return a new config with these settings (hosts still to set).
         */
        public static Config claims()
        {
            return new Config();
        }

        /**
         * The defaults for static loads (synthetic runs): the claims' exchange, one round per step,
         * threshold 10 % and minimum gain 2 % of the mean, but each host contacts 8 peers, sheds to
         * every one worth it in the same turn ({@link BalanceConfig#scatter}) with no limit on moves,
         * never leaves a peer more than a threshold above the mean ({@link BalanceConfig#peerCeilingFraction}),
         * and light hosts pull from a host they heard is two thresholds above it
         * ({@link BalanceConfig#pullFactor}): a pile-up on one host empties in a few steps, each VM
         * moving about once.
         *
         * @return a new config with these settings (hosts still to set).
         */
        public static Config staticLoads()
        {
            final Config config = new Config();
            config.balance.peerChoices = BalanceConfig.MAX_CONTACTS;
            config.balance.scatter = true;
            config.balance.maxMovesPerExchange = 0;
            config.balance.peerCeilingFraction = 1.0;
            config.balance.pullFactor = 2.0;
            return config;
        }

        /**
         * The defaults for traces, where loads change every step and every move that chases noise is
         * a migration wasted: 16 balance periods per trace interval, in the gossip view
         * ({@link BalanceConfig.PeerView#GOSSIP}): quiet periods, in which each host merges its table of
         * loads with 8 random contacts, alternate with active ones, in which each host in the heavy half
         * of its table aims one of its 8 contacts at the host of its rank from the light end. The most
         * loaded hosts take their turn first; a host sheds only while it is above the gossiped mean, one
         * VM per exchange, to the least loaded contact, when the pair differs by more than 25 % of the
         * mean and the move gains at least 10 %. Chosen on the four shared PlanetLab days; it holds the
         * target against greedy on some, not all (docs/balancing.md has the table per day).
         *
         * @return a new config with these settings (hosts still to set).
         */
        public static Config traces()
        {
            final Config config = new Config();
            config.roundsPerStep = 16;
            config.balance.view = BalanceConfig.PeerView.GOSSIP;
            config.balance.peerChoices = BalanceConfig.MAX_CONTACTS;
            config.balance.loadOrderedTurns = true;
            config.balance.shedOnlyAboveMean = true;
            config.balance.sourceExcessFraction = 0.0;
            config.balance.thresholdFraction = 0.25;
            config.balance.minGainFraction = 0.10;
            config.balance.sizeExponent = 0.0;
            config.balance.maxMovesPerExchange = 1;
            return config;
        }
    }

    private final Config config;
    private final Workload workload;
    private final int[] initialHost;
    private final int hosts; // every host the run will have, those added later included
    private int active; // hosts [0, active) are in the cluster now
    private int addedFrom = -1; // first host of the last addition, while its fill is being timed
    private int periodsSinceAdded;
    private Integer addedFilledAfter;
    private final int vms;
    private final SimulatedHosts state;
    private final Exchange[] exchanges;
    private final Exchange.Actions actions = new SimActions();
    private final int[] migrationDoneAt;
    private final List<Integer> inMigration = new ArrayList<>();

    // one period's turns, in steps: a binary min-heap of host ids ordered by nextTurn
    private final double[] nextTurn;
    private final int[] turns;

    private int step;
    private long clock; // the exchanges' clock: balance periods since the start (roundsPerStep a step)
    private long migrations;
    private long greedyExchanges;
    private int pullFrom = -1; // a pull asked for in the exchange under way
    private double pullerLoad;
    private final List<BalanceDecision> decisions = new ArrayList<>();
    private long decisionsRecorded;

    // placement rules: compiled once; in force (the same, or none until rulesFromStep); drains close hosts in both
    private final BalanceConfig balance;
    private final Placement rules; // the run's rules and labels, and its drains; null if none of them
    private final Placement bare; // only the drains, before the rules come into force; null if not needed
    private boolean rulesOn;
    private Constraints compiled;
    private Constraints inForce = Constraints.NONE;
    private final DrainState[] drains;
    private final DrainState[] drainOf; // by host, null if never drained
    private boolean anyDrain; // a drain has started: CVs are of the hosts in service
    private final Constraints.Locator where;
    private final ExchangeGuard guard;
    private int admittedElsewhere;
    private long repairs;
    private long refusedOnArrival;
    private int initialHard = -1;
    private int initialSoft;
    private int maxHard;
    private int maxSoft;

    // the balloon (issue 19): null policy when off
    private final BalloonPolicy balloonPolicy;
    private final double reclaimable;
    private final double[] demand; // each VM's memory demand this step (the trace's figure), bytes
    private final double[] ballooned; // each VM's balloon target, bytes; -1 when it holds its demand (none, or deflated)
    private final double[] shortAt; // the demand a VM answered short at, -1 if it did not (or grew since)
    private final boolean[] holding; // each host's last turn held its migrations
    private long[] held = new long[16];
    private long[] natural = new long[16];
    private boolean[] askable = new boolean[16];
    private final int[] chosen = new int[1];
    private final EnumMap<BalloonResult.Outcome, Long> outcomes = new EnumMap<>(BalloonResult.Outcome.class);
    private long inflations;
    private long deflations;
    private long reclaimedTotal;
    private long returnedTotal;
    private long reclaimedPeak;
    private long heldTurns;
    private long belowFloorVmSteps;

    /**
     * @param config      the run's settings.
     * @param workload    the VMs' usage.
     * @param initialHost each VM's first host.
     */
    public Simulator(final Config config, final Workload workload, final int[] initialHost)
    {
        config.balance.validate();
        if (config.hosts < 1)
        {
            throw new IllegalArgumentException("--hosts must be at least 1, got " + config.hosts);
        }
        if (config.policy != Policy.NONE && config.hosts < 2)
        {
            throw new IllegalArgumentException("balancing needs at least 2 hosts, got " + config.hosts);
        }
        if (config.roundsPerStep < 1)
        {
            throw new IllegalArgumentException("--rounds-per-step must be at least 1, got " + config.roundsPerStep);
        }
        if (config.migrationSteps < 0 || config.steps < 0 || config.smoothingWindow < 1)
        {
            throw new IllegalArgumentException("migration steps and steps must be >= 0, smoothing window >= 1");
        }
        if (initialHost.length != workload.vms())
        {
            throw new IllegalArgumentException("placement has " + initialHost.length + " VMs, workload " + workload.vms());
        }
        this.config = config;
        this.workload = workload;
        this.initialHost = initialHost.clone();
        int total = config.hosts;
        for (final int[] add : config.addHosts)
        {
            if (add.length != 2 || add[0] < 1 || add[1] < 1)
            {
                throw new IllegalArgumentException("--add-hosts needs N >= 1 hosts at STEP >= 1, got " + Arrays.toString(add));
            }
            total += add[0];
        }
        this.hosts = total;
        this.active = config.hosts;
        this.vms = workload.vms();
        this.migrationDoneAt = new int[vms];
        this.nextTurn = new double[hosts];
        this.turns = new int[hosts];

        final HostCapacity reference = workload.hostCapacity();
        final HostCapacity[] capacities = new HostCapacity[hosts];
        for (int h = 0; h < hosts; h++)
        {
            final double scale = config.hostScales[h % config.hostScales.length];
            capacities[h] = new HostCapacity(reference.cores(), reference.coreSpeed() * scale,
                reference.ioBytesPerSecond() * scale, reference.memoryBytes() * scale);
        }
        this.state = new SimulatedHosts(new LoadModel(workload.weights()), capacities, vms, config.smoothingWindow);
        this.state.active(active);
        this.balance = config.balance.forHosts(config.hosts);
        this.exchanges = new Exchange[hosts];
        final Exchange[] byHost = exchanges;
        this.state.exchanges(byHost);
        final int vmCount = vms;
        final SimulatedHosts placed = state;
        this.where = vm -> vm >= 0 && vm < vmCount ? placed.hostOf((int)vm) : -1; // a migrating VM is its source's
        if (config.rulesFromStep < 0)
        {
            throw new IllegalArgumentException("--rules-from-step must be 0 or more, got " + config.rulesFromStep);
        }
        this.drains = drains(config, workload, hosts);
        this.drainOf = new DrainState[hosts];
        for (final DrainState drain : drains)
        {
            drainOf[drain.host] = drain;
        }
        this.rules = compile(config, hosts, vms, drains.length > 0);
        this.compiled = rules == null ? Constraints.NONE : rules.constraints();
        this.bare = drains.length > 0 && config.rulesFromStep > 0 ? open(hosts) : null;
        this.guard = new ExchangeGuard(this::rulesInForce, where, null); // the simulated hosts have no capacity limits
        for (int h = 0; h < hosts; h++)
        {
            // clock: balance periods; a guard of n steps is n x roundsPerStep of them
            exchanges[h] = new Exchange(balance, config.roundsPerStep, 1, Exchange.seedFor(config.seed, h), false);
            exchanges[h].rule(new ExchangeGuard(this::rulesInForce, where, null)); // a host's own, as in the runtime: its slots
        }
        rulesOn = config.rulesFromStep == 0;
        publish();
        this.balloonPolicy = config.balloon;
        if (!(config.balloonReclaimable >= 0 && config.balloonReclaimable <= 1))
        {
            throw new IllegalArgumentException("--balloon-reclaimable must be a number in [0, 1], got " +
                config.balloonReclaimable);
        }
        this.reclaimable = config.balloonReclaimable;
        this.demand = new double[vms];
        this.ballooned = new double[vms];
        this.shortAt = new double[vms];
        this.holding = new boolean[hosts];
        Arrays.fill(ballooned, -1);
        Arrays.fill(shortAt, -1);
        place(new LoadModel(workload.weights()), capacities);
    }

    /**
     * The run's drains, checked: each {host, step}, the host in the cluster by then, the step within the
     * run, no host twice, one host at least left in service.
     */
    private static DrainState[] drains(final Config config, final Workload workload, final int hosts)
    {
        if (config.drainParallel < 1)
        {
            throw new IllegalArgumentException("--drain-parallel must be at least 1, got " + config.drainParallel);
        }
        if (config.drains.length > 0 && config.balance.dryRun)
        {
            throw new IllegalArgumentException("--drain moves VMs: it cannot be combined with --dry-run");
        }
        final int runSteps = config.steps > 0 ? config.steps : workload.steps() == 1 ? config.maxSteps : workload.steps();
        final DrainState[] out = new DrainState[config.drains.length];
        final Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < out.length; i++)
        {
            final int[] drain = config.drains[i];
            if (drain.length != 2 || drain[1] < 1)
            {
                throw new IllegalArgumentException("--drain needs HOST@STEP with STEP >= 1, got " + Arrays.toString(drain));
            }
            final int host = drain[0];
            final int step = drain[1];
            final String named = "--drain " + host + "@" + step + ": ";
            if (host < 0 || host >= hosts)
            {
                throw new IllegalArgumentException(named + "there is no host " + host + " (the run has " + hosts +
                    " hosts, ids 0-" + (hosts - 1) + ")");
            }
            if (step >= runSteps)
            {
                throw new IllegalArgumentException(named + "step " + step + " is beyond the run's " + runSteps +
                    " steps (a drain starts at step 1 to " + (runSteps - 1) + ")");
            }
            final int joins = joinStep(config, host);
            if (joins > step)
            {
                throw new IllegalArgumentException(named + "host " + host + " joins only at step " + joins +
                    " (--add-hosts)");
            }
            if (!seen.add(host))
            {
                throw new IllegalArgumentException(named + "host " + host + " is drained twice: drain a host once");
            }
            out[i] = new DrainState(host, step);
        }
        if (out.length > 0 && out.length >= hosts)
        {
            throw new IllegalArgumentException("--drain drains all " + hosts + " hosts: at least one must stay in service");
        }
        return out;
    }

    /** The step a host joins the cluster at: 0 for those there from the start, else its --add-hosts step. */
    private static int joinStep(final Config config, final int host)
    {
        if (host < config.hosts)
        {
            return 0;
        }
        int first = config.hosts;
        for (final int[] add : config.addHosts)
        {
            first += add[0];
            if (host < first)
            {
                return add[1];
            }
        }
        return Integer.MAX_VALUE;
    }

    /** A placement with no rules and no labels over the run's hosts: where the drains close hosts before the rules. */
    private static Placement open(final int hosts)
    {
        final Placement placement = new Placement();
        final List<Set<String>> labels = new ArrayList<>(hosts);
        for (int h = 0; h < hosts; h++)
        {
            labels.add(Set.of());
        }
        placement.hostLabels(labels);
        return placement;
    }

    /** What is in force now: the rules (once they are) with the drains, or the drains alone. */
    private void publish()
    {
        compiled = rules == null ? Constraints.NONE : rules.constraints();
        inForce = rulesOn ? compiled : bare == null ? Constraints.NONE : bare.constraints();
    }

    /**
     * The placement of the run's constraints and labels (where its drains close hosts too); null if none
     * are given and nothing is drained.
     */
    private static Placement compile(final Config config, final int hosts, final int vms, final boolean drains)
    {
        final RulesText.Statements statements = config.constraints;
        if (statements == null && config.hostLabels.isEmpty())
        {
            return drains ? open(hosts) : null;
        }
        if (config.hostLabels.size() > hosts)
        {
            throw new IllegalArgumentException("labels are given for " + config.hostLabels.size() + " hosts; the run has " +
                hosts + " (ids 0-" + (hosts - 1) + ")");
        }
        final List<Set<String>> labels = new ArrayList<>(hosts);
        for (int h = 0; h < hosts; h++)
        {
            labels.add(new TreeSet<>(h < config.hostLabels.size() ? config.hostLabels.get(h) : Set.of()));
        }
        if (statements != null)
        {
            statements.hostLabels.forEach((label, ids) ->
            {
                for (final int id : ids)
                {
                    if (id >= hosts)
                    {
                        throw new IllegalArgumentException(statements.at("label " + label) + "label " + label +
                            " names host " + id + "; the run has " + hosts + " hosts (ids 0-" + (hosts - 1) + ")");
                    }
                    labels.get(id).add(label);
                }
            });
        }
        final Placement placement = new Placement();
        placement.hostLabels(labels);
        if (statements != null)
        {
            placement.wire(vm -> vm >= 0 && vm < vms, statement -> { });
            placement.apply(statements);
        }
        return placement;
    }

    /**
     * Place each VM where {@code --initial} put it, or, if its rules in force break there, where
     * admission in the runtime would ({@link Admission}: a host where no hard rule of it breaks, one
     * keeping its soft rules too if any, then the least loaded by the first step's usage of the VMs
     * placed so far), the VMs in id order.
     */
    private void place(final LoadModel model, final HostCapacity[] capacities)
    {
        if (inForce.ruleCount() == 0)
        {
            for (int v = 0; v < vms; v++)
            {
                state.place(v, initialHost[v]);
            }
            return;
        }
        final int starting = config.hosts;
        final double[] load = new double[starting];
        final int[] count = new int[starting];
        final Admission.Hosts view = new Admission.Hosts()
        {
            @Override
            public int hosts()
            {
                return starting;
            }

            @Override
            public String room(final int host)
            {
                return null; // the simulated hosts have no limits
            }

            @Override
            public double load(final int host)
            {
                return load[host];
            }

            @Override
            public int vms(final int host)
            {
                return count[host];
            }
        };
        final Admission admission = new Admission();
        for (int v = 0; v < vms; v++)
        {
            int host = initialHost[v];
            final int[] own = inForce.rulesOf(v);
            if (own.length > 0 && inForce.breaks(own, v, host, where, true, false) >= 0)
            {
                host = admission.choose(inForce, own, v, where, view);
                initialHost[v] = host;
                admittedElsewhere++;
            }
            state.place(v, host);
            if (host < starting)
            {
                load[host] += model.load(workload.cpu(v, 0), workload.io(v, 0), workload.memory(v, 0), capacities[host]);
                count[host]++;
            }
        }
    }

    private Constraints rulesInForce()
    {
        return inForce;
    }

    /**
     * @param vm a VM.
     * @return the host it runs on now (its source while it migrates).
     */
    public int hostOf(final int vm)
    {
        return state.hostOf(vm);
    }

    /** Count the rules broken now, once they are in force. */
    private void countBroken()
    {
        if (inForce.ruleCount() == 0)
        {
            return;
        }
        final int hard = inForce.brokenCount(where, true);
        final int soft = inForce.brokenCount(where, false);
        if (initialHard < 0)
        {
            initialHard = hard;
            initialSoft = soft;
        }
        maxHard = Math.max(maxHard, hard);
        maxSoft = Math.max(maxSoft, soft);
    }

    /**
     * Initial placement of {@code vms} VMs on {@code hosts} hosts.
     *
     * @param kind  {@code all-on-one}, {@code random} or {@code round-robin}.
     * @param vms   number of VMs.
     * @param hosts number of hosts.
     * @param seed  seed for {@code random}.
     * @return each VM's host.
     */
    public static int[] placement(final String kind, final int vms, final int hosts, final long seed)
    {
        final int[] placement = new int[vms];
        final SplittableRandom random = new SplittableRandom(seed * 31 + 7);
        for (int v = 0; v < vms; v++)
        {
            switch (kind)
            {
                case "all-on-one": placement[v] = 0; break;
                case "random": placement[v] = random.nextInt(hosts); break;
                case "round-robin": placement[v] = v % hosts; break;
                default: throw new IllegalArgumentException("unknown --initial '" + kind +
                    "': expected all-on-one, random or round-robin");
            }
        }
        return placement;
    }

    /**
     * Run the simulation.
     *
     * @param progress told each step's number as it ends (for a progress bar), or null.
     * @return the summary.
     */
    public SimulationResult run(final IntConsumer progress)
    {
        final long start = System.nanoTime();
        final boolean untilConverged = config.steps == 0 && workload.steps() == 1;
        final int steps = config.steps > 0 ? config.steps : (untilConverged ? config.maxSteps : workload.steps());
        final double[] cvs = new double[steps];
        final double[] actual = state.actualLoads();
        double initialCv = 0;
        double initialMaxOverMean = 0;
        long lowerBound = 0;
        int converged = -1;
        int ran = 0;

        for (step = 0; step < steps; step++)
        {
            clock = (long)step * config.roundsPerStep;
            addHosts();
            startDrains();
            sample();
            completeMigrations();
            state.recomputeLoads();
            if (step == config.rulesFromStep)
            {
                rulesOn = true; // as a rule added live: what it breaks now is counted, then repaired
                publish();
                countBroken();
            }
            if (step == 0)
            {
                initialCv = ClusterStats.cv(inCluster(actual));
                initialMaxOverMean = ClusterStats.maxOverMean(inCluster(actual));
                lowerBound = ClusterStats.lowerBound(inCluster(actual), CONVERGED_CV);
                // The hosts have gossiped before the run starts: every estimate begins at the true mean.
                final double[] observed = state.observedLoads();
                double total = 0;
                for (int h = 0; h < active; h++)
                {
                    total += observed[h];
                }
                for (int h = 0; h < active; h++)
                {
                    exchanges[h].mean().start(observed[h], total / active);
                }
            }
            balance();
            balloonStep();
            for (final DrainState drain : drains)
            {
                if (drain.step <= step && drain.emptyStep < 0 && state.count(drain.host) == 0)
                {
                    drain.emptyStep = step;
                }
            }
            cvs[step] = ClusterStats.cv(inCluster(actual));
            ran = step + 1;
            if (converged < 0 && cvs[step] <= CONVERGED_CV)
            {
                converged = step + 1;
            }
            if (progress != null)
            {
                progress.accept(step + 1);
            }
            // with hosts still to add (or filling), a converged run goes on until they are in and full
            if (untilConverged && converged > 0 && step >= lastAddStep() && (addedFrom < 0 || addedFilledAfter != null) &&
                drainsDone() && cvs[step] <= CONVERGED_CV)
            {
                break;
            }
        }

        long displaced = 0;
        for (int v = 0; v < vms; v++)
        {
            final int host = state.migratingTo(v) >= 0 ? state.migratingTo(v) : state.hostOf(v);
            if (host != initialHost[v])
            {
                displaced++;
            }
        }
        double meanCv = 0;
        for (int i = 0; i < ran; i++)
        {
            meanCv += cvs[i];
        }
        meanCv /= ran;
        long exchanged = greedyExchanges;
        for (final Exchange exchange : exchanges)
        {
            exchanged += exchange.exchanges();
        }
        SimulationResult.Rules ruleCounts = null;
        if (inForce.ruleCount() > 0)
        {
            ruleCounts = new SimulationResult.Rules(inForce.ruleCount(), inForce.hardRuleCount(), config.rulesFromStep,
                initialHard, initialSoft, inForce.brokenCount(where, true), inForce.brokenCount(where, false), maxHard,
                maxSoft, admittedElsewhere, repairs, refusedOnArrival);
        }
        final List<SimulationResult.Drain> drained = new ArrayList<>(drains.length);
        for (final DrainState drain : drains)
        {
            final int end = drain.emptyStep >= 0 ? drain.emptyStep + 1 : ran;
            drained.add(new SimulationResult.Drain(drain.host, drain.step, drain.emptyStep >= 0 ? drain.emptyStep : null,
                drain.vmsAtStart, state.count(drain.host), drain.migrations, mean(cvs, 0, drain.step),
                mean(cvs, drain.step, end), mean(cvs, drain.step, ran),
                drain.emptyStep >= 0 ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(drain.blocked))));
        }
        return new SimulationResult(active, vms, ran, config.policy.toString(), migrations, displaced, initialCv,
            cvs[ran - 1], meanCv, initialMaxOverMean, ClusterStats.maxOverMean(inCluster(actual)), converged < 0 ? null : converged,
            lowerBound, exchanged, (System.nanoTime() - start) / 1_000_000, Arrays.copyOf(cvs, ran),
            decisionsRecorded, List.copyOf(decisions), addedFrom < 0 ? null : active - addedFrom, addedFilledAfter,
            ruleCounts, List.copyOf(drained), balloonSummary());
    }

    /** The balloon's figures at the end of a run, or null if it was off. */
    private SimulationResult.Balloon balloonSummary()
    {
        if (balloonPolicy == null)
        {
            return null;
        }
        int over = 0;
        double maxShare = 0;
        for (int h = 0; h < active; h++)
        {
            double used = 0;
            for (int i = 0, n = state.count(h); i < n; i++)
            {
                used += state.memory(state.vmAt(h, i));
            }
            final double share = used / state.memoryCapacity(h);
            maxShare = Math.max(maxShare, share);
            if (share > balloonPolicy.inflateAbove())
            {
                over++;
            }
        }
        final java.util.Map<String, Long> byOutcome = new java.util.LinkedHashMap<>();
        outcomes.forEach((outcome, count) -> byOutcome.put(outcome.name(), count));
        long stillHeld = 0;
        for (int v = 0; v < vms; v++)
        {
            stillHeld += (long)Math.max(0, demand[v] - state.memory(v));
        }
        return new SimulationResult.Balloon(balloonPolicy.inflateAbove(), balloonPolicy.deflateBelow(), reclaimable,
            inflations, deflations, java.util.Collections.unmodifiableMap(byOutcome), reclaimedTotal, reclaimedPeak,
            stillHeld, returnedTotal, heldTurns, belowFloorVmSteps, over, maxShare);
    }

    private static double mean(final double[] values, final int from, final int to)
    {
        if (to <= from)
        {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = from; i < to; i++)
        {
            sum += values[i];
        }
        return sum / (to - from);
    }

    /**
     * The loads of the hosts in service now: in the cluster, and not drained (the array itself when every
     * host is).
     */
    private double[] inCluster(final double[] loads)
    {
        if (!anyDrain)
        {
            return active == hosts ? loads : Arrays.copyOf(loads, active);
        }
        final double[] open = new double[active];
        int n = 0;
        for (int h = 0; h < active; h++)
        {
            if (!inForce.closed(h))
            {
                open[n++] = loads[h];
            }
        }
        return Arrays.copyOf(open, n);
    }

    /** Drains due at this step start: the host is closed to every placement from now on. */
    private void startDrains()
    {
        for (final DrainState drain : drains)
        {
            if (drain.step == step)
            {
                rules.drain(drain.host);
                if (bare != null)
                {
                    bare.drain(drain.host);
                }
                publish();
                drain.vmsAtStart = state.count(drain.host);
                anyDrain = true;
            }
        }
    }

    /** @return whether every drain has started and emptied its host. */
    private boolean drainsDone()
    {
        for (final DrainState drain : drains)
        {
            if (drain.emptyStep < 0)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * A draining host's turn, the runtime's ({@code HostBalancer.evacuate}): up to
     * {@link Config#drainParallel} of its VMs in flight away, each to where {@link Repair#evacuate} chooses;
     * the VMs it can move nowhere now are kept, with why, until its next turn.
     */
    private void evacuate(final int h)
    {
        final DrainState drain = drainOf[h];
        final SimulatedHosts view = state.as(h);
        final int most = Repair.drainBudget(config.drainParallel, view.inFlight());
        if (most <= 0)
        {
            return;
        }
        drain.blocked.clear();
        drain.migrations += Repair.evacuate(inForce, view, where, null, most, actions, drain);
    }

    /** @param h a host. @return whether it is being drained now. */
    private boolean draining(final int h)
    {
        return anyDrain && inForce.closed(h);
    }

    /** One drain's progress. */
    private static final class DrainState implements Repair.Blocked
    {
        final int host;
        final int step;
        int vmsAtStart;
        int emptyStep = -1;
        long migrations;
        final Map<Long, String> blocked = new TreeMap<>();

        DrainState(final int host, final int step)
        {
            this.host = host;
            this.step = step;
        }

        @Override
        public void blocked(final long vmId, final String cause, final int host)
        {
            blocked.put(vmId, Repair.blockedText(cause, host));
        }
    }

    private int lastAddStep()
    {
        int last = 0;
        for (final int[] add : config.addHosts)
        {
            last = Math.max(last, add[1]);
        }
        return last;
    }

    /** Hosts due at this step join, empty; the fill of the last of them is timed from now, in periods. */
    private void addHosts()
    {
        for (final int[] add : config.addHosts)
        {
            if (add[1] == step)
            {
                addedFrom = active;
                active += add[0];
                periodsSinceAdded = 0;
                addedFilledAfter = null;
            }
        }
        state.active(active);
    }

    /** After a period: are the hosts added last within 10 % of the cluster's mean yet? */
    private void timeFill(final int periods)
    {
        if (addedFrom < 0 || addedFilledAfter != null)
        {
            return;
        }
        periodsSinceAdded += periods;
        final double[] loads = state.actualLoads();
        double total = 0;
        int open = 0;
        for (int h = 0; h < active; h++)
        {
            if (!draining(h))
            {
                total += loads[h];
                open++;
            }
        }
        final double mean = total / open;
        for (int h = addedFrom; h < active; h++)
        {
            if (!draining(h) && Math.abs(loads[h] - mean) > 0.10 * mean)
            {
                return;
            }
        }
        addedFilledAfter = periodsSinceAdded;
    }

    private void sample()
    {
        if (workload.steps() <= 1 && step > 0)
        {
            return; // static loads: measured once
        }
        for (int v = 0; v < vms; v++)
        {
            final double memory = workload.memory(v, step);
            demand[v] = memory;
            // a ballooned guest runs at its balloon's size: its demand above it is its own problem (it pages)
            state.measure(v, workload.cpu(v, step), workload.io(v, step),
                ballooned[v] >= 0 ? Math.min(memory, ballooned[v]) : memory);
        }
    }

    /**
     * Host {@code h}'s balloon turn (issue 19): the runtime's {@link BalloonPolicy} decides on the host's
     * memory, what its VMs hold now against what they would hold unasked (their demand); the guest asked
     * answers at once ({@link #answer}).
     *
     * @return whether the host holds its migrations this turn ({@link BalloonPolicy#holdsMigrations}, after
     * the answer): it is over the band and a guest can still be asked.
     */
    private boolean balloonTurn(final int h)
    {
        final int n = state.count(h);
        if (held.length < n)
        {
            held = new long[Math.max(n, held.length * 2)];
            natural = new long[held.length];
            askable = new boolean[held.length];
        }
        final double capacity = state.memoryCapacity(h);
        double used = 0;
        for (int i = 0; i < n; i++)
        {
            final int v = state.vmAt(h, i);
            held[i] = (long)state.memory(v);
            natural[i] = (long)demand[v];
            used += held[i];
        }
        final boolean over = used > balloonPolicy.inflateAbove() * capacity;
        for (int i = 0; i < n; i++)
        {
            final int v = state.vmAt(h, i);
            // not migrating; to inflate, not a guest that answered short and has not grown since
            askable[i] = state.migratingTo(v) < 0 && !(over && answeredShort(v));
        }
        final long target = balloonPolicy.decide(capacity, n, held, natural, askable, chosen);
        if (target != BalloonPolicy.NONE)
        {
            answer(state.vmAt(h, chosen[0]), target);
        }
        if (!over)
        {
            return false; // under the band, or brought under by this turn's answer: nothing to hold
        }
        used = 0;
        int canAsk = 0;
        for (int i = 0; i < n; i++)
        {
            final int v = state.vmAt(h, i);
            used += state.memory(v);
            if (state.migratingTo(v) < 0 && !answeredShort(v) && state.memory(v) > 0)
            {
                canAsk++;
            }
        }
        final boolean hold = balloonPolicy.holdsMigrations(capacity, used, canAsk);
        if (hold)
        {
            heldTurns++;
        }
        return hold;
    }

    /**
     * Growth past which a guest that answered short may be asked again: 10 % of the demand it answered at (a
     * trace's demand moves a few % from step to step: a guest re-asked on every wobble would hold its host's
     * migrations turn after turn for nothing).
     */
    static final double REGROWTH = 0.10;

    /** @return whether VM {@code v} answered short and its demand has not grown by {@link #REGROWTH} since. */
    private boolean answeredShort(final int v)
    {
        return shortAt[v] >= 0 && demand[v] <= shortAt[v] * (1 + REGROWTH);
    }

    /**
     * The simulated guest's balloon answers at once (the guest model, a modelling assumption: the traces do
     * not say what a guest could free). Asked to give memory, it gives down to a floor of its demand x
     * (1 - {@link Config#balloonReclaimable}), its cache, and no further: MET if the target is at or above
     * the floor, SHORT if it gave some and stopped at the floor, REFUSED if it is at or below the floor
     * already. Asked to take memory back, it takes it (always met: counted as a deflation): it holds min(demand, target) from then on,
     * its demand again once the target reaches it.
     */
    private void answer(final int v, final long target)
    {
        final double now = state.memory(v);
        final BalloonResult.Outcome outcome;
        if (target < now)
        {
            inflations++;
            final double floor = demand[v] * (1 - reclaimable);
            final double gives = Math.max(target, floor);
            if (gives >= now)
            {
                outcome = BalloonResult.Outcome.REFUSED; // nothing above its floor left to free
                shortAt[v] = demand[v];
            }
            else
            {
                ballooned[v] = gives;
                reclaimedTotal += (long)(now - gives);
                state.balloon(v, gives);
                outcome = gives > target ? BalloonResult.Outcome.SHORT : BalloonResult.Outcome.MET;
                shortAt[v] = outcome == BalloonResult.Outcome.SHORT ? demand[v] : -1;
            }
        }
        else
        {
            deflations++;
            ballooned[v] = target >= demand[v] ? -1 : target;
            final double holds = Math.min(demand[v], target);
            returnedTotal += (long)Math.max(0, holds - now);
            state.balloon(v, holds);
            shortAt[v] = -1; // given room again: it may be asked anew
            return; // taking memory back always succeeds: counted as deflations, not by outcome
        }
        outcomes.merge(outcome, 1L, Long::sum);
    }

    /** The balloon's figures at the end of a step: the memory its balloons hold out now, guests below their floor. */
    private void balloonStep()
    {
        if (balloonPolicy == null)
        {
            return;
        }
        long out = 0;
        for (int v = 0; v < vms; v++)
        {
            out += (long)Math.max(0, demand[v] - state.memory(v));
            if (ballooned[v] >= 0 && ballooned[v] < demand[v] * (1 - reclaimable))
            {
                belowFloorVmSteps++; // its demand grew past what its balloon leaves it, beyond its cache: it pages
            }
        }
        reclaimedPeak = Math.max(reclaimedPeak, out);
    }

    /** Without turns in periods (greedy, none): each host's balloon turn, once a balance period. */
    private void balloonTurns()
    {
        if (balloonPolicy == null)
        {
            return;
        }
        for (int h = 0; h < active; h++)
        {
            holding[h] = !draining(h) && balloonTurn(h);
        }
    }

    private void balance()
    {
        switch (config.policy)
        {
            case NONE:
                drainTurns(); // drained whether balancing is on or not, as in the runtime
                for (int k = 0; k < config.roundsPerStep; k++)
                {
                    balloonTurns();
                }
                timeFill(config.roundsPerStep);
                countBroken();
                return;
            case GREEDY:
                drainTurns();
                for (int h = 0; h < active; h++)
                {
                    if (!draining(h))
                    {
                        repair(h); // each host's repair turn, then greedy's moves for the step
                    }
                }
                balloonTurns(); // then their balloon turns: a host holding its migrations sheds nothing to greedy
                greedy();
                timeFill(config.roundsPerStep); // greedy's step counts as a step's periods
                countBroken();
                return;
            case RANDOM_PAIR:
            default:
                takeTurns();
        }
    }

    /**
     * Each host exchanges when its turn comes, as in the runtime: once each balance period (1 /
     * roundsPerStep of a step), at the {@link Exchange#turnPhase} it draws from its load when the
     * period starts. Within a period the turns run in the order of their phases.
     */
    private void takeTurns()
    {
        final double period = 1.0 / config.roundsPerStep;
        final double[] observed = state.observedLoads();
        for (int k = 0; k < config.roundsPerStep; k++)
        {
            clock = (long)step * config.roundsPerStep + k;
            final double start = step + k * period;
            for (int h = 0; h < active; h++)
            {
                nextTurn[h] = start + period * exchanges[h].turnPhase(observed[h]);
                turns[h] = h;
            }
            for (int i = active / 2 - 1; i >= 0; i--)
            {
                siftDown(i);
            }
            for (int n = 0; n < active; n++)
            {
                final int h = turns[0];
                nextTurn[h] = Double.POSITIVE_INFINITY; // taken: sinks below every turn still due
                siftDown(0);
                if (draining(h))
                {
                    evacuate(h); // as the runtime's host: a draining host's turn moves its VMs away instead
                    continue;
                }
                repair(h); // as the runtime's host: mend the rules its VMs break, then exchange
                if (balloonPolicy != null)
                {
                    holding[h] = balloonTurn(h); // its balloon turn first: while it holds, no shedding by migration
                    if (holding[h] && !exchanges[h].quiet(clock))
                    {
                        continue; // its exchange skipped (a quiet period's turn only gossips: it still does)
                    }
                }
                exchanges[h].run(state.as(h), clock, actions);
                if (pullFrom >= 0)
                {
                    // the heavy host sheds to the light one that asked, once the asker's exchange is over
                    final int heavy = pullFrom;
                    pullFrom = -1;
                    if (!holding[heavy])
                    {
                        exchanges[heavy].pulled(state.as(heavy), clock, actions, h, pullerLoad);
                    }
                }
            }
            timeFill(1);
            countBroken();
        }
    }

    /** Without turns in periods (greedy, none): each draining host's drain turns of the step's periods. */
    private void drainTurns()
    {
        if (!anyDrain)
        {
            return;
        }
        for (int k = 0; k < config.roundsPerStep; k++)
        {
            for (int h = 0; h < active; h++)
            {
                if (draining(h))
                {
                    evacuate(h);
                }
            }
        }
    }

    /** Host {@code h}'s repair turn ({@link Repair}, the runtime's); none in a dry run, where nothing moves. */
    private void repair(final int h)
    {
        if (inForce.ruleCount() > 0 && !balance.dryRun)
        {
            final SimulatedHosts view = state.as(h);
            repairs += Repair.run(inForce, view, where, null, Repair.budget(balance, view.inFlight()), actions);
        }
    }

    private void siftDown(final int from)
    {
        int i = from;
        final int host = turns[i];
        final double key = nextTurn[host];
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= active)
            {
                break;
            }
            if (child + 1 < active && nextTurn[turns[child + 1]] < nextTurn[turns[child]])
            {
                child++;
            }
            if (nextTurn[turns[child]] >= key)
            {
                break;
            }
            turns[i] = turns[child];
            i = child;
        }
        turns[i] = host;
    }

    /** What an exchange does in the simulation: shares arrive at once, migrations take their steps. */
    private final class SimActions implements Exchange.Actions
    {
        @Override
        public double shareMean(final int peer, final double estimate)
        {
            return exchanges[peer].mean().receive(estimate); // answered at once
        }

        @Override
        public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
        {
            Simulator.this.migrate((int)vmId, peer);
        }

        @Override
        public void gossip(final int peer, final LoadTable table)
        {
            final Exchange contact = exchanges[peer];
            contact.ownFigure(peer, state.observedLoads()[peer], clock); // as a runtime host does when gossip arrives
            contact.table().exchange(table); // push-pull, answered at once
        }

        @Override
        public void pull(final int heavy, final double ownLoad)
        {
            pullFrom = heavy;
            pullerLoad = ownLoad;
        }

        @Override
        public void decided(final BalanceDecision decision, final int moves, final long firstVm)
        {
            decisionsRecorded++;
            if (decisions.size() < config.keepDecisions && (moves > 0 || decisions.size() < config.keepDecisions / 2))
            {
                decisions.add(decision);
            }
        }
    }

    private void greedy()
    {
        // All-pairs prior art: always the global maximum and minimum, as long as a move lowers their gap.
        final double[] observed = state.observedLoads();
        final long cap = Math.max(vms, 1);
        for (long moves = 0; moves < cap; moves++)
        {
            int max = -1;
            int min = -1;
            for (int h = 0; h < active; h++)
            {
                if (draining(h))
                {
                    continue; // drained: its own turns empty it, and it takes nothing
                }
                if (!holding[h] && (max < 0 || observed[h] > observed[max]))
                {
                    max = h;
                }
                if (min < 0 || observed[h] < observed[min])
                {
                    min = h;
                }
            }
            if (max < 0)
            {
                return; // every host holds its migrations for its balloons
            }
            final double difference = observed[max] - observed[min];
            int best = -1;
            double bestAfter = difference;
            for (int i = 0, n = state.count(max); i < n; i++)
            {
                final int v = state.vmAt(max, i);
                if (state.migratingTo(v) >= 0 || guard.refuses(state.as(max), i, min) != null)
                {
                    continue; // the exchange's own check of the rules
                }
                final double after = Math.abs(difference - state.observedLoad(v, max) - state.observedLoad(v, min));
                if (after < bestAfter)
                {
                    bestAfter = after;
                    best = v;
                }
            }
            if (best < 0)
            {
                return;
            }
            greedyExchanges++;
            migrate(best, min);
        }
    }

    /** A VM lands: both hosts' mean estimates keep the move out (a migration does not change the mean). */
    private void arrive(final int v, final int to)
    {
        final int from = state.hostOf(v);
        final double out = state.observedLoad(v, from);
        final double in = state.observedLoad(v, to);
        state.arrive(v, to, clock);
        exchanges[from].mean().moved(-out);
        exchanges[to].mean().moved(in);
    }

    private void migrate(final int v, final int peer)
    {
        migrations++;
        if (config.migrationSteps == 0)
        {
            arrive(v, peer);
        }
        else
        {
            state.depart(v, peer);
            migrationDoneAt[v] = step + config.migrationSteps;
            inMigration.add(v);
        }
    }

    private void completeMigrations()
    {
        for (int i = inMigration.size() - 1; i >= 0; i--)
        {
            final int v = inMigration.get(i);
            if (migrationDoneAt[v] <= step)
            {
                final int to = state.migratingTo(v);
                inMigration.remove(i);
                // the target checks the hard rules again as the VM arrives, as the runtime's does (and a
                // drained target takes none)
                if (inForce.closed(to) ||
                    inForce.hardRuleCount() > 0 && inForce.breaks(inForce.rulesOf(v), v, to, where, false, true) >= 0)
                {
                    state.cancel(v);
                    refusedOnArrival++;
                    continue;
                }
                arrive(v, to);
            }
        }
    }
}

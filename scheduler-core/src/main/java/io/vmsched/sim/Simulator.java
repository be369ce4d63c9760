package io.vmsched.sim;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Candidates;
import io.vmsched.balance.PeerSelector;
import io.vmsched.balance.Rejection;
import io.vmsched.balance.VmSelector;
import io.vmsched.load.ClusterStats;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * A deterministic discrete-time simulator of a cluster balanced by the same decision code as the
 * runtime ({@link VmSelector}, {@link PeerSelector}). Each step: every VM takes its usage for the
 * step, its observed (smoothed) usage is updated, then {@code roundsPerStep} rounds run in which
 * every host, in a random order, performs one exchange; at the end of the step the coefficient of
 * variation of the hosts' actual loads is recorded.
 * <p>
 * The hosts also average an estimate of the cluster's mean load with each peer they meet (push-sum
 * gossip: each host's own load changes are added to its estimate, so the estimates always sum to
 * the total load and pairwise averaging draws each towards the mean); the threshold and minimum
 * gain are fractions of that estimate.
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

    /** In which order the hosts of a round take their turn. */
    public enum Order
    {
        /** A seeded random order each round: every host's period has the same length, with jitter. */
        RANDOM,
        /**
         * Most loaded first: the discrete form of a period that shortens with the host's excess load
         * (an overloaded host exchanges sooner than one near the mean).
         */
        LOAD;

        /**
         * @param text {@code random} or {@code load}.
         * @return the order.
         */
        public static Order parse(final String text)
        {
            switch (text)
            {
                case "random": return RANDOM;
                case "load": return LOAD;
                default: throw new IllegalArgumentException("unknown --order '" + text + "': expected random or load");
            }
        }
    }

    /** Coefficient of variation at or below which the cluster counts as balanced. */
    public static final double CONVERGED_CV = 0.05;

    /** Settings of a run. */
    public static final class Config
    {
        /** Policy. */
        public Policy policy = Policy.RANDOM_PAIR;
        /** Number of hosts, at least 2 for a balancing policy. */
        public int hosts;
        /** Steps to run; 0 = the workload's length, or until converged (up to {@link #maxSteps}) if static. */
        public int steps;
        /** Cap on steps when running until converged. */
        public int maxSteps = 200;
        /** Exchange rounds per step. */
        public int roundsPerStep = 1;
        /** Order of the hosts' turns within a round. */
        public Order order = Order.RANDOM;
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
         * The plain settings of the claims: one round per step, one random peer, threshold 10 % and
         * minimum gain 2 % of the mean, up to 4 moves per exchange. The defaults for static loads.
         *
         * @return a new config with these settings (hosts still to set).
         */
        public static Config claims()
        {
            return new Config();
        }

        /**
         * The defaults for traces, where loads change every step and every move that chases noise is
         * a migration wasted: 16 exchange rounds per trace interval; the most loaded hosts take their
         * turn first; a host sheds only while it is above the gossiped mean, to the least loaded of
         * 128 sampled peers, one VM per exchange, when the pair differs by more than 25 % of the mean
         * and the move gains at least 10 %, both scaled by {@code (hosts / 100) ^ 0.4} (a larger
         * cluster asks more of each move). Chosen against greedy on the PlanetLab day and stand-ins
         * for the other days of its set (their VM counts, 898 to 1,516), each averaged over ten
         * seeds; the README has the table.
         *
         * @return a new config with these settings (hosts still to set).
         */
        public static Config traces()
        {
            final Config config = new Config();
            config.roundsPerStep = 16;
            config.order = Order.LOAD;
            config.balance.shedOnlyAboveMean = true;
            config.balance.sourceExcessFraction = 0.0;
            config.balance.thresholdFraction = 0.25;
            config.balance.minGainFraction = 0.10;
            config.balance.sizeExponent = 0.4;
            config.balance.referenceHosts = 100;
            config.balance.peerChoices = 128;
            config.balance.maxMovesPerExchange = 1;
            return config;
        }
    }

    private final Config config;
    private final Workload workload;
    private final int[] initialHost;
    private final int hosts;
    private final int vms;
    private final LoadModel model;
    private final BalanceConfig balance; // as it applies to this cluster's size
    private final PeerSelector peers;
    private final SplittableRandom random;

    // placement
    private final int[] vmHost;
    private final int[][] hostVms;
    private final int[] hostCount;
    private final int[] vmPos;
    // per-VM usage: raw this step, observed (smoothed), volatility
    private final double[] cpu;
    private final double[] io;
    private final double[] mem;
    private final double[] sCpu;
    private final double[] sIo;
    private final double[] sMem;
    private final double[] volatility;
    private final double[] lastLoad;
    private static final double VOLATILITY_ALPHA = 0.1;
    // per-host weighted inverse capacities: load of usage on host h = cpu*wc[h] + io*wi[h] + mem*wm[h]
    private final double[] wc;
    private final double[] wi;
    private final double[] wm;
    private final double[] actual;
    private final double[] observed;
    private final double[] meanEstimate;
    private final int[] inFlight;
    // migration guards
    private final int[] arrivedAt;
    private final int[] leftHost;
    private final int[] leftAt;
    private final int[] migratingTo;
    private final int[] migrationDoneAt;
    private final List<Integer> inMigration = new ArrayList<>();

    // scratch for one exchange
    private final Candidates candidates = new Candidates(); // one exchange's, reused

    private Integer[] turnOrder;
    private java.util.Comparator<Integer> byObservedLoadDescending;

    private int step;
    private long migrations;
    private long exchanges;
    private final List<BalanceDecision> decisions = new ArrayList<>();
    private long decisionsRecorded;

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
        this.hosts = config.hosts;
        this.vms = workload.vms();
        this.model = new LoadModel(workload.weights());
        this.balance = config.balance.forHosts(config.hosts);
        this.peers = new PeerSelector(config.seed);
        this.random = new SplittableRandom(config.seed ^ 0x5DEECE66DL);

        vmHost = new int[vms];
        hostVms = new int[hosts][];
        hostCount = new int[hosts];
        vmPos = new int[vms];
        cpu = new double[vms];
        io = new double[vms];
        mem = new double[vms];
        sCpu = new double[vms];
        sIo = new double[vms];
        sMem = new double[vms];
        volatility = new double[vms];
        lastLoad = new double[vms];
        wc = new double[hosts];
        wi = new double[hosts];
        wm = new double[hosts];
        actual = new double[hosts];
        observed = new double[hosts];
        meanEstimate = new double[hosts];
        inFlight = new int[hosts];
        arrivedAt = new int[vms];
        leftHost = new int[vms];
        leftAt = new int[vms];
        migratingTo = new int[vms];
        migrationDoneAt = new int[vms];

        final HostCapacity reference = workload.hostCapacity();
        for (int h = 0; h < hosts; h++)
        {
            final double scale = config.hostScales[h % config.hostScales.length];
            final HostCapacity capacity = new HostCapacity(reference.cores(), reference.coreSpeed() * scale,
                reference.ioBytesPerSecond() * scale, reference.memoryBytes() * scale);
            wc[h] = model.cpuWeight() / capacity.cpuCapacity();
            wi[h] = model.ioWeight() / capacity.ioBytesPerSecond();
            wm[h] = model.memoryWeight() / capacity.memoryBytes();
            hostVms[h] = new int[8];
        }
        Arrays.fill(leftHost, -1);
        Arrays.fill(migratingTo, -1);
        for (int v = 0; v < vms; v++)
        {
            final int h = initialHost[v];
            if (h < 0 || h >= hosts)
            {
                throw new IllegalArgumentException("vm " + v + " placed on host " + h + " of " + hosts);
            }
            add(v, h);
        }
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
        double initialCv = 0;
        double initialMaxOverMean = 0;
        long lowerBound = 0;
        int converged = -1;
        int ran = 0;

        for (step = 0; step < steps; step++)
        {
            sample();
            completeMigrations();
            recomputeHostLoads();
            if (step == 0)
            {
                initialCv = ClusterStats.cv(actual);
                initialMaxOverMean = ClusterStats.maxOverMean(actual);
                lowerBound = ClusterStats.lowerBound(actual, CONVERGED_CV);
                // The hosts have gossiped before the run starts: every estimate begins at the true mean.
                double total = 0;
                for (int h = 0; h < hosts; h++)
                {
                    total += observed[h];
                }
                Arrays.fill(meanEstimate, total / hosts);
            }
            balance();
            cvs[step] = ClusterStats.cv(actual);
            ran = step + 1;
            if (converged < 0 && cvs[step] <= CONVERGED_CV)
            {
                converged = step + 1;
            }
            if (progress != null)
            {
                progress.accept(step + 1);
            }
            if (untilConverged && converged > 0)
            {
                break;
            }
        }

        long displaced = 0;
        for (int v = 0; v < vms; v++)
        {
            final int host = migratingTo[v] >= 0 ? migratingTo[v] : vmHost[v];
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
        return new SimulationResult(hosts, vms, ran, config.policy.toString(), migrations, displaced, initialCv,
            cvs[ran - 1], meanCv, initialMaxOverMean, ClusterStats.maxOverMean(actual), converged < 0 ? null : converged,
            lowerBound, exchanges, (System.nanoTime() - start) / 1_000_000, Arrays.copyOf(cvs, ran),
            decisionsRecorded, List.copyOf(decisions));
    }

    private void sample()
    {
        final double alpha = LoadModel.Smoother.alpha(config.smoothingWindow);
        final boolean dynamic = workload.steps() > 1 || step == 0;
        if (!dynamic)
        {
            return;
        }
        for (int v = 0; v < vms; v++)
        {
            cpu[v] = workload.cpu(v, step);
            io[v] = workload.io(v, step);
            mem[v] = workload.memory(v, step);
            if (step == 0)
            {
                sCpu[v] = cpu[v];
                sIo[v] = io[v];
                sMem[v] = mem[v];
            }
            else
            {
                sCpu[v] += alpha * (cpu[v] - sCpu[v]);
                sIo[v] += alpha * (io[v] - sIo[v]);
                sMem[v] += alpha * (mem[v] - sMem[v]);
            }
            // volatility on the reference host: a moving average of the step-to-step change of its load
            final double now = load(cpu[v], io[v], mem[v], 0);
            volatility[v] = step == 0 ? 0 : volatility[v] + VOLATILITY_ALPHA * (Math.abs(now - lastLoad[v]) - volatility[v]);
            lastLoad[v] = now;
        }
    }

    private double load(final double c, final double i, final double m, final int host)
    {
        return c * wc[host] + i * wi[host] + m * wm[host];
    }

    private double actualLoad(final int v, final int host)
    {
        return load(cpu[v], io[v], mem[v], host);
    }

    private double observedLoad(final int v, final int host)
    {
        return load(sCpu[v], sIo[v], sMem[v], host);
    }

    private void recomputeHostLoads()
    {
        for (int h = 0; h < hosts; h++)
        {
            double a = 0;
            double o = 0;
            final int[] list = hostVms[h];
            for (int i = 0; i < hostCount[h]; i++)
            {
                a += actualLoad(list[i], h);
                o += observedLoad(list[i], h);
            }
            actual[h] = a;
            if (step > 0)
            {
                meanEstimate[h] += o - observed[h]; // push-sum: each host adds its own change
            }
            observed[h] = o;
        }
    }

    private void balance()
    {
        switch (config.policy)
        {
            case NONE:
                return;
            case GREEDY:
                greedy();
                return;
            case RANDOM_PAIR:
            default:
                final int[] order = new int[hosts];
                for (int round = 0; round < config.roundsPerStep; round++)
                {
                    for (int h = 0; h < hosts; h++)
                    {
                        order[h] = h;
                    }
                    for (int i = hosts - 1; i > 0; i--)
                    {
                        final int j = random.nextInt(i + 1);
                        final int t = order[i];
                        order[i] = order[j];
                        order[j] = t;
                    }
                    if (config.order == Order.LOAD)
                    {
                        sortByObservedLoadDescending(order);
                    }
                    for (final int h : order)
                    {
                        exchange(h);
                    }
                }
        }
    }

    private void sortByObservedLoadDescending(final int[] order)
    {
        // stable sort: ties keep the shuffled order, so equal hosts still take turns at random
        if (turnOrder == null)
        {
            turnOrder = new Integer[hosts];
            byObservedLoadDescending = (a, b) -> Double.compare(observed[b], observed[a]);
        }
        for (int i = 0; i < hosts; i++)
        {
            turnOrder[i] = order[i]; // host ids below 128 are cached boxes; the rest box once a round
        }
        Arrays.sort(turnOrder, byObservedLoadDescending);
        for (int i = 0; i < hosts; i++)
        {
            order[i] = turnOrder[i];
        }
    }

    private void exchange(final int source)
    {
        final int peer = balance.peerChoices > 1 ?
            peers.pickLeastLoaded(source, hosts, balance.peerChoices, observed) : peers.pick(source, hosts);
        exchanges++;
        final double averaged = (meanEstimate[source] + meanEstimate[peer]) * 0.5;
        meanEstimate[source] = averaged;
        meanEstimate[peer] = averaged;
        final double mean = Math.max(averaged, 1e-12);

        final boolean record = balance.dryRun; // a dry run records every exchange, with its reason
        final int limit = balance.movesAllowed(inFlight[source]);
        if (!record && (limit < 0 || !VmSelector.worthExchanging(balance, observed[source], observed[peer], mean)))
        {
            return;
        }

        final int count = hostCount[source];
        final Candidates c = candidates.ensure(count);
        final long[] ids = c.ids;
        final double[] onSource = c.onSource;
        final double[] onPeer = c.onPeer;
        final Rejection[] blocked = c.blocked;
        final int[] chosen = c.chosen;
        final double[] vol = c.volatility;
        final int[] list = hostVms[source];
        for (int i = 0; i < count; i++)
        {
            final int v = list[i];
            ids[i] = v;
            onSource[i] = observedLoad(v, source);
            onPeer[i] = observedLoad(v, peer);
            vol[i] = volatility[v];
            if (migratingTo[v] >= 0)
            {
                blocked[i] = Rejection.MIGRATING;
            }
            else if (step - arrivedAt[v] < balance.minResidency && arrivedAt[v] > 0)
            {
                blocked[i] = Rejection.RESIDENCY;
            }
            else if (leftHost[v] == peer && step - leftAt[v] < balance.pingPongGuard)
            {
                blocked[i] = Rejection.PING_PONG;
            }
            else
            {
                blocked[i] = Rejection.NONE;
            }
        }
        final BalanceDecision decision = record ?
            new BalanceDecision(source, peer, observed[source], observed[peer], balance.thresholdFraction * mean) : null;
        final int moves = VmSelector.select(balance, observed[source], observed[peer], mean, count, ids, onSource,
            onPeer, vol, blocked, limit, chosen, decision);
        if (record)
        {
            decisionsRecorded++;
            if (decisions.size() < config.keepDecisions && (moves > 0 || decisions.size() < config.keepDecisions / 2))
            {
                decisions.add(decision);
            }
            return;
        }
        // indices refer to the list as it was: resolve VM ids before the list changes
        for (int i = 0; i < moves; i++)
        {
            chosen[i] = (int)ids[chosen[i]];
        }
        for (int i = 0; i < moves; i++)
        {
            migrate(chosen[i], source, peer);
        }
    }

    private void greedy()
    {
        // All-pairs prior art: always the global maximum and minimum, as long as a move lowers their gap.
        final long cap = Math.max(vms, 1);
        for (long moves = 0; moves < cap; moves++)
        {
            int max = 0;
            int min = 0;
            for (int h = 1; h < hosts; h++)
            {
                if (observed[h] > observed[max])
                {
                    max = h;
                }
                if (observed[h] < observed[min])
                {
                    min = h;
                }
            }
            final double difference = observed[max] - observed[min];
            int best = -1;
            double bestAfter = difference;
            final int[] list = hostVms[max];
            for (int i = 0; i < hostCount[max]; i++)
            {
                final int v = list[i];
                if (migratingTo[v] >= 0)
                {
                    continue;
                }
                final double after = Math.abs(difference - observedLoad(v, max) - observedLoad(v, min));
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
            exchanges++;
            migrate(best, max, min);
        }
    }

    private void migrate(final int v, final int source, final int peer)
    {
        migrations++;
        leftHost[v] = source;
        leftAt[v] = step;
        if (config.migrationSteps == 0)
        {
            move(v, source, peer);
        }
        else
        {
            migratingTo[v] = peer;
            migrationDoneAt[v] = step + config.migrationSteps;
            inFlight[source]++;
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
                final int source = vmHost[v];
                inFlight[source]--;
                move(v, source, migratingTo[v]);
                migratingTo[v] = -1;
                inMigration.remove(i);
            }
        }
    }

    private void move(final int v, final int source, final int peer)
    {
        final double observedOut = observedLoad(v, source);
        final double observedIn = observedLoad(v, peer);
        remove(v, source);
        add(v, peer);
        actual[source] -= actualLoad(v, source);
        actual[peer] += actualLoad(v, peer);
        observed[source] -= observedOut;
        observed[peer] += observedIn;
        meanEstimate[source] -= observedOut;
        meanEstimate[peer] += observedIn;
        arrivedAt[v] = step;
    }

    private void add(final int v, final int h)
    {
        if (hostCount[h] == hostVms[h].length)
        {
            hostVms[h] = Arrays.copyOf(hostVms[h], hostVms[h].length * 2);
        }
        vmPos[v] = hostCount[h];
        hostVms[h][hostCount[h]++] = v;
        vmHost[v] = h;
    }

    private void remove(final int v, final int h)
    {
        final int pos = vmPos[v];
        final int last = hostVms[h][--hostCount[h]];
        hostVms[h][pos] = last;
        vmPos[last] = pos;
    }
}

package io.vmsched.bench;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Exchange;
import io.vmsched.balance.HostView;
import io.vmsched.balance.PeerSelector;
import io.vmsched.placement.Constraints;
import io.vmsched.placement.ExchangeGuard;
import io.vmsched.placement.Placement;
import io.vmsched.placement.Rule;
import io.vmsched.balance.Rejection;
import io.vmsched.balance.VmSelector;
import io.vmsched.sim.SimulationResult;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.SyntheticWorkload;
import io.vmsched.sim.Workload;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The balancer's cost:
 * <ul>
 *     <li>{@code exchange}: one host's {@link Exchange}, as the runtime's agent and the simulator run it:
 *     peer pick, the mean estimate's averaging, the gate, every candidate's guards, and the VM nearest
 *     half the difference among its {@code vmsPerHost} candidates (what a host does each period);</li>
 *     <li>{@code select}: the selection alone ({@link VmSelector#select} over candidates already
 *     gathered), as this benchmark measured {@code exchange} before the exchange was one class;</li>
 *     <li>{@code exchangeWithRules}: the same exchange with 100 placement rules in force (hard anti-affinity
 *     pairs and soft affinity pairs with VMs on other hosts, hard on-label rules: {@link RuledHost}), every
 *     candidate checked by {@link Constraints#breaks} as the runtime's {@code HostBalancer} checks it; its
 *     ratio to {@code exchange} is the rules' cost (target: at most 2x, and 0 B/op);</li>
 *     <li>{@code simulateStep}: one whole simulator step of 10,000 hosts and 200,000 VMs (every host
 *     performs one exchange), in milliseconds;</li>
 *     <li>{@code baselineNearestScan}: the same peer pick and one bare scan for the load nearest half
 *     the difference, with none of the selector's guards, gate or record: the floor the selector's
 *     cost is measured against.</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar BalanceBenchmark -prof gc}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
public class BalanceBenchmark
{
    /** One host of a 10,000-host cluster, as the exchange sees it. */
    @State(Scope.Thread)
    public static class Host implements HostView, Exchange.Actions
    {
        @Param({ "20", "200" })
        int vmsPerHost;

        final PeerSelector peers = new PeerSelector(1);
        Exchange exchange;
        BalanceConfig config;
        double[] hostLoads;
        double[] onSource;
        Rejection[] blocked;
        int[] chosen;
        int moves;

        @Setup(Level.Trial)
        public void setup()
        {
            final SplittableRandom random = new SplittableRandom(3);
            hostLoads = new double[10_000];
            for (int i = 0; i < hostLoads.length; i++)
            {
                hostLoads[i] = 0.5 + 0.3 * random.nextDouble();
            }
            hostLoads[7] = 1.0; // the exchanging host: above every peer, so every exchange passes its gate
            onSource = new double[vmsPerHost];
            for (int i = 0; i < vmsPerHost; i++)
            {
                onSource[i] = 1.0 / vmsPerHost * 2 * random.nextDouble();
            }
            blocked = new Rejection[vmsPerHost];
            chosen = new int[vmsPerHost];
            config = new BalanceConfig();
            config.maxMovesPerExchange = 1;
            exchange = new Exchange(config.forHosts(hostLoads.length), 1, Exchange.seedFor(1, 7), false);
        }

        @Override
        public int hostId()
        {
            return 7;
        }

        @Override
        public int hosts()
        {
            return hostLoads.length;
        }

        @Override
        public double load()
        {
            return 1.0;
        }

        @Override
        public double peerLoad(final int host)
        {
            return hostLoads[host];
        }

        @Override
        public int inFlight()
        {
            return 0;
        }

        @Override
        public int vmCount()
        {
            return vmsPerHost;
        }

        @Override
        public long vmId(final int vm)
        {
            return vm;
        }

        @Override
        public double vmLoad(final int vm)
        {
            return onSource[vm];
        }

        @Override
        public double vmLoadOn(final int vm, final int host)
        {
            return onSource[vm];
        }

        @Override
        public double volatility(final int vm)
        {
            return 0;
        }

        @Override
        public int movingTo(final int vm)
        {
            return -1;
        }

        @Override
        public boolean pinned(final int vm)
        {
            return false;
        }

        @Override
        public long arrivedAt(final int vm)
        {
            return NEVER;
        }

        @Override
        public int cameFrom(final int vm)
        {
            return -1;
        }

        @Override
        public double shareMean(final int peer, final double estimate)
        {
            return Double.NaN;
        }

        @Override
        public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
        {
            moves++; // the benchmark keeps the host as it is: every exchange decides from the same state
        }

        @Override
        public void decided(final BalanceDecision decision, final int moves, final long firstVm)
        {
        }
    }

    /**
     * The same host with 100 rules in force, cycling over this host's VMs: 50 hard anti-affinity pairs of a
     * VM here and a VM on a random other host, 25 hard rules keeping VMs on hosts labelled {@code a} (the
     * even ones), 20 soft rules keeping VMs off hosts labelled {@code b} (a quarter), 5 soft affinity pairs of
     * two VMs here.
     */
    @State(Scope.Thread)
    public static class RuledHost extends Host
    {
        static final long ELSEWHERE = 1_000_000;
        Constraints constraints;
        int[] otherHost;
        final Constraints.Locator where = vm -> vm >= ELSEWHERE ? otherHost[(int)(vm - ELSEWHERE)] : 7;

        @Setup(Level.Trial)
        public void rules()
        {
            // 100 rules on this host's VMs (each of 20 VMs in 5, half of 200 VMs in one): 50 hard anti-affinity
            // pairs with a VM on another host, 25 hard on-label "a" (half the hosts carry it), 20 soft
            // off-label "b" (a quarter do), 5 soft affinity pairs of two VMs of this host (they hold here)
            final SplittableRandom random = new SplittableRandom(5);
            final Placement placement = new Placement();
            for (int h = 0; h < hostLoads.length; h++)
            {
                placement.hostLabels(h, (h & 1) == 0 ? Set.of("a") : (h & 3) == 1 ? Set.of("b") : Set.of());
            }
            otherHost = new int[50];
            for (int i = 0; i < otherHost.length; i++)
            {
                otherHost[i] = 8 + random.nextInt(hostLoads.length - 8);
            }
            for (int r = 0; r < 100; r++)
            {
                final long here = r % vmsPerHost;
                if (r < 50)
                {
                    placement.addRule(Rule.antiAffinity("apart-" + r, true, here, ELSEWHERE + r));
                }
                else if (r < 75)
                {
                    placement.addRule(Rule.hostLabel("on-a-" + r, Rule.Kind.ON_LABEL, true, "a", here));
                }
                else if (r < 95)
                {
                    placement.addRule(Rule.hostLabel("off-b-" + r, Rule.Kind.OFF_LABEL, false, "b", here));
                }
                else
                {
                    placement.addRule(Rule.affinity("with-" + r, false, here, (here + 1) % vmsPerHost));
                }
            }
            constraints = placement.constraints();
            exchange.rule(new ExchangeGuard(() -> constraints, where, null)); // the runtime's and the simulator's check
        }
    }

    /** A 10,000-host, 200,000-VM simulation to step through. */
    @State(Scope.Benchmark)
    public static class Cluster
    {
        Simulator simulator;
        Workload workload;
        Simulator.Config config;

        @Setup(Level.Trial)
        public void workload()
        {
            workload = SyntheticWorkload.staticLoads(200_000, "lognormal", 1);
            config = new Simulator.Config();
            config.hosts = 10_000;
            config.steps = 1;
        }

        @Setup(Level.Invocation)
        public void simulator()
        {
            // built outside the measurement: the benchmark times the step, not the set-up
            simulator = new Simulator(config, workload, Simulator.placement("random", workload.vms(), config.hosts, 1));
            System.gc(); // collect the last invocation's simulator here, not during the timed step
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int exchange(final Host host)
    {
        return host.exchange.run(host, 1_000, host);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int exchangeWithRules(final RuledHost host)
    {
        return host.exchange.run(host, 1_000, host);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int select(final Host state)
    {
        final int peer = state.peers.pick(7, state.hostLoads.length);
        Arrays.fill(state.blocked, Rejection.NONE);
        return VmSelector.select(state.config, 1.0, state.hostLoads[peer], 0.65, state.vmsPerHost, null,
            state.onSource, state.onSource, null, state.blocked, 1, state.chosen, null);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int baselineNearestScan(final Host state)
    {
        final int peer = state.peers.pick(7, state.hostLoads.length);
        final double half = (1.0 - state.hostLoads[peer]) / 2;
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int i = 0; i < state.vmsPerHost; i++)
        {
            final double distance = Math.abs(state.onSource[i] - half);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = i;
            }
        }
        return best;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public SimulationResult simulateStep(final Cluster state)
    {
        // one step from a random placement: sample usage, one exchange per host, the CV
        return state.simulator.run(null);
    }
}
